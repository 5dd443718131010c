"""What a run's first and last events both say about it, mapped from the run in one place.

`RunStarted` and `RunSummary` carry the same facts: the algorithm, the loss, the features, the
classes, the optimum and the true parameters. `run_facts` builds them for both.

Parameters are reported in the model's shapes: a regression's weights are one list of d numbers and
its bias one number (as they always were); a classifier's weights are k rows of d numbers and its
bias k numbers, one per class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from .config import OptimizerConfig
    from .data import Dataset

Weights = list[float] | list[list[float]]
Bias = float | list[float]


class RunFacts(TypedDict):
    """The fields `RunStarted` and `RunSummary` share, with the same values."""

    algorithm: str
    implementation: str
    loss: str
    classes: list[str] | None
    separable: bool | None  # a classifier's: is the training set linearly separable
    feature_names: list[str]
    optimal_weights: Weights | None  # None when no finite θ reaches the optimum (separable classes)
    optimal_bias: Bias | None
    optimal_loss: float
    true_weights: list[float] | None
    true_bias: float | None
    feature_means: list[float] | None
    feature_stds: list[float] | None


def shaped_weights(flat: Sequence[float], outputs: int) -> Weights:
    """Flat weights (row by row) in the model's shape: a list, or one row per class."""
    values = list(flat)
    if outputs == 1:
        return values
    width = len(values) // outputs
    return [values[i * width : (i + 1) * width] for i in range(outputs)]


def shaped_bias(flat: Sequence[float], outputs: int) -> Bias:
    values = list(flat)
    return values[0] if outputs == 1 else values


def flat_theta(weights: Weights | None, bias: Bias | None) -> list[float] | None:
    """[W row by row, b] from the shaped weights and bias: θ as the model flattens it."""
    if weights is None or bias is None:
        return None
    flat: list[float] = []
    for row in weights:
        flat += row if isinstance(row, list) else [row]
    return flat + (bias if isinstance(bias, list) else [bias])


def run_facts(optimizer: OptimizerConfig, data: Dataset, optimum: object, loss: str) -> RunFacts:
    """Fresh lists on every call: two events never share a list that one observer might change.
    `optimum` is the run's reference (core.objective.Reference)."""
    weights = getattr(optimum, "weights", None)
    bias = getattr(optimum, "bias", None)
    outputs = data.outputs
    if bias is not None and not isinstance(bias, (tuple, list)):
        bias = [bias]
    return RunFacts(
        algorithm=optimizer.algorithm.value,
        implementation=optimizer.implementation.value,
        loss=loss,
        classes=None if data.classes is None else list(data.classes),
        separable=getattr(optimum, "separable", None) if data.classes is not None else None,
        feature_names=list(data.feature_names),
        optimal_weights=None if weights is None else shaped_weights(weights, outputs),
        optimal_bias=None if bias is None else shaped_bias(bias, outputs),
        optimal_loss=float(optimum.loss),  # type: ignore[attr-defined]  # every Reference has a loss
        true_weights=_listed(data.true_weights),
        true_bias=data.true_bias,
        feature_means=_listed(data.feature_means),
        feature_stds=_listed(data.feature_stds),
    )


def _listed(values: tuple[float, ...] | None) -> list[float] | None:
    return None if values is None else list(values)
