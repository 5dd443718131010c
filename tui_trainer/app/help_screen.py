"""The `?` screen: every key of the main screen, one line each, written from its bindings.

The lines come from the bindings themselves (their key display and tooltip, or description), so a
key added to MainScreen.BINDINGS is listed here without anyone copying it by hand.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Static

# keys the app adds to every screen, described the same way
APP_KEYS = [
    ("ctrl+p", "Command palette: every action by name, with its key"),
    ("ctrl+q", "Quit, even while a text field has the keys"),
    ("tab", "Next field or button (shift+tab: the one before)"),
]


def help_lines(app, bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) for each binding, keys that share an action on one line."""
    lines: dict[str, tuple[list[str], str]] = {}
    for binding in bindings:
        if not isinstance(binding, Binding):
            continue
        keys = [key.strip() for key in binding.key.split(",")]
        shown = binding.key_display or " ".join(app.get_key_display(Binding(key, binding.action)) for key in keys)
        text = binding.tooltip or binding.description
        if binding.action in lines:
            lines[binding.action][0].append(shown)
        else:
            lines[binding.action] = ([shown], text)
    return [(" ".join(keys), text) for keys, text in lines.values()] + APP_KEYS


class HelpScreen(ModalScreen[None]):
    """Keys on a panel over the main screen; escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close", key_display="esc"),
    ]

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        width = max(len(keys) for keys, _ in self.lines)
        text = "\n".join(f"[b]{escape(keys).ljust(width)}[/b]  {escape(what)}" for keys, what in self.lines)
        with VerticalScroll(id="help"):
            yield Static("Keys (escape or q closes this)", id="help-title")
            yield Static(text, id="help-keys")
