"""What a run's first and last events both say about it, mapped from the run in one place.

`RunStarted` and `RunSummary` carry the same facts: the algorithm, the features, the optimum and
the true parameters. `run_facts` builds them for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from .config import OptimizerConfig
    from .data import Dataset
    from .reference import Optimum


class RunFacts(TypedDict):
    """The fields `RunStarted` and `RunSummary` share, with the same values."""

    algorithm: str
    implementation: str
    feature_names: list[str]
    optimal_weights: list[float]
    optimal_bias: float
    optimal_loss: float
    true_weights: list[float] | None
    true_bias: float | None
    feature_means: list[float] | None
    feature_stds: list[float] | None


def run_facts(optimizer: OptimizerConfig, data: Dataset, optimum: Optimum) -> RunFacts:
    """Fresh lists on every call: two events never share a list that one observer might change."""
    return RunFacts(
        algorithm=optimizer.algorithm.value,
        implementation=optimizer.implementation.value,
        feature_names=list(data.feature_names),
        optimal_weights=list(optimum.weights),
        optimal_bias=optimum.bias,
        optimal_loss=optimum.loss,
        true_weights=_listed(data.true_weights),
        true_bias=data.true_bias,
        feature_means=_listed(data.feature_means),
        feature_stds=_listed(data.feature_stds),
    )


def _listed(values: tuple[float, ...] | None) -> list[float] | None:
    return None if values is None else list(values)
