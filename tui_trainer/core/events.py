"""What a run tells its observers. Plain picklable dataclasses of Python numbers: they cross a
process boundary to the app, and nothing in them is a tensor or can be NaN or infinite."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from .lab_events import StepGraph
from .run_facts import Bias, Weights


class RunState(StrEnum):
    IDLE = "IDLE"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    DONE = "DONE"
    DIVERGED = "DIVERGED"
    STOPPED = "STOPPED"  # stopped by the person (stop, reset, Ctrl-C) before the last epoch
    ERROR = "ERROR"


@dataclass(slots=True)
class Snapshot:
    """Parameters, their gradients and the optimizer's state after `step` steps."""

    step: int
    epoch: int
    lr: float
    weights: list[float]
    bias: float
    grad_weights: list[float] | None  # None before the first backward
    grad_bias: float | None
    # optimizer state by name (velocity, sum_sq, mean_sq, m, v): (per weight, for the bias)
    state: dict[str, tuple[list[float], float]] = field(default_factory=dict)
    loss: float | None = None  # the last batch loss
    grad_fn: str | None = None  # the last loss's grad_fn, e.g. MseLossBackward0
    requires_grad: dict[str, bool] = field(default_factory=dict)
    training: bool = True  # model.training
    eval_grad_fn: str | None = None  # the last evaluation's grad_fn: None under torch.no_grad()
    # a classifier has one output per class: `weights` is then W row by row (class by class), and
    # `bias`, `grad_bias` and `state`'s bias the first class's; these hold every class's
    outputs: int = 1
    biases: list[float] = field(default_factory=list)
    grad_biases: list[float] | None = None
    state_biases: dict[str, list[float]] = field(default_factory=dict)


@dataclass(slots=True)
class RunStarted:
    algorithm: str
    implementation: str
    loss: str  # "mse" or "cross-entropy"
    classes: list[str] | None  # a classifier's labels, in the order of the model's outputs
    separable: bool | None
    description: str  # algorithm and hyperparameters, for a title
    device: str  # e.g. "cpu" or "cuda:0 (NVIDIA H200, 1.2/139.8 GiB)"
    data: str
    n_train: int
    n_val: int
    feature_names: list[str]
    target_name: str
    steps_per_epoch: int
    total_steps: int
    epochs: int
    optimal_weights: Weights | None  # None when no finite θ is optimal (separable classes)
    optimal_bias: Bias | None
    optimal_loss: float
    true_weights: list[float] | None
    true_bias: float | None
    feature_means: list[float] | None
    feature_stds: list[float] | None
    initial: Snapshot
    stability: Any = None  # core.stability.Stability of the training data
    # the training loss as a quadratic in θ = [w, b]: L = θᵀGθ - 2cᵀθ + s (None past QUADRATIC_DIMS)
    gram: list[list[float]] | None = None
    moment: list[float] | None = None
    power: float | None = None
    outputs: int = 1  # the model's: 1 for a regression, one per class


@dataclass(slots=True)
class StepLosses:
    """Batch losses of consecutive steps: losses[i] belongs to step first_step + i."""

    first_step: int  # 1-based
    epoch: int  # 1-based epoch of the last of these steps
    losses: list[float]
    lrs: list[float]  # the learning rate each step used
    elapsed: list[float]  # seconds of training (pauses excluded) when each step finished


@dataclass(slots=True)
class ParameterPath:
    """Where the parameters were after some steps, and the loss on the whole training set there
    (exact, from the loss's quadratic form): points[i] = [w..., b] after step steps[i]. Sent only
    by a run that tracks its path (the app, a race)."""

    steps: list[int]
    points: list[list[float]]
    losses: list[float]
    accuracies: list[float] | None = None  # a classifier's share of training rows right at each point


@dataclass(slots=True)
class EpochsEnded:
    """Epochs that ended among the steps just reported (one event, however many epochs)."""

    epochs: list[int]  # 1-based
    steps: list[int]  # the step each ended on
    train_losses: list[float]  # mean of each epoch's batch losses, weighted by batch size
    val_losses: list[float] | None  # None without a validation split
    # a classifier's: the share of each epoch's rows its batches got right, and of the validation rows
    accuracies: list[float] | None = None
    val_accuracies: list[float] | None = None


@dataclass(slots=True)
class BatchRow:
    """One row of a batch written out. A regression's: ŷ = w·x + b and ŷ − y. A classifier's: `y`
    is the class index, `prediction` the class of the highest logit, `residual` p(y) − 1 (the own
    class's entry of softmax − onehot), and the logits, softmax and −log p(y) are given too."""

    x: list[float]
    y: float
    prediction: float  # ŷ = w·x + b
    residual: float  # ŷ - y
    logits: list[float] | None = None  # z = Wx + b, one per class
    probabilities: list[float] | None = None  # softmax(z)
    nll: float | None = None  # −log p(y)


@dataclass(slots=True)
class UpdateLine:
    """One line of a rule written out: `symbol = formula (with the numbers) = value`."""

    symbol: str
    formula: str
    value: float


@dataclass(slots=True)
class ParameterUpdate:
    name: str  # w[x1] ... b
    before: float
    hand_gradient: float  # 2/n Σ (ŷ - y)·x, by the chain rule
    gradient: float  # what the optimizer used: autograd's .grad (the fused engine's closed form)
    lines: list[UpdateLine]  # the rule, written out, ending in the new value
    after: float  # the value the optimizer actually produced


@dataclass(slots=True)
class LedgerEntry:
    """One step written out with its own numbers (sent when the app's Learn view asks)."""

    step: int
    epoch: int
    algorithm: str
    rule: str
    engine: str
    lr: float
    batch_size: int
    rows: list[BatchRow]  # the first few rows of the batch
    loss: float  # mean of the squared residuals, by hand
    loss_reported: float  # the loss the run reported for this step
    updates: list[ParameterUpdate]
    gradient_source: str  # ".grad (autograd)" or "closed form (fused)"
    experiments: list[str] = field(default_factory=list)
    loss_name: str = "mse"  # or "cross-entropy": which step the rows and the loss write out
    classes: list[str] | None = None  # a classifier's labels, by class index


@dataclass(slots=True)
class StateChanged:
    state: RunState
    message: str = ""


@dataclass(slots=True)
class RunSummary:
    algorithm: str
    implementation: str  # torch or scratch: the autograd engine's update (fused has its own)
    loss: str
    classes: list[str] | None
    separable: bool | None
    engine: str
    device: str
    state: RunState
    steps: int
    epochs: int
    final_loss: float | None
    val_loss: float | None
    optimal_loss: float
    weights: Weights
    bias: Bias
    optimal_weights: Weights | None
    optimal_bias: Bias | None
    true_weights: list[float] | None
    true_bias: float | None
    feature_names: list[str]
    feature_means: list[float] | None
    feature_stds: list[float] | None
    lr: float
    diverged: bool
    interrupted: bool
    accuracy: float | None  # a classifier's share of training rows right at the end
    val_accuracy: float | None
    steps_per_s: float
    seconds: float
    message: str = ""
    hessian_eigenvalues: list[float] | None = None  # [largest, smallest] of the MSE's Hessian
    condition_number: float | None = None
    max_stable_lr: float | None = None  # plain full-batch gradient descent diverges above it
    # the weights and bias on the raw columns, when the features were standardized (core/units)
    unscaled_weights: list[float] | list[list[float]] | None = None
    unscaled_bias: float | list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every non-finite float becomes None."""
        return finite_dict(asdict(self))


@dataclass(slots=True)
class RunFinished:
    summary: RunSummary


Event = RunStarted | StepLosses | ParameterPath | EpochsEnded | StateChanged | Snapshot | LedgerEntry | StepGraph | RunFinished
EventSink = Callable[[Event], None]


def finite_dict(value: dict[str, Any]) -> dict[str, Any]:
    """finite_only for a dict, such as a dataclass's asdict, typed as the dict it returns."""
    return {key: finite_only(item) for key, item in value.items()}


def finite_only(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_only(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_only(item) for item in value]
    return value
