"""What the app knows about the current race: one RunView per entry, and when each reached the
optimum. No UI code here."""

from __future__ import annotations

from ..core.events import RunState, StateChanged
from ..core.race_events import EntryEvent, RaceFinished, RaceResult, RaceStarted, Reach
from ..engine.protocol import RunFailed
from .run_view import RunView


class RaceView:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.state = RunState.IDLE
        self.message = ""
        self.names: list[str] = []
        self.runs: list[RunView] = []
        self.reach: list[Reach] = []
        self.optimal_loss: float | None = None
        self.result: RaceResult | None = None

    def apply(self, event) -> None:
        match event:
            case EntryEvent():
                self.runs[event.entry].apply(event.event)
                self.reach[event.entry].apply(event.event)
            case RaceStarted():
                self.names = list(event.names)
                self.runs = [RunView() for _ in event.names]
                self.reach = [Reach(event.optimal_loss, event.loss_scale) for _ in event.names]
                self.optimal_loss = event.optimal_loss
            case StateChanged():
                self.state, self.message = event.state, event.message
            case RaceFinished():
                self.result = event.result
                self.state = RunState.STOPPED if event.result.interrupted else RunState.DONE
            case RunFailed():
                self.state, self.message = RunState.ERROR, event.message

    @property
    def active(self) -> bool:
        return self.state in (RunState.RUNNING, RunState.PAUSED)
