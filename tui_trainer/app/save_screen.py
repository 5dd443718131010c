"""ctrl+s: where to save the run. A folder name, with a default that sorts by time
(`runs/<date>-<time>-<algorithm>`); Enter saves, escape changes nothing."""

from __future__ import annotations

import time
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


def default_folder(algorithm: str, now: float | None = None) -> str:
    return f"runs/{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{algorithm}"


class SaveScreen(ModalScreen[str | None]):
    """Asks for the run folder; dismisses with its name, or None when escaped."""

    DEFAULT_CSS = """
    SaveScreen { align: center middle; }
    SaveScreen #save {
        width: 80; max-width: 100%; height: auto;
        background: $panel; border: round $primary; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="save"):
            yield Static("Save the run in the folder (kept up to date from now on; Enter saves, escape cancels):")
            yield Input(self.folder, id="save-folder")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, message: Input.Submitted) -> None:
        name = message.value.strip()
        if name:
            self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
