"""The top line: device, run state, step and epoch, speed and time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.markup import escape
from textual.widgets import Static

from ...core.events import RunState
from ..run_view import RunView
from .text import show_text

if TYPE_CHECKING:
    from ..race_view import RaceView

STATE_STYLES = {
    RunState.IDLE: "$text-muted",
    RunState.RUNNING: "$success",
    RunState.PAUSED: "$warning",
    RunState.DONE: "$accent",
    RunState.STOPPED: "$secondary",
    RunState.DIVERGED: "$error",
    RunState.ERROR: "$error",
}


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, view: RunView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.race: RaceView | None = None  # while the race is on screen
        self.device = "starting…"

    @property
    def narrow(self) -> bool:
        """Under 100 columns the line drops the app's name and says less per field, to fit 80."""
        return 0 < self.size.width < 98

    def on_resize(self, event: events.Resize) -> None:
        self.update_view()

    def update_view(self) -> None:
        if self.race is not None:
            self._show_race(self.race)
            return
        view = self.view
        started = view.started
        device = started.device if started is not None else self.device  # the run's own, once it runs
        narrow = self.narrow
        parts = [] if narrow else ["[b]tui-trainer[/b]"]
        parts += [escape(device), f"[b {STATE_STYLES[view.state]}]{view.state.value}[/]"]
        if started is not None:
            parts.append(f"step {view.step:,}/{started.total_steps:,}")
            parts.append(f"{'ep' if narrow else 'epoch'} {view.epoch}/{started.epochs}")
            # a rate only means something while running (or over the whole finished run)
            rate = view.steps_per_s if view.state is RunState.RUNNING or view.summary is not None else None
            unit = "/s" if narrow else " steps/s"
            parts.append(f"—{unit}" if rate is None else f"{rate:,.0f}{unit}")
            parts.append(f"{view.elapsed:.1f} s")
        if view.state in (RunState.DIVERGED, RunState.ERROR) and view.message:
            parts.append(escape(view.message))
        show_text(self, " │ ".join(parts), fixed_size=True)

    def _show_race(self, race: RaceView) -> None:
        parts = [] if self.narrow else ["[b]tui-trainer[/b]"]
        parts += [escape(self.device), f"[b {STATE_STYLES[race.state]}]RACE {race.state.value}[/]"]
        if race.names:
            ended = sum(run.state in (RunState.DONE, RunState.DIVERGED, RunState.STOPPED) for run in race.runs)
            reached = sum(reach.step is not None for reach in race.reach)
            parts += [f"{len(race.names)} entries", f"{ended} finished", f"{reached} {race.short_goal}"]
        if race.state is RunState.ERROR and race.message:
            parts.append(escape(race.message))
        show_text(self, " │ ".join(parts), fixed_size=True)
