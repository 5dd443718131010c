"""`tui-trainer train`: the core's trainer in this process, a progress bar, a summary, exit codes."""

from __future__ import annotations

import json
import signal
import sys
from contextlib import contextmanager
from typing import Iterator

from .cli import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, fail
from .core.config import RunConfig
from .core.events import Event, RunStarted, RunState, RunSummary, StepLosses


def train(config: RunConfig, *, metrics: str | None, as_json: bool, quiet: bool) -> int:
    try:
        with _interrupts_raise():
            from .core.control import RunControl
            from .core.errors import TrainerError
            from .core.trainer import Trainer

            control = RunControl()
            try:
                trainer = Trainer(config, control=control)
            except TrainerError as error:
                fail(str(error))
    except KeyboardInterrupt:
        print("tui-trainer: interrupted before training started", file=sys.stderr)
        return EXIT_INTERRUPTED

    sinks = []
    if metrics:
        from .metrics import MetricsWriter

        try:
            sinks.append(MetricsWriter.open(metrics, config.log_every))
        except OSError as error:
            fail(f"--metrics: cannot write {metrics} ({error.strerror or error})")
    progress = None if quiet or not sys.stderr.isatty() else _ProgressBar()
    if progress:
        sinks.append(progress)

    def sink(event: Event) -> None:
        for each in sinks:
            each(event)

    trainer.sink = sink
    with _interrupts_stop(control):
        try:
            summary = trainer.run()
        finally:
            if progress:
                progress.close()
    _print_summary(summary, as_json)
    if summary.state is RunState.DIVERGED:
        print(f"tui-trainer: diverged: {summary.message}", file=sys.stderr)
        return EXIT_DIVERGED
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK


@contextmanager
def _interrupts_raise() -> Iterator[None]:
    """Before the run: SIGTERM interrupts like Ctrl-C does."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _interrupts_stop(control) -> Iterator[None]:
    """During the run: Ctrl-C or SIGTERM stop it cleanly (summary printed, metrics flushed)."""

    def stop(signum, frame) -> None:
        control.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_summary(summary: RunSummary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.to_dict(), allow_nan=False))
        return
    data = summary.to_dict()

    def number(value) -> str:
        return "n/a" if value is None else f"{value:.6g}"

    def vector(values) -> str:
        return "n/a" if values is None else "[" + ", ".join(number(v) for v in values) + "]"

    lines = [
        f"{summary.algorithm} ({summary.implementation}) on {summary.device}: {summary.state.value} after "
        f"{summary.steps} steps, {summary.epochs} epochs, {summary.seconds:.3g} s ({summary.steps_per_s:,.0f} steps/s)",
        f"  loss     final {number(data['final_loss'])}   optimal {number(data['optimal_loss'])}   validation {number(data['val_loss'])}",
        f"  weights  {vector(data['weights'])}   optimal {vector(data['optimal_weights'])}   true {vector(data['true_weights'])}",
        f"  bias     {number(data['bias'])}   optimal {number(data['optimal_bias'])}   true {number(data['true_bias'])}",
    ]
    if summary.feature_means is not None:
        lines.append(f"  standardized features: means {vector(data['feature_means'])}, stds {vector(data['feature_stds'])}")
    if summary.message and summary.state is not RunState.DONE:
        lines.append(f"  {summary.message}")
    print("\n".join(lines))


class _ProgressBar:
    """A rich progress bar on stderr; only used when stderr is a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.progress.start()
            self.task = self.progress.add_task(event.algorithm, total=event.total_steps, loss="...")
        elif isinstance(event, StepLosses) and self.task is not None:
            step = event.first_step + len(event.losses) - 1
            self.progress.update(self.task, completed=step, loss=f"{event.losses[-1]:.5g}")

    def close(self) -> None:
        self.progress.stop()


