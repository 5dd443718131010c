"""The race view, the loss landscape, the lr curve and schedules in the app, through Pilot."""

import pytest
from textual.widgets import DataTable, Input, Select

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.widgets.landscape import Landscape
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState

from .helpers import drawn, notified, panels, wait_for, wait_for_state

pytestmark = pytest.mark.timeout(120)


async def race_to_the_end(pilot, spec=None):
    app = pilot.app
    await pilot.press("v")
    await wait_for(pilot, lambda: app.screen.in_race_tab, what="the race tab")
    if spec is not None:
        app.query_one("#race-entries", Input).value = spec
        await pilot.pause()  # the entries are checked as typed: let that happen first
    await pilot.press("s")
    await wait_for(pilot, lambda: app.controller.race_view.state is RunState.DONE, timeout=60, what="the race to end")
    await drawn(pilot)


async def test_a_race_of_the_seven_defaults_fills_the_table_and_the_chart():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await race_to_the_end(pilot)
        table = app.query_one("#race-table", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[1] for row in rows] == ["bgd", "sgd", "mbgd", "momentum", "adagrad", "rmsprop", "adam"]
        assert all(row[2] == "DONE" and " steps, " in row[5] for row in rows)
        assert "RACE DONE" in str(app.screen.status_bar.render()) and "7 within 1% of optimal" in str(app.screen.status_bar.render())
        plot = app.screen.race_panel.plot
        assert plot.drawn == 7  # one curve an entry
        legend = str(app.query_one("#race-legend").render())
        assert "momentum" in legend and "optimum 0.25626" in legend
        assert app.screen.form.query_one("#field-optimizer--lr", Input).disabled is False


async def test_race_entries_are_checked_as_typed_and_a_bad_race_is_refused():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("v")
        app.query_one("#race-entries", Input).value = "adam:lr=fast"
        await wait_for(pilot, lambda: app.screen.race_panel.has_class("-invalid"), what="the entries marked")
        assert "lr: must be a number, got 'fast'" in str(app.query_one("#race-problem").render())
        await pilot.press("s")
        await wait_for(pilot, lambda: notified(app, "Cannot race"), what="the refusal")
        assert app.controller.race_view.state is RunState.IDLE


async def test_a_race_single_steps_every_entry_and_resets():
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"epochs": 1000}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("v")
        app.query_one("#race-entries", Input).value = "sgd:epochs=500,adam:epochs=500"
        await wait_for(pilot, lambda: app.screen.in_race_tab, what="the race tab")
        await pilot.pause()  # the entries are checked as typed: let that happen first
        await pilot.press("n")
        await wait_for(
            pilot,
            lambda: len(app.controller.race_view.runs) == 2 and all(r.step == 1 for r in app.controller.race_view.runs),
            what="one step each",
        )
        assert app.controller.race_view.state is RunState.PAUSED
        await pilot.press("n")
        await wait_for(pilot, lambda: all(r.step == 2 for r in app.controller.race_view.runs), what="a second step each")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.controller.race_view.state is RunState.IDLE, what="reset")
        assert app.controller.race_view.runs == []


async def test_the_landscape_draws_the_path_and_follows_the_chosen_parameters():
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "momentum"}, "data": {"dims": 2}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("w")
        landscape = app.query_one("#landscape", Landscape)
        assert landscape.display
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        view = app.controller.view
        assert len(view.path) == 500 and view.path.latest == [*view.summary.weights, view.summary.bias]
        assert landscape.plot.axes == (0, 2)
        x_axis = landscape.query_one(".x-axis", Select)
        x_axis.value = 1
        await wait_for(pilot, lambda: landscape.plot.axes == (1, 2), what="the new axis")
        assert "w[x2]" in landscape.plot.plt.build()  # the axis is labelled with the parameter
        await pilot.press("w")
        assert not landscape.display


async def test_the_lr_curve_and_a_schedule_from_the_form():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        app.screen.form.query_one("#select-schedule", Select).value = "exponential"
        gamma = app.screen.form.query_one("#field-optimizer--gamma-row")
        await wait_for(pilot, lambda: gamma.display, what="the schedule's fields")
        assert app.screen.form.query_one("#field-optimizer--gamma", Input).value == "0.95"
        assert not app.screen.form.query_one("#field-optimizer--step-every-row").display
        await pilot.press("a", "s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        assert app.controller.view.lrs.latest == pytest.approx(0.1 * 0.95**99)  # what the 100th step used
        assert app.controller.view.lr == pytest.approx(0.1 * 0.95**100)  # what a next step would use
        assert "lr (right)" in str(app.query_one("#legend").render())


# --- issue 11.10: the landscape's level curves read in every theme, and its marks stay explained ---


def test_the_level_curves_stand_out_from_the_background_in_every_theme():
    from textual.color import Color
    from textual.theme import BUILTIN_THEMES

    from tui_trainer.app.themes import bundled_theme_dir, load_themes
    from tui_trainer.app.widgets.landscape import level_color

    themes = [loaded.theme for loaded in load_themes([bundled_theme_dir()])[0]]
    themes += [BUILTIN_THEMES["textual-dark"], BUILTIN_THEMES["textual-light"]]
    for theme in themes:
        if theme.ansi:  # the terminal's own grey on the terminal's own background
            assert level_color(theme) == "ansi_bright_black"
            continue
        background = Color.parse(theme.background or ("#000000" if theme.dark else "#ffffff"))
        level = Color.parse(level_color(theme))
        assert abs(level.brightness - background.brightness) >= 0.2, (theme.name, level.hex, background.hex)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_landscape_always_says_what_its_marks_are(size):
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "momentum", "epochs": 2}, "data": {"dims": 2}}))
    async with app.run_test(size=size) as pilot:
        await panels(pilot)
        await pilot.press("w", "s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        note = app.query_one("#landscape", Landscape).query_one(".note")
        await wait_for(pilot, lambda: note.display and "✕" in str(note.render()), what="the marks explained")
        assert "optimum" in str(note.render()) and "●" in str(note.render())
