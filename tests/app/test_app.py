"""The app driven through Textual's Pilot, with the real trainer process behind it."""

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.messages import EngineBatch
from tui_trainer.app.widgets.inspector import compact
from tui_trainer.app.widgets.setting_field import SettingField
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunFinished, RunState, StepLosses

from .helpers import drawn, notified, panels, wait_for, wait_for_state

pytestmark = pytest.mark.timeout(120)


def app_with(**settings) -> TrainerApp:
    return TrainerApp(RunConfig.model_validate(settings))


def table_text(app) -> list[list[str]]:
    table = app.query_one("#parameters", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


LONG_RUN = {"optimizer": {"algorithm": "sgd", "epochs": 100000}}


async def test_start_trains_the_loss_falls_and_the_inspector_follows():
    app = app_with(optimizer={"algorithm": "mbgd", "epochs": 30}, data={"dims": 2})
    seen = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        status = str(app.query_one("#status").render())
        assert "DONE" in status and "step 750/750" in status and "epoch 30/30" in status
        reduced = app.controller.view.train.reduce(10)
        assert reduced.mean[-1] < reduced.mean[0] / 5  # the loss fell
        assert app.controller.view.summary.final_loss < app.controller.view.summary.optimal_loss * 1.01
        rows = table_text(app)
        assert [row[0] for row in rows] == ["w[x1]", "w[x2]", "b"]
        initial = app.controller.view.started.initial  # where the run began (a busy machine may show no step between)
        assert [row[1] for row in rows] != [compact(v) for v in [*initial.weights, initial.bias]]  # the values moved
        assert float(rows[0][1]) == pytest.approx(app.controller.view.summary.weights[0], rel=1e-3)  # 4 digits shown
        autograd = str(app.query_one("#autograd").render())
        assert "loss.grad_fn MseLossBackward0" in autograd
        assert "eval loss.grad_fn None (torch.no_grad) · model.training True" in autograd  # the seed's way
    batches = [m for m in seen if isinstance(m, EngineBatch)]
    assert any(isinstance(e, StepLosses) for m in batches for e in m.batch.events)


async def test_pause_single_step_resume_and_reset():
    app = app_with(**LONG_RUN)
    seen = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.controller.view.step > 200, what="training")
        await pilot.press("space")
        await wait_for_state(pilot, app, RunState.PAUSED)  # said by the trainer, after its last step
        held = app.controller.view.step
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.step > held, what="one step")
        assert app.controller.view.step == held + 1  # nothing moved while paused but this step
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.step == held + 2, what="a second step")
        assert app.controller.view.snapshot.step == held + 2 and app.controller.view.state is RunState.PAUSED
        await pilot.press("space")
        await wait_for(pilot, lambda: app.controller.view.step > held + 100, what="resumed training")
        assert app.controller.view.state is RunState.RUNNING
        old_run = app.controller.run_id
        await pilot.press("r")
        await wait_for_state(pilot, app, RunState.IDLE)
        # the old run's last words (it stopped) arrive after the reset, and must be ignored
        await wait_for(pilot, lambda: any(m.batch.run_id == old_run and any(isinstance(e, RunFinished) for e in m.batch.events)
                                          for m in seen if isinstance(m, EngineBatch)), what="the old run's end")
        await drawn(pilot)
        assert app.controller.view.state is RunState.IDLE and len(app.controller.view.train) == 0
        assert not app.query_one("#field-optimizer--epochs", Input).disabled


async def test_step_from_idle_starts_paused_after_one_step():
    app = app_with(optimizer={"algorithm": "bgd"})
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.step == 1 and app.controller.view.snapshot.step == 1, what="first step")
        await drawn(pilot)
        assert app.controller.view.state is RunState.PAUSED and app.controller.view.step == 1
        assert app.controller.view.snapshot.grad_weights is not None


async def test_a_bad_hyperparameter_is_marked_and_start_is_refused():
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        lr = app.query_one("#field-optimizer--lr", Input)
        lr.focus()
        lr.value = ""
        await pilot.press(*"-0.5")
        row = app.query_one("#field-optimizer--lr-row", SettingField)
        await wait_for(pilot, lambda: row.has_class("-invalid"), what="the lr marked")
        assert "must be a finite number greater than 0, got -0.5" in str(row.query_one(".problem").render())
        await pilot.press("escape", "s")
        await wait_for(pilot, lambda: notified(app, "Cannot start"), what="the refusal")
        assert app.controller.view.state is RunState.IDLE
        lr.value = "0.2"
        await wait_for(pilot, lambda: not row.has_class("-invalid"), what="the mark gone")


async def test_switching_algorithm_shows_its_hyperparameters_with_its_defaults():
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        assert not app.query_one("#field-optimizer--beta1-row").display
        app.query_one("#select-algorithm").value = "adam"
        await wait_for(pilot, lambda: app.query_one("#field-optimizer--beta1-row").display, what="adam's fields")
        assert app.query_one("#field-optimizer--lr", Input).value == "0.02"
        assert app.query_one("#field-optimizer--batch-size", Input).value == "32"


async def test_a_warning_that_arrives_while_the_form_is_torn_down_is_dropped():
    # seen once in CI: a form change handled during quit found the lr field already gone
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await app.query_one("#field-optimizer--lr-row").remove()
        app.screen.form.warn("optimizer.lr", "past the stability limit")
        app.screen.form.set_lr_text(0.5)
        await pilot.pause()
        assert "optimizer.lr" not in app.screen.form.fields() and app.is_running


async def test_flags_preload_the_form():
    app = app_with(optimizer={"algorithm": "momentum", "lr": 0.05, "momentum": 0.8}, seed=4)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        values = app.query_one("#settings").values()
        assert (values["optimizer.algorithm"], values["optimizer.lr"], values["optimizer.momentum"], values["seed"]) == (
            "momentum", "0.05", "0.8", "4")


async def test_the_learning_rate_changes_live_while_running():
    app = app_with(**LONG_RUN)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.controller.view.step > 100, what="training")
        lr = app.query_one("#field-optimizer--lr", Input)
        assert not lr.disabled and app.query_one("#field-optimizer--epochs", Input).disabled
        lr.focus()
        lr.value = ""
        await pilot.press(*"0.002", "enter")
        await wait_for(pilot, lambda: app.controller.view.lr == 0.002, what="the new lr in the events")
        await pilot.press("escape", "minus")
        await wait_for(pilot, lambda: app.controller.view.lr == 0.001, what="the halved lr")
        assert app.controller.view.state is RunState.RUNNING


async def test_a_diverging_run_is_shown_and_the_app_carries_on():
    app = app_with(optimizer={"algorithm": "bgd", "lr": 5.0, "epochs": 500})
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DIVERGED)
        await drawn(pilot)
        assert "stopped being finite" in app.controller.view.message
        assert "DIVERGED" in str(app.query_one("#status").render())
        assert notified(app, "Diverged")
        app.query_one("#field-optimizer--lr", Input).value = "0.1"
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)


async def test_a_run_that_fails_shows_error_and_the_next_one_works(tmp_path):
    app = app_with(device="cuda" if not __import__("torch").cuda.is_available() else "cuda:99")
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.ERROR)
        assert "was asked for" in app.controller.view.message
        app.query_one("#field-device", Input).value = "cpu"
        await wait_for(pilot, lambda: app.screen.form.config is not None and app.screen.form.config.device == "cpu", what="the form")
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)


async def test_a_dead_trainer_process_is_an_error_and_start_brings_it_back():
    app = app_with(**LONG_RUN)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.controller.view.step > 50, what="training")
        app.controller.engine.process.kill()
        await wait_for_state(pilot, app, RunState.ERROR)
        assert "stopped unexpectedly" in app.controller.view.message
        app.query_one("#field-optimizer--epochs", Input).value = "1"
        await wait_for(pilot, lambda: app.screen.form.config is not None and app.screen.form.config.optimizer.epochs == 1, what="the form")
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE, timeout=60)


async def test_theme_change_recolours_the_chart():
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        first = app.theme
        plot = app.query_one("#plot")
        colour = plot.color("train", "primary")
        await pilot.press("t")
        await wait_for(pilot, lambda: app.theme != first, what="the next theme")
        assert app.theme != first and app.theme in {t.theme.name for t in app.loaded_themes}
        assert plot.color("train", "primary") != colour


async def test_a_broken_theme_file_is_reported_and_the_others_still_load(tmp_path):
    (tmp_path / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (tmp_path / "fine.toml").write_text('name = "fine"\nprimary = "#336699"\n')
    app = TrainerApp(theme_folders=[tmp_path])
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        assert "fine" in app.available_themes and "broken" not in app.available_themes
        assert notified(app, "broken.toml")


async def test_log_scale_and_smoothing_toggle():
    app = app_with(optimizer={"algorithm": "sgd", "epochs": 1})
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        plot = app.query_one("#plot")
        await pilot.press("l", "m")
        await wait_for(pilot, lambda: plot.log_scale and plot.smoothing, what="both toggles")
        assert "log, smoothed" in str(app.query_one("#legend").render())


async def test_quit_during_a_run_leaves_no_process_behind():
    app = app_with(**LONG_RUN)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.controller.view.step > 50, what="training")
        process = app.controller.engine.process
        await pilot.press("q")
    process.join(5)
    assert not process.is_alive()


async def test_the_command_palette_offers_the_actions():
    app = app_with()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        options = app.screen.query_one(CommandList)

        def titles() -> set[str]:
            return {options.get_option_at_index(i).hit.text for i in range(options.option_count)}

        wanted = {"Start training", "Pause or resume", "Single step", "Reset", "Toggle log scale", "Next theme"}
        await wait_for(pilot, lambda: wanted <= titles(), timeout=10, what=f"the commands {wanted}")
        await pilot.press(*"single step", "enter")
        await wait_for_state(pilot, app, RunState.PAUSED)  # the chosen command ran on the main screen


async def test_buttons_work_with_the_mouse():
    app = app_with(**LONG_RUN)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.click("#button-start")
        await wait_for(pilot, lambda: app.controller.view.step > 20, what="training")
        await pilot.click("#button-pause")
        await wait_for_state(pilot, app, RunState.PAUSED)
        await pilot.click("#button-reset")
        await wait_for_state(pilot, app, RunState.IDLE)


async def test_the_inspector_says_the_fused_engine_builds_no_graph():
    app = app_with(engine="fused", optimizer={"algorithm": "sgd", "epochs": 1})
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        autograd = str(app.query_one("#autograd").render())
        assert "loss.grad_fn None (the fused engine builds no autograd graph)" in autograd
        assert "no step yet" not in autograd and "eval loss.grad_fn None (fused engine: no graph)" in autograd
