"""What a race is made of (entries), what it tells its observers, and when a run reached the
optimum. Torch-free: the app checks entries and reads these events in its own process."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .events import Event, ParameterPath, RunFinished, StepLosses, finite_dict
from .run_facts import Bias, Weights

if TYPE_CHECKING:
    from .config import OptimizerConfig, RunConfig

NEAR_OPTIMAL = 0.01  # "reached the optimum": a whole-set loss within 1% of the optimal loss
# Predictions in float32 carry a relative error of a few ulps (2⁻²⁴ ≈ 6e-8), so a loss within about
# (1e-6)²·mean(y²) of the optimum is rounding, not progress. It only matters when the optimum itself
# is that small (data fit exactly); a wider floor (it was 1e-6·mean(y²)) also moved the 1% line on
# real data: on NIST's Longley table to 8.2% above the optimum.
FLOAT32_FLOOR = 1e-12


def reach_target(optimal_loss: float, scale: float) -> float:
    """The whole-set loss that counts as having reached the optimum: within 1% of it, or within
    float32's resolution at the data's scale (mean y²) when that is wider."""
    return optimal_loss + max(NEAR_OPTIMAL * optimal_loss, FLOAT32_FLOOR * scale)


@dataclass(frozen=True)
class RaceEntry:
    name: str
    optimizer: OptimizerConfig
    # the settings as given (shared ones included): a run re-validates them with its loss, whose
    # defaults may differ (a classification's longer epochs)
    settings: dict[str, Any] = field(default_factory=dict)


def parse_entries(spec: str, shared: dict[str, Any] | None = None) -> list[RaceEntry]:
    """Entries from `bgd,sgd,adam:lr=0.1,momentum:lr=0.05:momentum=0.9`.

    Each comma-separated part is an algorithm, then `:setting=value` pairs (any optimizer setting,
    `-` or `_` alike). `shared` settings apply to every entry that does not set them itself. The
    same spec twice is named apart with `#2`.
    """
    # the settings models load here, not with the events: the app reads events before its first frame
    from pydantic import ValidationError

    from .config import OptimizerConfig
    from .validation import explain

    parts = [part.strip() for part in spec.split(",")]
    if not spec.strip() or not all(parts):
        raise ConfigError("--entries needs algorithms separated by commas, e.g. bgd,sgd,adam:lr=0.1")
    entries: list[RaceEntry] = []
    seen: dict[str, int] = {}
    for part in parts:
        algorithm, *pairs = part.split(":")
        values: dict[str, Any] = {**(shared or {}), "algorithm": algorithm.strip()}
        given: set[str] = set()
        for pair in pairs:
            key, sep, value = pair.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or not key or not value.strip():
                raise ConfigError(f"entry {part!r}: {pair!r} is not setting=value (e.g. lr=0.1)")
            if key == "algorithm":
                raise ConfigError(f"entry {part!r}: the algorithm comes first, before the first ':'")
            if key in given:
                raise ConfigError(f"entry {part!r}: {key} is set twice")
            given.add(key)
            values[key] = value.strip()
        try:
            optimizer = OptimizerConfig.model_validate(values)
        except ValidationError as error:
            raise ConfigError(f"entry {part!r}: " + "; ".join(explain(error, model=OptimizerConfig))) from None
        seen[part] = seen.get(part, 0) + 1
        entries.append(RaceEntry(part if seen[part] == 1 else f"{part}#{seen[part]}", optimizer, values))
    return entries


def entry_config(base: RunConfig, entry: RaceEntry) -> RunConfig:
    """The run of one entry; an entry at odds with the shared settings is a clear error."""
    from pydantic import ValidationError

    from .config import RunConfig, replaced, with_optimizer
    from .validation import explain

    try:
        if entry.settings:
            return replaced(base, optimizer=entry.settings)
        return with_optimizer(base, entry.optimizer)
    except ValidationError as error:
        raise ConfigError(f"entry {entry.name!r}: " + "; ".join(explain(error, model=RunConfig))) from None


NEAR_OPTIMAL_GOAL = "within 1% of the optimal loss"
ALL_RIGHT_GOAL = "every training row classified right"  # separable classes: the optimal loss 0 is never reached


class Reach:
    """When a run first got within NEAR_OPTIMAL of the optimal loss, in steps and training seconds;
    for separable classes, whose optimal loss 0 no finite step reaches, when it first classified
    every training row right.

    Fed the run's events; its whole-set losses come from ParameterPath (exact, not a noisy batch).
    """

    def __init__(self, optimal_loss: float, scale: float = 0.0, separable: bool = False) -> None:
        self.target = reach_target(optimal_loss, scale)
        self.separable = separable
        self.goal = ALL_RIGHT_GOAL if separable else NEAR_OPTIMAL_GOAL
        self.step: int | None = None
        self.seconds: float | None = None
        self._elapsed: dict[int, float] = {}  # step -> seconds, for the last losses reported
        self.ended = False

    def apply(self, event: Event) -> None:
        if self.step is not None:
            return
        if isinstance(event, StepLosses):
            self._elapsed = {event.first_step + i: t for i, t in enumerate(event.elapsed)}
        elif isinstance(event, ParameterPath):
            measures = event.accuracies if self.separable and event.accuracies is not None else event.losses
            for step, measure in zip(event.steps, measures, strict=True):
                if (measure >= 1.0) if self.separable else (measure <= self.target):
                    self.step = step
                    self.seconds = self._elapsed.get(step)
                    return
        elif isinstance(event, RunFinished):
            self.ended = True

    def describe(self) -> str:
        if self.step is not None:
            return f"{self.step:,} steps, {self.seconds:.3g} s" if self.seconds is not None else f"{self.step:,} steps"
        return "never" if self.ended else "not yet"


@dataclass(slots=True)
class EntryEvent:
    """An event of one entry's run."""

    entry: int
    event: Event


@dataclass(slots=True)
class RaceStarted:
    names: list[str]
    algorithms: list[str]
    optimal_loss: float
    loss_scale: float  # mean y², the loss of predicting 0: where float32's resolution lies
    goal: str = NEAR_OPTIMAL_GOAL

@dataclass
class EntryResult:
    name: str
    algorithm: str
    state: str
    steps: int
    epochs: int
    final_loss: float | None
    steps_to_optimal: int | None
    seconds_to_optimal: float | None
    diverged: bool
    weights: Weights
    bias: Bias
    lr: float
    steps_per_s: float


@dataclass
class RaceResult:
    optimal_loss: float
    target_loss: float  # what "within 1% of the optimal loss" means here (reach_target)
    optimal_weights: Weights | None  # None for separable classes: no finite θ is optimal
    optimal_bias: Bias | None
    data: str
    interrupted: bool
    goal: str = NEAR_OPTIMAL_GOAL  # what reaching the optimum means: NEAR_OPTIMAL_GOAL or ALL_RIGHT_GOAL
    entries: list[EntryResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return finite_dict(asdict(self))


@dataclass(slots=True)
class RaceFinished:
    result: RaceResult
