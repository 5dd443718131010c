"""`tui-trainer train`: the core's trainer in this process, a progress bar, a summary, exit codes."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from .core.config import RunConfig
from .core.events import Event, RunStarted, RunState, RunSummary, StepLosses
from .core.stability import conditioning
from .exits import EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, fail

if TYPE_CHECKING:
    from rich.progress import TaskID

    from .core.control import RunControl
    from .core.files import OutputFile
    from .core.run_folder import RunFolder
    from .core.trainer import Trainer
    from .metrics import MetricsWriter

T = TypeVar("T")


def build(make: Callable[[], T]) -> T | None:
    """Load the data and set up (importing torch): a bad input exits 2, Ctrl-C returns None."""
    try:
        with _interrupts_raise() as received:
            from .core.errors import TrainerError

            try:
                built = make()
            except TrainerError as error:
                fail(str(error))
            if received:  # the interrupt's exception was swallowed on the way (inside an import)
                raise KeyboardInterrupt
            return built
    except KeyboardInterrupt:
        for sig in STOP_SIGNALS:  # interrupted once is enough: nothing more may kill the exit
            signal.signal(sig, signal.SIG_IGN)
        print("tui-trainer: interrupted before training started", file=sys.stderr)
        return None


def _open_metrics(path: str, config: RunConfig, control: RunControl) -> OutputFile:
    """The metrics file, refused in one line if it cannot be written safely; a write that fails
    later stops the run (its summary is still printed, then that failure: exit 2)."""
    from .core.files import FileProblem, open_output

    inputs = [] if config.data.is_synthetic else [config.data.source]
    try:
        return open_output(path, inputs, on_failure=control.stop)
    except FileProblem as problem:
        fail(f"--metrics: {problem}")


def _ended(summary_exit: int, metrics: OutputFile | None) -> int:
    """The exit code, once the summary is out: a metrics file that could not be written wins."""
    if metrics is not None and metrics.error is not None:
        print(f"tui-trainer: error: --metrics: {metrics.error}; the run stopped there (complete lines kept)", file=sys.stderr)
        return EXIT_BAD_INPUT
    return summary_exit


METRICS_LINE_BYTES = 80  # a step's JSON line, about: {"step": 12345, "epoch": 3, "loss": ..., "lr": ..., "elapsed": ...}
METRICS_WARN_BYTES = 1 << 30


def _warn_if_metrics_are_huge(lines: int, log_every: int) -> None:
    """One line on stderr when --metrics is about to write gigabytes: say how much, and the fix."""
    size = lines * METRICS_LINE_BYTES
    if size < METRICS_WARN_BYTES:
        return
    every = log_every * max(1, round(size / (100 << 20)))  # what keeps it near 100 MB
    print(
        f"tui-trainer: warning: --metrics will write about {size / (1 << 30):.1f} GB ({lines:,} lines); "
        f"--log-every {every:,} writes about {size / every * log_every / (1 << 20):.0f} MB",
        file=sys.stderr,
    )


def train(
    config: RunConfig, *, metrics: str | None, as_json: bool, quiet: bool,
    folder: RunFolder | None = None, resume: bool = False, checkpoint_every: int | None = None,
) -> int:
    from .core.control import RunControl

    control = RunControl()

    def make():
        from .core.data import load_dataset
        from .core.trainer import Trainer

        with _loading_bar(None if config.data.is_synthetic else _progress_bar(quiet)) as progress:
            dataset = load_dataset(config.data, progress=progress, classify=config.classifies)
        trainer = Trainer(config, control=control, dataset=dataset)
        if resume and folder is not None:
            _continue_from_checkpoint(trainer, folder)
            folder.write_config(config)  # its new totals: the folder describes the run it holds
        return trainer

    trainer = build(make)
    if trainer is None:
        return EXIT_INTERRUPTED
    sinks: list[Callable[[Event], None]] = []
    writers: list[MetricsWriter] = []
    handle: OutputFile | None = None
    if metrics is not None:  # an empty name is refused, not ignored
        from .metrics import MetricsWriter

        handle = _open_metrics(metrics, config, control)
        writers.append(MetricsWriter(handle, config.log_every))
        _warn_if_metrics_are_huge((trainer.total_steps - trainer.step) // config.log_every, config.log_every)
    saved: OutputFile | None = None
    if folder is not None:
        from .core.errors import TrainerError
        from .metrics import MetricsWriter

        inputs = [] if config.data.is_synthetic else [config.data.source]
        try:
            saved = folder.open_metrics(inputs, control.stop, trainer.step if resume else None)
        except TrainerError as error:
            fail(str(error))
        writers.append(MetricsWriter(saved, config.log_every))
    sinks += writers
    progress = _progress_bar(quiet)
    if progress:
        sinks.append(progress)

    def sink(event: Event) -> None:
        for each in sinks:
            each(event)

    trainer.sink = sink
    problems: list[str] = []
    run = trainer.run if folder is None else _saving(trainer, folder, checkpoint_every, writers, problems)
    summary = _run_to_the_end(run, control, progress, handle)
    if saved is not None:
        saved.close()
    _print_summary(summary, as_json)
    for problem in problems:  # the run folder could not be written: the run stopped there
        print(f"tui-trainer: error: {problem}", file=sys.stderr)
    if saved is not None and saved.error is not None:
        print(f"tui-trainer: error: --save: {saved.error}; the run stopped there (complete lines kept)", file=sys.stderr)
    if problems or (saved is not None and saved.error is not None):
        return _ended(EXIT_BAD_INPUT, handle)
    if summary.state is RunState.DIVERGED:
        print(f"tui-trainer: diverged: {summary.message}", file=sys.stderr)
        return _ended(EXIT_DIVERGED, handle)
    return _ended(EXIT_INTERRUPTED if summary.interrupted else EXIT_OK, handle)


def _continue_from_checkpoint(trainer: Trainer, folder: RunFolder) -> None:
    """Put `trainer` where the folder's checkpoint left its run; a run with nothing left to do
    (diverged, or finished with every step of its totals taken) is refused. A run killed after its
    last step's checkpoint but before it finished resumes with no steps to take: it only finishes
    (the final losses, the summary)."""
    from .core.errors import ConfigError

    state = folder.restore_into(trainer)
    if state is RunState.DIVERGED:
        raise ConfigError(f"--resume {folder.path}: the run diverged at step {trainer.step}; there is nothing to continue")
    if trainer.step > trainer.total_steps or (trainer.step == trainer.total_steps and state is RunState.DONE):
        raise ConfigError(
            f"--resume {folder.path}: the run has already taken {trainer.step} of its {trainer.total_steps} steps; "
            "give a larger --epochs or --max-steps (totals for the whole run) to continue it"
        )


def _saving(
    trainer: Trainer, folder: RunFolder, every: int | None, writers: list[MetricsWriter], problems: list[str]
) -> Callable[[], RunSummary]:
    """`trainer.run`, checkpointing into `folder` every `every` steps (a chunk ends exactly there;
    without it, every CHECKPOINT_SECONDS) and once more when the run ends, however it ends (done,
    stopped by a signal, diverged)."""
    from .core.errors import TrainerError
    from .core.run_folder import CheckpointClock
    from .core.trainer import single_thread_when

    clock = CheckpointClock(every)

    def flush() -> None:
        for writer in writers:
            writer.flush()

    def save() -> None:
        try:
            folder.checkpoint(trainer, flush)
        except (TrainerError, OSError) as error:
            problems.append(str(error))
            trainer.control.stop()
        clock.saved(trainer.step)

    def run() -> RunSummary:
        with single_thread_when(trainer.small_steps):
            trainer.begin()
            while trainer.advance(clock.limit(trainer.step)):
                if clock.due(trainer.step) and not problems:
                    save()
            if not problems:
                save()
            return trainer.finish()

    return run


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _interrupts_raise() -> Iterator[list[int]]:
    """Before the run: Ctrl-C, SIGTERM and SIGHUP (the SSH connection dropped) interrupt the setup.
    The first raises KeyboardInterrupt and is also remembered in the list this yields: on a busy
    machine a Ctrl-C landing inside `import torch` was sometimes lost, and the run then started
    anyway. Later ones are only remembered."""
    received: list[int] = []

    def interrupt(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_to_the_end(run: Callable[[], T], control: RunControl, progress: _ProgressBar | None, metrics: OutputFile | None) -> T:
    """`run()` with Ctrl-C and SIGTERM stopping it cleanly, so it still returns its summary; the
    progress bar comes down and the metrics file is closed (its lines flushed) however it ends."""
    with _interrupts_stop(control):
        try:
            return run()
        finally:
            if progress:
                progress.close()
            if metrics is not None:
                metrics.close()  # a no-op when the writer closed it at RunFinished


@contextmanager
def _interrupts_stop(control: RunControl) -> Iterator[None]:
    """During the run: Ctrl-C, SIGTERM or SIGHUP stop it cleanly (summary printed, metrics
    flushed). Once it has ended they are ignored: a second Ctrl-C while the summary prints, or in
    torch's exit handlers, must not end the process in a traceback."""

    def stop(signum, frame) -> None:
        control.stop()

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


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
        (
            f"{summary.algorithm} ({summary.implementation}) on {summary.device}: {summary.state.value} after "
            f"{summary.steps} steps, {summary.epochs} epochs, {summary.seconds:.3g} s ({summary.steps_per_s:,.0f} steps/s)"
        ),
        f"  loss     final {number(data['final_loss'])}   optimal {number(data['optimal_loss'])}   validation {number(data['val_loss'])}",
    ]
    if summary.classes is None:
        lines += [
            f"  weights  {vector(data['weights'])}   optimal {vector(data['optimal_weights'])}   true {vector(data['true_weights'])}",
            f"  bias     {number(data['bias'])}   optimal {number(data['optimal_bias'])}   true {number(data['true_bias'])}",
        ]
    else:
        lines += _classifier_lines(data, number, vector)
    if summary.hessian_eigenvalues is not None:
        limit = number(summary.max_stable_lr)
        where = "" if summary.classes is None else " near the optimum"  # cross-entropy's curvature changes with θ
        lines.append(f"  curvature{where} {conditioning(summary.condition_number)}; plain gradient descent diverges above lr {limit}")
    if summary.feature_means is not None:
        lines.append(f"  standardized features: means {vector(data['feature_means'])}, stds {vector(data['feature_stds'])}")
    if isinstance(data.get("unscaled_bias"), float):  # one output: the model as a formula of the raw columns
        terms = [f"{number(w)}·{name}" for w, name in zip(data["unscaled_weights"], summary.feature_names, strict=True)]
        lines.append(f"  in the data's units: ŷ = {' + '.join([*terms, number(data['unscaled_bias'])])}")
    if summary.message and summary.state is not RunState.DONE:
        lines.append(f"  {summary.message}")
    print("\n".join(lines))


def _classifier_lines(data: dict, number: Callable, vector: Callable) -> list[str]:
    """A classifier's accuracy, separability and one line of weights and bias per class."""
    lines = [f"  accuracy training {number(data['accuracy'])}   validation {number(data['val_accuracy'])}"]
    if data["separable"]:
        lines.append("  separable: a line splits every class, so the infimum 0 is not reached at any finite θ")
    optimal_weights, optimal_bias = data["optimal_weights"], data["optimal_bias"]
    for index, label in enumerate(data["classes"]):
        optimum = "" if optimal_weights is None else (
            f"   optimal {vector(optimal_weights[index])} {number(optimal_bias[index])}"
        )
        lines.append(f"  class {label}: weights {vector(data['weights'][index])} bias {number(data['bias'][index])}{optimum}")
    return lines


def _progress_bar(quiet: bool) -> _ProgressBar | None:
    """A progress bar only on a terminal, and not when asked to be quiet."""
    return None if quiet or not sys.stderr.isatty() else _ProgressBar()


@contextmanager
def _loading_bar(bar: _ProgressBar | None) -> Iterator[Callable[[int, int], None] | None]:
    """While a CSV file loads, a bar of its bytes (on a terminal only, as the run's own bar)."""
    if bar is None:
        yield None
        return
    task = bar.progress.add_task("loading", total=None, loss="-")
    bar.progress.start()
    try:
        yield lambda done, total: bar.progress.update(task, completed=done, total=total)
    finally:
        bar.progress.stop()


class _ProgressBar:
    """Rich progress bars on stderr (one per run of a race); only used when stderr is a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.tasks: dict[int, TaskID] = {}

    def __call__(self, event: Event, task: int = 0, label: str | None = None) -> None:
        if isinstance(event, RunStarted):
            if not self.tasks:
                self.progress.start()
            self.tasks[task] = self.progress.add_task(label or event.algorithm, total=event.total_steps, loss="...")
        elif isinstance(event, StepLosses) and task in self.tasks:
            step = event.first_step + len(event.losses) - 1
            self.progress.update(self.tasks[task], completed=step, loss=f"{event.losses[-1]:.5g}")

    def close(self) -> None:
        self.progress.stop()


def race(
    config: RunConfig, spec: str, shared: dict, *, metrics: str | None, as_json: bool, quiet: bool, folder: RunFolder | None = None
) -> int:
    """`tui-trainer race`: the entries side by side, then a table (or one JSON object)."""
    from .core.control import RunControl

    control = RunControl()

    def make():
        from .core.race import Race
        from .core.race_events import parse_entries

        return Race(config, parse_entries(spec, shared), control=control)

    contest = build(make)
    if contest is None:
        return EXIT_INTERRUPTED
    from .core.race_events import EntryEvent

    writers: list[MetricsWriter] = []
    handle: OutputFile | None = None
    if metrics is not None:  # an empty name is refused, not ignored
        from .metrics import MetricsWriter

        handle = _open_metrics(metrics, config, control)
        writers = [MetricsWriter(handle, config.log_every, {"entry": e.name}, owns_handle=False) for e in contest.entries]
        _warn_if_metrics_are_huge(sum(t.total_steps for t in contest.trainers) // config.log_every, config.log_every)
    saved: OutputFile | None = None
    if folder is not None:
        from .core.errors import TrainerError
        from .metrics import MetricsWriter

        try:
            saved = folder.open_metrics([] if config.data.is_synthetic else [config.data.source], control.stop, None)
        except TrainerError as error:
            fail(str(error))
        writers += [MetricsWriter(saved, config.log_every, {"entry": e.name}, owns_handle=False) for e in contest.entries]
    progress = _progress_bar(quiet)

    def sink(event: object) -> None:
        if isinstance(event, EntryEvent):
            if writers:
                writers[event.entry](event.event)
            if progress:
                progress(event.event, task=event.entry, label=contest.entries[event.entry].name)

    contest.sink = sink
    result = _run_to_the_end(contest.run, control, progress, handle)
    problem = None
    if folder is not None and saved is not None:
        from .core.errors import TrainerError

        for writer in writers:
            writer.flush()
        try:
            folder.save_race(contest, spec, result.to_dict())
        except (TrainerError, OSError) as error:
            problem = str(error)
        saved.close()
        problem = problem or (f"--save: {saved.error}" if saved.error else None)
    if as_json:
        print(json.dumps(result.to_dict(), allow_nan=False))
    else:
        _print_race(result)
    if problem is not None:
        print(f"tui-trainer: error: {problem}", file=sys.stderr)
        return _ended(EXIT_BAD_INPUT, handle)
    if result.interrupted:
        return _ended(EXIT_INTERRUPTED, handle)
    if all(entry.diverged for entry in result.entries):
        print("tui-trainer: every entry diverged", file=sys.stderr)
        return _ended(EXIT_DIVERGED, handle)
    return _ended(EXIT_OK, handle)


def _print_race(result) -> None:
    def number(value) -> str:
        return "n/a" if value is None else f"{value:.6g}"

    def reached(entry) -> str:
        if entry.steps_to_optimal is None:
            return "never"
        seconds = "" if entry.seconds_to_optimal is None else f", {entry.seconds_to_optimal:.3g} s"
        return f"{entry.steps_to_optimal:,} steps{seconds}"

    from .core.race_events import ALL_RIGHT_GOAL

    width = max(5, *(len(entry.name) for entry in result.entries))
    if result.goal == ALL_RIGHT_GOAL:  # separable classes: the optimal loss 0 is never reached
        goal, column = "separable: the race is to classify every training row right", "to every row right"
    else:
        goal, column = f"within 1% of it: a loss <= {result.target_loss:.6g}", "to within 1% of optimal"
    lines = [
        f"race on {result.data}; optimal loss {result.optimal_loss:.6g}; {goal}",
        f"{'entry':<{width}}  {'state':<9} {'steps':>8}  {'final loss':>11}  {column}",
    ]
    for entry in result.entries:
        lines.append(f"{entry.name:<{width}}  {entry.state:<9} {entry.steps:>8,}  {number(entry.final_loss):>11}  {reached(entry)}")
    print("\n".join(lines))
