"""Finding the keys (the footer, the `?` screen, the palette) and the layout at 80x24 and 120x40
(issue 11, points 7 and 8)."""

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Button, DataTable, Footer, Input, Static
from textual.widgets._footer import FooterKey

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.commands import COMMANDS
from tui_trainer.app.help_screen import HelpScreen
from tui_trainer.app.main_screen import MainScreen

from .helpers import panels, wait_for

pytestmark = pytest.mark.timeout(120)


def footer_keys(app) -> list[str]:
    """The keys the footer shows whole on screen, left to right."""
    width = app.size.width
    keys = [key for key in app.screen.query_one(Footer).query(FooterKey) if key.region.width and key.region.right <= width]
    return [key.key_display for key in sorted(keys, key=lambda key: key.region.x)]


async def footer_settled(pilot, condition, what: str) -> None:
    await wait_for(pilot, lambda: condition(footer_keys(pilot.app)), what=what)


async def test_the_footer_lists_the_lr_and_shortcut_keys_at_120_columns():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        wanted = {"?", "s", "+", "-", "a", "o", "x", "v", "q"}
        await footer_settled(pilot, lambda keys: wanted <= set(keys), f"{wanted} in the footer")


async def test_the_footer_keeps_the_help_key_and_the_main_keys_at_80_columns():
    app = TrainerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await panels(pilot)
        await footer_settled(pilot, lambda keys: keys[:1] == ["?"] and {"s", "v", "f", "q"} <= set(keys), "? first, and s v f q")


async def test_while_a_field_has_the_keys_the_footer_says_how_to_leave_and_quit():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        app.query_one("#field-optimizer--lr", Input).focus()
        await footer_settled(pilot, lambda keys: keys == ["esc"], "only escape in the footer")
        escape = next(key for key in app.screen.query_one(Footer).query(FooterKey) if key.key_display == "esc")
        assert "Leave the field" in escape.description and "^q quits" in escape.description
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.focused is None, what="the field left")
        await footer_settled(pilot, lambda keys: "s" in keys and "esc" not in keys, "the letter keys back")


async def test_question_mark_lists_every_key_and_escape_closes_it():
    app = TrainerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await panels(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")
        text = str(app.screen.query_one("#help-keys", Static).render())
        lines = text.splitlines()
        for binding in MainScreen.BINDINGS:
            described = [line for line in lines if (binding.tooltip or binding.description) in line]
            assert len(described) == 1, f"{binding.key}: {binding.tooltip!r} not on one line of\n{text}"
        for key in ("?", "+", "-", "o", "x", "a", "f", "ctrl+p"):
            assert any(line.split()[0] == key or f" {key} " in line for line in lines), key
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="the help closed")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help again")
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="q closes it too")
        assert app.is_running


def test_the_palette_offers_every_key_of_the_screen():
    offered = {action for _, _, action in COMMANDS}
    keys_only = {"leave_field", "app.quit"}  # the palette itself is quit with escape
    actions = {binding.action for binding in MainScreen.BINDINGS} - keys_only
    assert actions <= offered, actions - offered
    views = next(help_text for _, help_text, action in COMMANDS if action == "next_view")
    assert "Run → Race → Learn" in views


async def test_the_palette_lists_o_and_x_and_saves_a_screenshot(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        options = app.screen.query_one(CommandList)

        def titles() -> set[str]:
            return {options.get_option_at_index(i).hit.text for i in range(options.option_count)}

        wanted = {"Best learning rate", "Learning rate past the limit", "Save a screenshot", "Keys"}
        await wait_for(pilot, lambda: wanted <= titles(), timeout=10, what=f"the commands {wanted}")
        assert "Screenshot" not in titles()  # Textual's own saves to ~/Downloads, absent over SSH
        await pilot.press(*"save a screenshot", "enter")
        await wait_for(pilot, lambda: list(tmp_path.glob("*.svg")), what="the screenshot file")
        assert "<svg" in next(tmp_path.glob("*.svg")).read_text()


async def test_at_80x24_the_views_get_the_width_and_f_shows_the_whole_form():
    app = TrainerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await panels(pilot)
        await wait_for(pilot, lambda: not app.query_one("#sidebar").display or not app.query_one("#sidebar").region, what="the form hidden")
        # the chart gets the room once the next layout pass has run
        await wait_for(pilot, lambda: app.query_one("#chart").region.height >= 10, what="the chart given the room")
        await pilot.press("f")
        await wait_for(pilot, lambda: app.query_one("#button-reset", Button).region.width > 0, what="the form shown")
        for button in app.query("#buttons Button"):
            assert button.region.width >= len(str(button.label)), f"{button.label} is cut: {button.region}"
        await pilot.press("f")
        await wait_for(pilot, lambda: app.query_one("#chart").region.height >= 10, what="the chart back")


async def test_at_80x24_the_status_line_fits():
    app = TrainerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await panels(pilot)
        app.screen.status_bar.device = "cuda:0 (NVIDIA H100 80GB HBM3)"
        app.screen._refresh_views(force=True)
        await pilot.pause()
        text = str(app.screen.status_bar.render())
        assert "tui-trainer" not in text and "cuda:0" in text and len(text) <= 78


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_race_table_lists_the_entries_before_a_race_with_every_column(size):
    app = TrainerApp()
    async with app.run_test(size=size) as pilot:
        await panels(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.in_race_tab, what="the race tab")
        table = app.query_one("#race-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 7, what="the seven default entries")
        assert [str(table.get_row_at(i)[1]) for i in range(7)] == ["bgd", "sgd", "mbgd", "momentum", "adagrad", "rmsprop", "adam"]
        widths = sum(column.get_render_width(table) for column in table.columns.values())
        assert widths <= table.region.width, f"the columns need {widths}, the table has {table.region.width}"
        app.query_one("#race-entries", Input).value = "sgd,adam:lr=0.1"
        await wait_for(pilot, lambda: table.row_count == 2, what="the table to follow the entries")
