"""A race: several optimizers trained side by side, in one loop, on the same problem.

Every entry is a Trainer built from the same data, seed, initialisation and device, so all start
from the same parameters and see the rows in the same order (the order depends only on the seed),
and each ends exactly where `tui-trainer train` with its settings would. The loop gives each live
entry one chunk in turn; an entry that diverges stops alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from pydantic import ValidationError

from .config import OptimizerConfig, RunConfig, with_optimizer
from .control import RunControl
from .data import load_dataset
from .errors import ConfigError
from .events import Event, ParameterPath, RunFinished, RunState, RunSummary, StateChanged, StepLosses, finite_only
from .trainer import Trainer, single_thread_when
from .validation import explain

NEAR_OPTIMAL = 0.01  # "reached the optimum": a whole-set loss within 1% of the optimal loss


@dataclass(frozen=True)
class RaceEntry:
    name: str
    optimizer: OptimizerConfig


def parse_entries(spec: str, shared: dict[str, Any] | None = None) -> list[RaceEntry]:
    """Entries from `bgd,sgd,adam:lr=0.1,momentum:lr=0.05:momentum=0.9`.

    Each comma-separated part is an algorithm, then `:setting=value` pairs (any optimizer setting,
    `-` or `_` alike). `shared` settings apply to every entry that does not set them itself. The
    same spec twice is named apart with `#2`.
    """
    parts = [part.strip() for part in spec.split(",")]
    if not spec.strip() or not all(parts):
        raise ConfigError("--entries needs algorithms separated by commas, e.g. bgd,sgd,adam:lr=0.1")
    entries, seen = [], {}
    for part in parts:
        algorithm, *pairs = part.split(":")
        values: dict[str, Any] = {**(shared or {}), "algorithm": algorithm.strip()}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ConfigError(f"entry {part!r}: {pair!r} is not setting=value (e.g. lr=0.1)")
            values[key.strip().replace("-", "_")] = value.strip()
        try:
            optimizer = OptimizerConfig.model_validate(values)
        except ValidationError as error:
            raise ConfigError(f"entry {part!r}: " + "; ".join(explain(error, model=OptimizerConfig))) from None
        seen[part] = seen.get(part, 0) + 1
        entries.append(RaceEntry(part if seen[part] == 1 else f"{part}#{seen[part]}", optimizer))
    return entries


class Reach:
    """When a run first got within NEAR_OPTIMAL of the optimal loss, in steps and training seconds.

    Fed the run's events; its whole-set losses come from ParameterPath (exact, not a noisy batch).
    """

    def __init__(self, optimal_loss: float) -> None:
        self.target = optimal_loss * (1 + NEAR_OPTIMAL)
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
            for step, loss in zip(event.steps, event.losses):
                if loss <= self.target:
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
    weights: list[float]
    bias: float
    lr: float
    steps_per_s: float


@dataclass
class RaceResult:
    optimal_loss: float
    optimal_weights: list[float]
    optimal_bias: float
    data: str
    interrupted: bool
    entries: list[EntryResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return finite_only(asdict(self))


@dataclass(slots=True)
class RaceFinished:
    result: RaceResult


class Race:
    def __init__(
        self,
        base: RunConfig,
        entries: list[RaceEntry],
        *,
        sink: Callable[[object], None] | None = None,
        control: RunControl | None = None,
        chunk_seconds: float = 0.05,
    ) -> None:
        if not entries:
            raise ConfigError("a race needs at least one entry")
        self.entries = entries
        self.sink = sink or (lambda event: None)
        self.control = control or RunControl()
        dataset = load_dataset(base.data)
        self.trainers = [
            Trainer(
                with_optimizer(base, entry.optimizer),
                dataset=dataset,
                sink=self._entry_sink(index),
                chunk_seconds=chunk_seconds / len(entries),  # one round of all entries ≈ one chunk
                path="every",
            )
            for index, entry in enumerate(entries)
        ]
        self.optimum = self.trainers[0].optimum
        self.data = dataset.description
        self.reach = [Reach(self.optimum.loss) for _ in entries]
        self.state = RunState.IDLE

    def _entry_sink(self, index: int) -> Callable[[Event], None]:
        def sink(event: Event) -> None:
            self.reach[index].apply(event)
            self.sink(EntryEvent(index, event))

        return sink

    def run(self) -> RaceResult:
        self.sink(RaceStarted([e.name for e in self.entries], [e.optimizer.algorithm.value for e in self.entries], self.optimum.loss))
        small = all(trainer.small_steps for trainer in self.trainers)
        with single_thread_when(small):
            for trainer in self.trainers:
                trainer.begin()
            live = list(self.trainers)
            while live:
                granted = self.control.permit(1 << 30)
                if granted == 0:
                    if self.control.stopped:
                        for trainer in live:
                            trainer.control.stop()
                            trainer.advance()  # notes the stop: STOPPED
                        break
                    self._set_state(RunState.PAUSED)
                    self.control.wait()
                    continue
                self._set_state(RunState.PAUSED if self.control.paused else RunState.RUNNING)
                limit = granted if self.control.paused else None  # single steps: one each
                live = [trainer for trainer in live if trainer.advance(limit)]
            summaries = [trainer.finish() for trainer in self.trainers]
        result = self._result(summaries)
        self._set_state(RunState.STOPPED if result.interrupted else RunState.DONE)
        self.sink(RaceFinished(result))
        return result

    def _set_state(self, state: RunState) -> None:
        if state is not self.state:
            self.state = state
            self.sink(StateChanged(state))

    def _result(self, summaries: list[RunSummary]) -> RaceResult:
        result = RaceResult(
            optimal_loss=self.optimum.loss,
            optimal_weights=list(self.optimum.weights),
            optimal_bias=self.optimum.bias,
            data=self.data,
            interrupted=self.control.stopped,
        )
        for entry, summary, reach in zip(self.entries, summaries, self.reach):
            result.entries.append(
                EntryResult(
                    name=entry.name,
                    algorithm=summary.algorithm,
                    state=summary.state.value,
                    steps=summary.steps,
                    epochs=summary.epochs,
                    final_loss=summary.final_loss,
                    steps_to_optimal=reach.step,
                    seconds_to_optimal=reach.seconds,
                    diverged=summary.diverged,
                    weights=summary.weights,
                    bias=summary.bias,
                    lr=summary.lr,
                    steps_per_s=summary.steps_per_s,
                )
            )
        return result
