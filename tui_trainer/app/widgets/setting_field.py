"""One labelled text setting on a single line, with its problem shown underneath."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from ..form import TextField
from .text import show_text


def input_id(path: str) -> str:
    """Widget ids cannot hold dots."""
    return "field-" + path.replace(".", "--").replace("_", "-")


class SettingField(Vertical):
    DEFAULT_CSS = """
    SettingField { height: auto; }
    SettingField > Horizontal { height: 1; }
    SettingField .label { width: 13; color: $text-muted; }
    SettingField Input { width: 1fr; }
    SettingField.-invalid Input { color: $error; text-style: bold; }
    SettingField .problem { color: $error; display: none; padding-left: 2; width: 1fr; }
    SettingField.-invalid .problem { display: block; }
    SettingField.-warning Input { color: $warning; }
    SettingField.-warning .problem { display: block; color: $warning; }
    """

    def __init__(self, field: TextField, value: str = "", placeholder: str = "") -> None:
        super().__init__(id=input_id(field.path) + "-row")
        self.field = field
        self._value = value
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.field.label, classes="label")
            yield Input(
                self._value,
                placeholder=self._placeholder,
                id=input_id(self.field.path),
                compact=True,
                tooltip=self.field.help,
                select_on_focus=False,
            )
        yield Static("", classes="problem")  # a Static wraps long messages

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text

    def show_problem(self, message: str | None, warning: str | None = None) -> None:
        """A problem refuses the value; a warning only cautions (shown when there is no problem)."""
        self.set_class(message is not None, "-invalid")
        self.set_class(message is None and warning is not None, "-warning")
        show_text(self.query_one(".problem", Static), message or warning or "")
