"""The run controller without any UI: a fake engine records the commands, a fake listener what
the screen would be told."""

import json
import subprocess
import sys

import pytest

from tui_trainer.app.controller import Notice, RunController, announcement
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState, StateChanged
from tui_trainer.engine import protocol as p
from tui_trainer.engine.host import EngineDied


class FakeProcess:
    def __init__(self) -> None:
        self.pid: int | None = 1234


class FakeEngine:
    def __init__(self, fail_with: str | None = None) -> None:
        self.process = FakeProcess()
        self.alive = True
        self.sent: list = []
        self.closed = False
        self.fail_with = fail_with

    def send(self, command) -> None:
        if self.fail_with:
            raise EngineDied(self.fail_with)
        self.sent.append(command)

    def close(self) -> None:
        self.closed = True


class Screen:
    """What a screen would be told."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.changes: list = []
        self.device: str | None = None
        self.redraws = 0
        self.lessons: list = []

    def run_state_changed(self, view) -> None:
        self.changes.append(view)

    def tell(self, notice: Notice) -> None:
        self.notices.append(notice)

    def device_known(self, device: str) -> None:
        self.device = device

    def views_changed(self) -> None:
        self.redraws += 1

    def lesson_shown(self, shown) -> None:
        self.lessons.append(shown)


@pytest.fixture
def engines() -> list[FakeEngine]:
    return []


@pytest.fixture
def controller(engines) -> RunController:
    def new_engine() -> FakeEngine:
        engines.append(FakeEngine())
        return engines[-1]

    made = RunController(new_engine)
    made.listener = Screen()
    return made


CONFIG = RunConfig()


def state(run_id: int, new: RunState, message: str = "") -> p.Batch:
    return p.Batch(run_id, [StateChanged(new, message)])


def test_it_imports_no_textual_and_no_rich():
    code = "import json, sys, tui_trainer.app.controller; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert not [name for name in loaded if name.split(".")[0] in ("textual", "rich")]


def test_a_start_gets_a_fresh_id_and_the_engine_the_command(controller, engines):
    assert controller.start(CONFIG)
    assert controller.start(CONFIG)
    starts = [c for c in engines[0].sent if isinstance(c, p.Start)]
    assert [c.run_id for c in starts] == [1, 2] and controller.run_id == 2
    assert controller.view.state is RunState.RUNNING and controller.view.message == "starting…"
    assert controller.listener.changes == [controller.view, controller.view]


def test_a_paused_start_waits(controller, engines):
    controller.start(CONFIG, paused=True)
    assert controller.view.state is RunState.PAUSED
    assert engines[0].sent[-1] == p.Start(1, CONFIG, paused=True)


def test_a_run_and_a_race_share_one_counter_so_a_batch_belongs_to_one(controller, engines):
    controller.start(CONFIG)
    controller.race_selected = True
    controller.start(CONFIG, race_spec="sgd,adam")
    assert (controller.run_id, controller.race_id) == (1, 2)
    controller.receive(state(2, RunState.PAUSED))
    assert controller.race_view.state is RunState.PAUSED and controller.view.state is RunState.RUNNING


def test_while_a_run_goes_nothing_else_may_start_and_the_refusal_says_where(controller):
    assert controller.busy() is None
    controller.start(CONFIG)
    assert controller.refuse_while_running()
    assert controller.listener.notices[-1] == Notice("A run is going in this view: press r there to reset it first.", severity="warning")
    controller.race_selected = True
    assert controller.busy().message == "A run is going in the Run view: press r there to reset it first."
    controller.reset()  # resets the race, which is idle: the run goes on
    assert controller.view.active


def test_a_race_going_is_named_from_the_run_view(controller):
    controller.race_selected = True
    controller.start(CONFIG, race_spec="sgd")
    controller.race_selected = False
    assert controller.busy().message == "A run is going in the Race view: press r there to reset it first."


def test_a_reset_run_is_stopped_and_its_last_words_dropped(controller, engines):
    controller.start(CONFIG)
    controller.reset()
    assert isinstance(engines[0].sent[-1], p.Stop)
    assert controller.run_id == -1 and controller.view.state is RunState.IDLE
    before = controller.listener.redraws
    controller.receive(state(1, RunState.DONE))  # the old run's last batch, late
    assert controller.view.state is RunState.IDLE and controller.listener.redraws == before
    assert not controller.listener.notices


def test_an_idle_reset_sends_nothing(controller, engines):
    controller.connect()
    controller.reset()
    assert engines[0].sent == []


def test_pause_resume_and_step_follow_the_state(controller, engines):
    controller.step()  # nothing to step: no engine is even started
    assert controller.engine is None
    controller.start(CONFIG)
    controller.toggle_pause()
    controller.receive(state(1, RunState.PAUSED))
    controller.toggle_pause()
    controller.step()
    assert [type(c) for c in engines[0].sent[-3:]] == [p.Pause, p.Resume, p.Step]


def test_a_live_lr_goes_to_a_running_run_only(controller, engines):
    controller.set_lr(0.5)
    assert controller.engine is None and not controller.listener.notices
    controller.start(CONFIG)
    controller.set_lr(0.5)
    assert engines[0].sent[-1] == p.SetLr(0.5)
    assert controller.listener.notices[-1] == Notice("learning rate 0.5 from the next step", timeout=2)


def test_the_end_of_a_run_is_announced_once(controller):
    controller.start(CONFIG)
    controller.receive(state(1, RunState.DIVERGED, "stopped being finite"))
    controller.receive(state(1, RunState.DIVERGED, "stopped being finite"))
    assert controller.listener.notices == [Notice("stopped being finite", "Diverged", "error", 10)]


def test_announcements_of_a_race():
    from tui_trainer.app.race_view import RaceView

    race = RaceView()
    race.state = RunState.DONE
    assert announcement(race, RunState.RUNNING) == Notice("every entry has finished", "Race done")
    assert announcement(race, None) is None  # a race already done when shown is not news
    race.state, race.message = RunState.ERROR, "boom"
    assert announcement(race, RunState.RUNNING) == Notice("boom", "Race error", "error", 10)


def test_a_dead_engine_fails_what_ran_and_the_next_command_starts_another(controller, engines):
    controller.start(CONFIG)
    controller.engine_gone("the trainer process stopped unexpectedly")
    assert engines[0].closed and controller.engine is None
    assert controller.view.state is RunState.ERROR
    assert controller.listener.notices[-1].title == "Error"
    controller.select(race=False, ledger=True)
    controller.start(CONFIG)
    assert len(engines) == 2 and engines[1].sent[0] == p.Ledger(True)


def test_an_engine_found_dead_is_replaced_and_told_about_the_ledger(controller, engines):
    controller.select(race=False, ledger=True)
    engines[0].alive = False
    controller.start(CONFIG)
    assert len(engines) == 2 and engines[1].sent[:2] == [p.Ledger(True), p.Start(1, CONFIG)]


def test_a_send_that_fails_is_an_error_on_the_view_in_hand(engines):
    controller = RunController(lambda: FakeEngine(fail_with="pipe closed"))
    controller.listener = Screen()
    assert not controller.start(CONFIG)
    assert controller.view.state is RunState.ERROR and controller.view.message == "pipe closed"
    assert controller.listener.notices == [Notice("pipe closed", "Error", "error", 10)]


def test_device_news_is_passed_on_without_touching_the_views(controller):
    controller.receive(p.Batch(0, [p.DeviceInfo("cpu")]))
    assert controller.listener.device == "cpu" and controller.listener.redraws == 0


def test_a_race_entry_at_odds_with_the_settings_is_refused_with_the_reason(controller, engines):
    fused = RunConfig.model_validate({"engine": "fused"})
    assert not controller.start(fused, race_spec="sgd,adam:implementation=scratch")
    assert controller.race_id == -1 and controller.race_view.state is RunState.IDLE
    notice = controller.listener.notices[-1]
    assert notice.title == "Cannot race" and "implementation scratch needs engine autograd" in notice.message
    assert not controller.start(CONFIG, race_spec="sgd", spec_problem="adam: lr: must be a number")
    assert controller.listener.notices[-1].message == "adam: lr: must be a number"


def test_experiments_join_the_run_and_impossible_ones_are_refused(controller, engines):
    assert controller.start(CONFIG, experiments={"train_in_eval_mode": True, "forget_zero_grad": False})
    assert engines[0].sent[-1].config.experiments.train_in_eval_mode
    assert not controller.start(CONFIG, experiments={"no_such_lesson": True})
    assert controller.listener.notices[-1].title == "Cannot start"


def test_a_lesson_runs_on_the_run_while_there_is_one_and_only_the_latest_answer_is_shown(controller, engines):
    form = RunConfig.model_validate({"data": {"dims": 2}})
    controller.run_lesson("numpy", form)
    first = engines[-1].sent[-1]
    assert isinstance(first, p.Lesson) and first.name == "numpy" and first.config == form and not first.from_run
    controller.start(CONFIG)
    controller.view.started = object()  # RunStarted arrived
    controller.run_lesson("graph", form)
    second = engines[-1].sent[-1]
    assert second.from_run and second.config == CONFIG  # the run's settings, not the form's
    controller.receive(p.Batch(0, [p.LessonShown(first.request_id, None, "late"), p.LessonShown(second.request_id, None, "now")]))
    assert [shown.error for shown in controller.listener.lessons] == ["now"]
