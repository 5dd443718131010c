"""show_text: a live run's numbers repaint their own widget, and only a change of size lays out."""

from textual.app import App, ComposeResult
from textual.widgets import Static

from tui_trainer.app.widgets.text import show_text


class OneStatic(App):
    def compose(self) -> ComposeResult:
        yield Static("loss 0.123", id="facts")


async def test_layout_only_when_the_text_could_change_size():
    app = OneStatic()
    async with app.run_test(size=(40, 10)) as pilot:
        static = app.query_one("#facts", Static)
        layouts = []
        original = static.update

        def recording_update(content="", *, layout=True):
            layouts.append(layout)
            original(content, layout=layout)

        static.update = recording_update
        show_text(static, "loss 0.123")  # unchanged: no repaint at all
        show_text(static, "loss 0.456")  # same shape: its own repaint only
        show_text(static, "loss 0.456\nlr 0.01")  # a new line: taller
        show_text(static, "x" * 60 + "\nlr 0.01")  # wraps at 40 columns: taller
        assert layouts == [False, True, True]
        await pilot.pause()
        assert static.size.height == 3  # the laid-out widget really grew (60 wrapped + 1)
        assert "lr 0.01" in str(static.content)


def test_a_cell_in_a_new_colour_is_not_the_same_cell():
    """rich's Text equality ignores the Text's own style: a table that skips unchanged cells
    would keep a race entry's ● in the old theme's colour."""
    from rich.text import Text

    from tui_trainer.app.widgets.text import same_cell

    assert Text("●", style="red") == Text("●", style="blue")  # why same_cell exists
    assert not same_cell(Text("●", style="red"), Text("●", style="blue"))
    assert same_cell(Text("w[x1]"), Text("w[x1]"))
    assert same_cell("0.25", "0.25") and not same_cell("0.25", "0.26")
