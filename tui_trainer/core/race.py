"""A race: several optimizers trained side by side, in one loop, on the same problem.

Every entry is a Trainer built from the same data, seed, initialisation and device, so all start
from the same parameters and see the rows in the same order (the order depends only on the seed),
and each ends exactly where `tui-trainer train` with its settings would. The loop gives each live
entry one chunk in turn; an entry that diverges stops alone.
"""

from __future__ import annotations

from collections.abc import Callable

from .config import RunConfig
from .control import RunControl
from .data import load_dataset
from .errors import ConfigError
from .events import Event, RunState, RunSummary, StateChanged
from .race_events import EntryEvent, EntryResult, RaceEntry, RaceFinished, RaceResult, RaceStarted, Reach, entry_config
from .run_facts import run_facts
from .trainer import Trainer, single_thread_when


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
        dataset = load_dataset(base.data, classify=base.classifies)
        self.trainers = [
            Trainer(
                entry_config(base, entry),
                dataset=dataset,
                sink=self._entry_sink(index),
                chunk_seconds=chunk_seconds / len(entries),  # one round of all entries ≈ one chunk
                path="every",
            )
            for index, entry in enumerate(entries)
        ]
        self.optimum = self.trainers[0].optimum
        self.facts = run_facts(base.optimizer, dataset, self.optimum, base.loss.value)
        self.data = dataset.description
        separable = bool(self.facts["separable"]) and base.optimizer.weight_decay == 0
        self.reach = [Reach(self.optimum.loss, self.optimum.power, separable) for _ in entries]
        self.state = RunState.IDLE

    def _entry_sink(self, index: int) -> Callable[[Event], None]:
        def sink(event: Event) -> None:
            self.reach[index].apply(event)
            self.sink(EntryEvent(index, event))

        return sink

    def run(self) -> RaceResult:
        names, algorithms = [e.name for e in self.entries], [e.optimizer.algorithm.value for e in self.entries]
        self.sink(RaceStarted(names, algorithms, self.optimum.loss, self.optimum.power, self.reach[0].goal))
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
            # single steps while paused: exactly the steps granted, each; else a chunk each
            live = [t for t in live if self._advance(t, granted if self.control.paused else None)]
        summaries = [trainer.finish() for trainer in self.trainers]
        result = self._result(summaries)
        self._set_state(RunState.STOPPED if result.interrupted else RunState.DONE)
        self.sink(RaceFinished(result))
        return result

    @staticmethod
    def _advance(trainer: Trainer, steps: int | None) -> bool:
        """A chunk of `trainer` (or exactly `steps` steps); False once it has ended. Each entry
        runs with the thread count `train` would give it, so its numbers are `train`'s."""
        with single_thread_when(trainer.small_steps):
            if steps is None:
                return trainer.advance()
            goal = trainer.step + steps
            while trainer.step < goal:
                if not trainer.advance(goal - trainer.step):
                    return False
            return True

    def _set_state(self, state: RunState) -> None:
        if state is not self.state:
            self.state = state
            self.sink(StateChanged(state))

    def _result(self, summaries: list[RunSummary]) -> RaceResult:
        result = RaceResult(
            optimal_loss=self.optimum.loss,
            target_loss=self.reach[0].target,
            optimal_weights=self.facts["optimal_weights"],
            optimal_bias=self.facts["optimal_bias"],
            data=self.data,
            interrupted=self.control.stopped,
            goal=self.reach[0].goal,
        )
        for entry, summary, reach in zip(self.entries, summaries, self.reach, strict=True):
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

