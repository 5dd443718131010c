"""Screens compared with stored SVG snapshots (pytest-textual-snapshot), small and roomy.

Timing numbers (steps/s, seconds) and the device label differ from machine to machine, so they
are pinned before the picture is taken; every other number comes from a real, seeded run.
"""

import pytest

from tui_trainer.app.app import TrainerApp
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState
from tui_trainer.core.lesson_texts import LESSON_NAMES

from .helpers import drawn, engine_ready, panels, wait_for, wait_for_state

SIZES = [(80, 24), (120, 40)]


def pin_machine_details(app: TrainerApp) -> None:
    app.screen.status_bar.device = "cpu"
    if app.controller.view.summary is not None:
        app.controller.view.summary.steps_per_s, app.controller.view.summary.seconds = 12345.0, 1.0
    app.controller.view.elapsed = 1.0
    app.clear_notifications()
    app.screen._refresh_views(force=True)
    app.screen.chart.replot()


async def ready(pilot) -> None:
    await panels(pilot)
    await engine_ready(pilot)
    pin_machine_details(pilot.app)
    await pilot.pause()


def finished_run(settings: dict, theme: str | None = None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await ready(pilot)
        if theme:
            app.theme = theme
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        pin_machine_details(app)
        await pilot.pause()

    return TrainerApp(RunConfig.model_validate(settings)), run_before


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_idle_screen(snap_compare, size):
    assert snap_compare(TrainerApp(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_finished_adam_run(snap_compare, size):
    app, run_before = finished_run({"optimizer": {"algorithm": "adam"}, "data": {"dims": 2}})
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_finished_sgd_run_in_the_light_theme(snap_compare):
    app, run_before = finished_run({"optimizer": {"algorithm": "sgd", "epochs": 2}}, theme="trainer-light")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_finished_momentum_run_in_sixteen_colours(snap_compare):
    app, run_before = finished_run({"optimizer": {"algorithm": "momentum"}}, theme="trainer-16")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_a_bad_value_is_marked_in_place(snap_compare):
    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press("f")  # at 80 columns the form is behind f
        pilot.app.query_one("#field-optimizer--lr").value = "-1"
        pilot.app.query_one("#field-optimizer--epochs").value = "ten"
        await wait_for(pilot, lambda: pilot.app.query_one("#field-optimizer--epochs-row").has_class("-invalid"), what="both marked")

    assert snap_compare(TrainerApp(), terminal_size=(80, 24), run_before=run_before)


def pin_race_details(app: TrainerApp) -> None:
    """Race times differ from machine to machine: the table shows steps only."""
    for reach in app.controller.race_view.reach:
        reach.seconds = None
    pin_machine_details(app)
    app.screen.race_panel.update_view()
    app.screen.race_panel.replot()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_finished_race_with_its_landscape(snap_compare, size):
    async def run_before(pilot) -> None:
        app = pilot.app
        await ready(pilot)
        # the map's tick labels at 80x24 flipped between runs on a loaded machine (cause not found
        # yet): there the race is snapshotted without its map, which tests elsewhere cover
        await pilot.press("v", *(["w"] if size == (120, 40) else []), "s")
        await wait_for(pilot, lambda: app.controller.race_view.state is RunState.DONE, timeout=60, what="the race")
        await drawn(pilot)
        pin_race_details(app)
        await pilot.pause()

    assert snap_compare(TrainerApp(), terminal_size=size, run_before=run_before)


def test_finished_run_beside_its_landscape(snap_compare):
    app, run_before = finished_run({"optimizer": {"algorithm": "momentum", "lr": 0.05}})

    async def with_landscape(pilot) -> None:
        await ready(pilot)
        await pilot.press("w")
        await run_before(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=with_landscape)


def ledger_after_two_steps(lang: str, experiments=()):
    async def run_before(pilot) -> None:
        app = pilot.app
        await ready(pilot)
        app.screen.views.active = "tab-learn"
        await wait_for(pilot, lambda: app.controller.ledger_wanted, what="the ledger asked for")
        for name in experiments:
            app.query_one(f"#experiment-{name}").value = True
        await pilot.pause()
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.ledger is not None, what="the first step written out")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.ledger.step == 2, what="the second")
        await drawn(pilot)
        pin_machine_details(app)
        await pilot.pause()

    config = RunConfig.model_validate({"optimizer": {"algorithm": "momentum"}, "data": {"dims": 2}})
    return TrainerApp(config, lang=lang), run_before


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_ledger_of_a_step(snap_compare, lang):
    app, run_before = ledger_after_two_steps(lang)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_the_learn_view_at_80x24(snap_compare):
    app, run_before = ledger_after_two_steps("en")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_the_form_at_80x24_takes_the_screen(snap_compare):
    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: pilot.app.query_one("#button-reset").region.width > 0, what="the form")

    assert snap_compare(TrainerApp(), terminal_size=(80, 24), run_before=run_before)


def test_the_keys_at_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: pilot.app.screen.query("#help-keys"), what="the help screen")

    assert snap_compare(TrainerApp(), terminal_size=(80, 24), run_before=run_before)


def test_the_race_before_it_starts(snap_compare):
    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: pilot.app.query_one("#race-table").row_count == 7, what="the entries listed")
        pin_machine_details(pilot.app)
        await pilot.pause()

    assert snap_compare(TrainerApp(), terminal_size=(120, 40), run_before=run_before)


def test_the_ledger_with_gradients_never_zeroed(snap_compare):
    app, run_before = ledger_after_two_steps("en", experiments=("forget-zero-grad",))
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def autograd_lab_after_two_steps(lang: str, lessons: int = 0):
    """The lab's page after two written-out steps; `lessons`: g pressed that many more times."""
    app, two_steps = ledger_after_two_steps(lang)

    async def run_before(pilot) -> None:
        await two_steps(pilot)
        await wait_for(pilot, lambda: app.controller.view.graph is not None and app.controller.view.graph.step == 2, what="the graph")
        await pilot.press("g")
        await wait_for(pilot, lambda: app.screen.learn_panel.showing_lab, what="the lab")
        for _ in range(lessons):
            await pilot.press("g")
        if lessons:
            await wait_for(pilot, lambda: getattr(app.screen.learn_panel.lesson, "result", None) is not None
                           and app.screen.learn_panel.lesson.result.name == LESSON_NAMES[lessons - 1], what="the lesson")
        await drawn(pilot)
        pin_machine_details(app)
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_graph_of_a_step_in_the_autograd_lab(snap_compare, lang, size):
    app, run_before = autograd_lab_after_two_steps(lang)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_autograd_lesson_run_on_the_runs_model(snap_compare, lang, size):
    app, run_before = autograd_lab_after_two_steps(lang, lessons=LESSON_NAMES.index("retain-graph") + 1)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
