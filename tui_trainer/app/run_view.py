"""What the app knows about the current run, built from the engine's events. No UI code here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.events import (
    EpochsEnded,
    LedgerEntry,
    ParameterPath,
    RunFinished,
    RunStarted,
    RunState,
    RunSummary,
    Snapshot,
    StateChanged,
    StepLosses,
)
from ..core.lab_events import StepGraph
from ..core.run_facts import flat_theta
from ..engine.protocol import RunFailed
from .history import History, PathPoints

if TYPE_CHECKING:
    from ..core.config import RunConfig


@dataclass
class ParameterRow:
    """One line of the inspector."""

    name: str
    value: float
    grad: float | None
    state: dict[str, float]
    true: float | None
    optimum: float | None  # None when no finite θ is optimal (separable classes)

    @property
    def gap(self) -> float | None:
        return None if self.optimum is None else self.value - self.optimum


class RunView:
    def __init__(self) -> None:
        self.train = History()  # per-step batch loss
        self.whole = History()  # loss on the whole training set, where the path was recorded
        self.lrs = History()  # the learning rate of each step
        self.validation = History(capacity=1024)  # per-epoch validation loss
        self.accuracy = History(capacity=1024)  # a classifier's per-epoch share of training rows right
        self.val_accuracy = History(capacity=1024)  # and of validation rows
        self.path = PathPoints()  # where the parameters went
        self.reset()

    def reset(self) -> None:
        self.state = RunState.IDLE
        self.message = ""
        self.config: RunConfig | None = None  # what the app started the run with: its events don't name the engine
        self.started: RunStarted | None = None
        self.snapshot: Snapshot | None = None
        self.summary: RunSummary | None = None
        self.step = 0
        self.epoch = 0
        self.elapsed = 0.0
        self.lr: float | None = None
        self.last_loss: float | None = None
        self.last_val_loss: float | None = None
        self.last_accuracy: float | None = None
        self.last_val_accuracy: float | None = None
        self.ledger: LedgerEntry | None = None  # the last step written out
        self.graph: StepGraph | None = None  # the autograd graph of that step
        self._rate_window: list[tuple[int, float]] = []  # (step, elapsed) for steps/s
        for history in (self.train, self.whole, self.lrs, self.validation, self.accuracy, self.val_accuracy, self.path):
            history.clear()

    # --- events in ---

    def apply(self, event) -> None:
        match event:
            case StepLosses():
                last = event.first_step + len(event.losses) - 1
                self.train.extend(range(event.first_step, last + 1), event.losses)
                self.lrs.extend(range(event.first_step, last + 1), event.lrs)
                self.step, self.epoch = last, event.epoch
                self.elapsed = event.elapsed[-1]
                self.lr, self.last_loss = event.lrs[-1], event.losses[-1]
                self._rate_window.append((last, self.elapsed))
                del self._rate_window[:-20]
            case EpochsEnded():
                if event.val_losses:
                    self.validation.extend(event.steps, event.val_losses)
                    self.last_val_loss = event.val_losses[-1]
                if event.accuracies:
                    self.accuracy.extend(event.steps, event.accuracies)
                    self.last_accuracy = event.accuracies[-1]
                if event.val_accuracies:
                    self.val_accuracy.extend(event.steps, event.val_accuracies)
                    self.last_val_accuracy = event.val_accuracies[-1]
            case ParameterPath():
                self.whole.extend(event.steps, event.losses)
                self.path.extend(event.steps, event.points)
            case LedgerEntry():
                self.ledger = event
            case StepGraph():
                self.graph = event
            case Snapshot():
                self.snapshot = event
                self.lr = event.lr
            case StateChanged():
                self.state, self.message = event.state, event.message
            case RunStarted():
                self.started, self.snapshot, self.lr = event, event.initial, event.initial.lr
            case RunFinished():
                self.summary = event.summary
                self.state, self.message = event.summary.state, event.summary.message
                self.elapsed = event.summary.seconds
            case RunFailed():
                self.state, self.message = RunState.ERROR, event.message

    # --- what to show ---

    @property
    def active(self) -> bool:
        """A run exists that can still be paused, stepped or stopped."""
        return self.state in (RunState.RUNNING, RunState.PAUSED)

    @property
    def steps_per_s(self) -> float | None:
        """Recent training speed (over the last second or so of events)."""
        if self.summary is not None:
            return self.summary.steps_per_s
        if len(self._rate_window) < 2:
            return None
        (s0, t0), (s1, t1) = self._rate_window[0], self._rate_window[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None

    @property
    def classifies(self) -> bool:
        """The run is a classifier's (cross-entropy, one output per class)."""
        return self.started is not None and self.started.classes is not None

    @property
    def separable(self) -> bool:
        """A classifier whose classes are linearly separable: no finite θ is optimal."""
        return self.started is not None and bool(self.started.separable)

    @property
    def optimal_loss(self) -> float | None:
        return self.started.optimal_loss if self.started else None

    @property
    def parameter_names(self) -> list[str]:
        """Names of [w..., b] as the inspector and the landscape show them (a classifier's: W row
        by row, w[class,feature], then b[class])."""
        started = self.started
        if started is None:
            return []
        if started.classes is None:
            return [f"w[{name}]" for name in started.feature_names] + ["b"]
        return [f"w[{label},{name}]" for label in started.classes for name in started.feature_names] + [
            f"b[{label}]" for label in started.classes
        ]

    @property
    def optimal_theta(self) -> list[float] | None:
        """θ* as [W row by row, b], or None when no finite θ is optimal."""
        started = self.started
        return None if started is None else flat_theta(started.optimal_weights, started.optimal_bias)

    def loss_slice(self, i: int, j: int):
        """The loss over parameters i and j (the others at their optimum), or None without the
        loss's quadratic form (more than QUADRATIC_DIMS features)."""
        started = self.started
        if started is None or started.gram is None:
            return None
        from ..core.landscape import LossSlice  # numpy: loaded once there is a run to draw

        theta_star = self.optimal_theta
        if theta_star is None:
            return None
        return LossSlice.of(started.gram, theta_star, started.optimal_loss, i, j)

    def parameter_rows(self) -> list[ParameterRow]:
        started, snapshot = self.started, self.snapshot
        if started is None or snapshot is None:
            return []
        weights = len(snapshot.weights)
        true_theta: list[float | None] = [None] * (weights + snapshot.outputs)
        if started.true_weights and started.true_bias is not None:
            true_theta = [*started.true_weights, started.true_bias]
        optimal = self.optimal_theta
        optimum: list[float | None] = [None] * len(true_theta) if optimal is None else list(optimal)
        biases = snapshot.biases or [snapshot.bias]
        grad_biases = snapshot.grad_biases or ([snapshot.grad_bias] if snapshot.grad_bias is not None else None)
        rows = []
        names = self.parameter_names
        for i in range(weights):
            rows.append(
                ParameterRow(
                    name=names[i],
                    value=snapshot.weights[i],
                    grad=None if snapshot.grad_weights is None else snapshot.grad_weights[i],
                    state={key: per_weight[i] for key, (per_weight, _) in snapshot.state.items()},
                    true=true_theta[i],
                    optimum=optimum[i],
                )
            )
        for k, bias in enumerate(biases):
            state_biases = snapshot.state_biases or {key: [value] for key, (_, value) in snapshot.state.items()}
            rows.append(
                ParameterRow(
                    name=names[weights + k],
                    value=bias,
                    grad=None if grad_biases is None else grad_biases[k],
                    state={key: values[k] for key, values in state_biases.items()},
                    true=true_theta[weights + k],
                    optimum=optimum[weights + k],
                )
            )
        return rows

    def distance_to_optimum(self) -> float | None:
        gaps = [row.gap for row in self.parameter_rows()]
        if not gaps or any(gap is None for gap in gaps):
            return None
        return math.sqrt(sum(gap**2 for gap in gaps if gap is not None))
