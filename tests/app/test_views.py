"""The three views together: switching, one run at a time, and what each says when refused."""

import pytest
from textual.widgets import Input, Static, Switch

from tui_trainer.app.app import TrainerApp
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState

from .helpers import drawn, notified, panels, wait_for, wait_for_state
from .test_app import LONG_RUN

pytestmark = pytest.mark.timeout(120)


def titles(app) -> list[str]:
    return [title for title, _ in getattr(app, "notified", [])]


def messages(app) -> str:
    return "\n".join(message for _, message in getattr(app, "notified", []))


async def test_v_cycles_run_race_and_learn():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        seen = [app.screen.views.active]
        for _ in range(3):
            await pilot.press("v")
            await wait_for(pilot, lambda: app.screen.views.active != seen[-1], what="the next view")
            seen.append(app.screen.views.active)
        assert seen == ["tab-run", "tab-race", "tab-learn", "tab-run"]


async def test_switching_views_after_a_run_does_not_repeat_its_toast():
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"epochs": 2}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        assert titles(app).count("Done") == 1
        await pilot.press("v", "v", "v", "v")
        await wait_for(pilot, lambda: app.screen.views.active == "tab-race", what="four views later")
        await drawn(pilot)
        assert titles(app).count("Done") == 1


async def test_a_run_in_one_view_refuses_a_start_in_the_other_and_keeps_going():
    app = TrainerApp(RunConfig.model_validate(LONG_RUN))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.controller.view.step > 50, what="training")
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.in_race_tab, what="the race tab")
        await pilot.press("s")
        await wait_for(pilot, lambda: notified(app, "A run is going in the Run view"), what="the refusal")
        assert app.controller.race_view.state is RunState.IDLE
        steps = app.controller.view.step
        await wait_for(pilot, lambda: app.controller.view.step > steps + 50, what="the run to carry on")
        assert app.controller.view.state is RunState.RUNNING


async def test_the_shortcuts_that_rewrite_the_form_are_refused_while_a_run_goes():
    app = TrainerApp(RunConfig.model_validate(LONG_RUN))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await wait_for(pilot, lambda: app.screen.stability is not None, what="the stability numbers")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.controller.view.step > 10, what="training")
        lr_before = app.screen.form.values()["optimizer.lr"]
        await pilot.press("o", "x")
        # a busy machine may take a while over the second key: wait for both refusals
        await wait_for(pilot, lambda: notified(app, "A run is going in this view") >= 2, what="two refusals")
        assert messages(app).count("A run is going in this view") == 2
        assert app.screen.form.values()["optimizer.lr"] == lr_before and app.screen.form.values()["optimizer.algorithm"] == "sgd"


async def test_experiments_given_as_flags_are_switched_on_in_the_learn_view():
    config = RunConfig.model_validate({"experiments": {"train_in_eval_mode": True}})
    app = TrainerApp(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        assert app.query_one("#experiment-train-in-eval-mode", Switch).value is True
        assert app.query_one("#experiment-forget-zero-grad", Switch).value is False
        assert app.screen.learn_panel.experiments()["train_in_eval_mode"] is True


async def test_a_race_entry_at_odds_with_the_form_is_refused_with_the_reason():
    app = TrainerApp(RunConfig.model_validate({"engine": "fused"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.in_race_tab, what="the race tab")
        app.query_one("#race-entries", Input).value = "sgd,adam:implementation=scratch"
        await pilot.pause()  # the entries are checked as typed: let that happen first
        await pilot.press("s")
        await wait_for(pilot, lambda: notified(app, "Cannot race"), what="the refusal")
        assert app.controller.race_view.state is RunState.IDLE
        refused = [message for title, message in app.notified if title == "Cannot race"]
        assert refused and "implementation scratch needs engine autograd" in refused[-1]


async def test_an_unreadable_csv_path_is_shown_beside_the_field_and_start_is_refused(tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("x,y\n1,2\n2,4\n3,6.5\n")
    app = TrainerApp(RunConfig.model_validate({"data": {"source": str(csv)}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        status = app.query_one("#csv-status", Static)
        await wait_for(pilot, lambda: "3 rows" in str(status.render()), what="the file's summary")
        app.query_one("#field-data--source", Input).value = str(tmp_path / ("x" * 5000 + ".csv"))
        await wait_for(pilot, lambda: status.has_class("-problem"), what="the problem")
        assert "cannot be read" in str(status.render()) or "no such file" in str(status.render()).lower()
        await pilot.press("escape", "s")
        await wait_for(pilot, lambda: notified(app, "Cannot start"), what="the refusal")
        assert app.controller.view.state is RunState.IDLE
        app.query_one("#field-data--source", Input).value = str(csv)
        await wait_for(pilot, lambda: not status.has_class("-problem"), what="the good file again")
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE, timeout=60)
