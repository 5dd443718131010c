"""What the app knows about the current race: one RunView per entry, and when each reached the
optimum. No UI code here."""

from __future__ import annotations

from ..core.events import RunState, StateChanged
from ..core.race_events import ALL_RIGHT_GOAL, NEAR_OPTIMAL_GOAL, EntryEvent, RaceFinished, RaceResult, RaceStarted, Reach
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
        self.goal = NEAR_OPTIMAL_GOAL  # what reaching the optimum means in this race
        self.result: RaceResult | None = None

    def apply(self, event) -> None:
        match event:
            case EntryEvent():
                self.runs[event.entry].apply(event.event)
                self.reach[event.entry].apply(event.event)
            case RaceStarted():
                self.names = list(event.names)
                self.runs = [RunView() for _ in event.names]
                separable = event.goal == ALL_RIGHT_GOAL  # separable classes: no finite optimum to near
                self.reach = [Reach(event.optimal_loss, event.loss_scale, separable) for _ in event.names]
                self.optimal_loss = event.optimal_loss
                self.goal = event.goal
            case StateChanged():
                self.state, self.message = event.state, event.message
            case RaceFinished():
                self.result = event.result
                self.state = RunState.STOPPED if event.result.interrupted else RunState.DONE
            case RunFailed():
                self.state, self.message = RunState.ERROR, event.message

    @property
    def short_goal(self) -> str:
        """The goal in a few words, for the status line and the table's column."""
        return "all rows right" if self.goal == ALL_RIGHT_GOAL else "within 1% of optimal"

    @property
    def active(self) -> bool:
        return self.state in (RunState.RUNNING, RunState.PAUSED)
