"""The training loop: one straight loop of steps, run in chunks so that watching it costs nothing.

Inside a chunk the loop does only what a bare PyTorch loop does (zero grads, forward, loss,
backward, step) and keeps each loss as a tensor. Between chunks (about every 50 ms) it reads the
losses in one host transfer, checks they and the parameters are finite, tells its observers, and
listens to its RunControl. A chunk that went non-finite is replayed step by step from a copy taken
before it, so the last finite parameters are found exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from . import ledger
from .algorithms import build_stepper
from .autograd_lab import LabInputs
from .batches import Batches
from .config import FULL_BATCH, Engine, RunConfig
from .control import RunControl
from .data import Dataset, load_dataset
from .device import describe_device, resolve_device
from .errors import ConfigError
from .events import (
    EpochsEnded,
    EventSink,
    ParameterPath,
    RunFinished,
    RunStarted,
    RunState,
    RunSummary,
    Snapshot,
    StateChanged,
    StepLosses,
)
from .fused import FusedStepper, GraphedSteps
from .graph_walk import GraphRecorder
from .model import build_model
from .objective import Objective, Reference, objective_for
from .path import PathRecorder
from .reference import Optimum
from .run_facts import run_facts, shaped_bias, shaped_weights
from .schedules import build_schedule
from .softmax_reference import ClassifierOptimum
from .stability import Stability
from .stepper import Stepper
from .units import in_data_units

MAX_CHUNK = 1 << 14
# Below this many numbers per step, one CPU thread beats several: the work is too small to split.
SMALL_STEP = 1 << 17
# From this many numbers on, a full batch is stored column-major (see Stepper.prepare).
BIG_BATCH = 1 << 20
GRAPH_STEPS = 100  # fused steps per CUDA graph launch
MIN_GRAPH_STEPS = 8
QUADRATIC_DIMS = 64  # up to this many features, RunStarted carries the loss's quadratic form


@dataclass
class _Chunk:
    """Steps [first, first + count) and what they produced, as Python numbers."""

    first: int
    losses: list[float]
    lrs: list[float]
    times: list[float]
    val_losses: list[float]  # one per epoch that ended inside the chunk
    path: list[list[float]]  # θ after some steps, when tracked
    path_steps: list[int]  # which steps
    correct: list[float] = field(default_factory=list)  # a classifier's: rows each step's batch got right
    val_correct: list[float] = field(default_factory=list)  # validation rows right, per epoch ended


class Trainer:
    """Trains one linear model with one algorithm, telling `sink` what happens."""

    def __init__(
        self,
        config: RunConfig,
        *,
        dataset: Dataset | None = None,
        sink: EventSink | None = None,
        control: RunControl | None = None,
        chunk_seconds: float = 0.05,
        graphs: bool | None = None,
        path: str = "off",
    ) -> None:
        self.config = config
        self.sink: EventSink = sink or (lambda event: None)
        self.control = control or RunControl()
        self.chunk_seconds = chunk_seconds
        self.dataset = dataset if dataset is not None else load_dataset(config.data, classify=config.classifies)
        self.device = resolve_device(config.device)
        self.objective = objective_for(config.loss)
        self.optimum, self.stability = _reference(self.objective, self.dataset, config.optimizer.weight_decay)

        def tensor(array: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(array).to(self.device)

        self.model = build_model(self.dataset.dims, config.init, config.seed, self.device, self.dataset.outputs)
        full = config.optimizer.batch_size == FULL_BATCH or config.optimizer.batch_size >= self.dataset.n_train
        self.stepper: Stepper = build_stepper(
            self.model, config.optimizer, config.engine, config.experiments, self.objective, full_batch=full
        )
        # θ after "every" step (a race), after fewer and fewer ("thinning": the app), or "off"
        self.path = PathRecorder(path, self.stepper.flat_parameters)
        # a big full batch is stored column by column, so its products stream through memory
        x, y = tensor(self.dataset.x_train), tensor(self.dataset.y_train)
        column_major = full and x.numel() >= BIG_BATCH
        self.x, self.y = self.stepper.prepare(x, y, column_major)
        self.x_val, self.y_val = self.stepper.prepare(tensor(self.dataset.x_val), tensor(self.dataset.y_val))
        self.batches = Batches(self.x, self.y, config.optimizer.batch_size, config.seed)
        self.steps_per_epoch = self.batches.steps_per_epoch
        self.schedule = build_schedule(config.optimizer)
        if self.schedule is not None:
            self.stepper.lr = self.schedule.lr  # a warm-up starts below the set rate
        # CUDA graphs for the fused engine; `graphs=True` on a CPU runs the same steps eagerly
        on_cuda = self.device.type == "cuda"
        # (not for a classifier: it counts each step's right rows into a list, which a graph cannot)
        wanted = (on_cuda if graphs is None else graphs) and not self.objective.classifies
        self.graph = self._make_graph(capture=on_cuda) if wanted else None
        self.total_steps = config.optimizer.epochs * self.steps_per_epoch
        if config.max_steps is not None:
            self.total_steps = min(self.total_steps, config.max_steps)

        self.step = 0  # steps taken
        self.state = RunState.IDLE
        self.message = ""
        self.active_seconds = 0.0  # training time, pauses excluded
        self._chunk_started = 0.0
        self._epoch_loss_sum = 0.0  # batch losses of the current epoch, weighted by batch rows
        self._epoch_rows = 0
        self._epoch_correct = 0.0  # a classifier's right rows so far in the current epoch
        self._epoch_counted = 0
        self._chunk = 1  # steps in the next chunk, adapted to chunk_seconds
        self.last_loss: float | None = None  # the loss of the last step reported
        # the autograd lab's lessons run on a copy of this, taken in the loop's own thread (never
        # mid-step) when the run starts, pauses or ends, and after every chunk while the Learn view
        # is open or the run is stepped by hand
        self.published_lab_inputs: LabInputs | None = None

    def _make_graph(self, capture: bool) -> GraphedSteps | None:
        if self.config.engine is not Engine.FUSED:
            return None
        if self.batches.full:
            if self.dataset.n_val or self.schedule:
                return None  # something between every two steps (validation, a new lr): eager
            batch, count = None, GRAPH_STEPS
        else:
            batch, count = self.batches.size, min(GRAPH_STEPS, self.batches.rows // self.batches.size)
            if count < MIN_GRAPH_STEPS:
                return None  # too few full batches an epoch to be worth a graph
        assert isinstance(self.stepper, FusedStepper)  # graphs are only asked for with the fused engine
        return GraphedSteps(self.stepper, self.x, self.y, batch, count, capture, self.path.tracking)

    # --- the loop ---

    def run(self) -> RunSummary:
        with single_thread_when(self.small_steps):
            self.begin()
            while self.advance():
                pass
            return self.finish()

    @property
    def small_steps(self) -> bool:
        """Steps too small to share between CPU threads: one thread runs them faster."""
        return self.device.type == "cpu" and self.batches.size * self.x.shape[1] < SMALL_STEP

    def begin(self) -> None:
        """Tell observers what is about to run; the first chunk is one step."""
        data, optimizer = self.dataset, self.config.optimizer
        self.sink(
            RunStarted(
                **run_facts(optimizer, data, self.optimum, self.objective.name.value),
                description=optimizer.describe(),
                device=describe_device(self.device),
                data=data.description,
                n_train=data.n_train,
                n_val=data.n_val,
                target_name=data.target_name,
                steps_per_epoch=self.steps_per_epoch,
                total_steps=self.total_steps,
                epochs=optimizer.epochs,
                initial=self.snapshot(),
                stability=self.stability,
                **_quadratic_form(self.optimum, data.dims),
                outputs=data.outputs,
            )
        )
        self._chunk = 1
        self.published_lab_inputs = self.lab_inputs()

    def lab_inputs(self) -> LabInputs:
        """A copy of the model as it is now, and the last step's batch (the first one before any)."""
        x, y = self.batches.batch(max(self.step - 1, 0))
        return LabInputs.capture(self.model, x, y, self.objective.torch_loss(), self.step)

    def advance(self, limit: int | None = None) -> bool:
        """Run one chunk of steps (at most `limit`); False once the run is over."""
        remaining = self.total_steps - self.step
        if remaining <= 0:
            self._set_state(RunState.DONE, f"finished {self.total_steps} steps")
            return False
        granted = self.control.permit(min(self._chunk, remaining, limit or remaining))
        if granted == 0:
            if self.control.stopped:
                self._set_state(RunState.STOPPED, f"stopped after {self.step} steps")
                return False
            self._pause()
            return True
        if not self.control.paused:
            self._set_state(RunState.RUNNING)
        new_lr = self.control.take_lr()
        if new_lr is not None:  # the person took the wheel: the rate stays as typed
            self.stepper.lr = new_lr
            self.schedule = None
        started = self._chunk_started = time.perf_counter()
        going = self._run_chunk_with_ledger(granted) if self.control.ledger else self._run_chunk(granted)
        spent = time.perf_counter() - started
        self.active_seconds += spent
        if not going:
            return False  # diverged
        self._chunk = next_chunk_size(self._chunk, granted, spent, self.chunk_seconds)
        self.sink(self.snapshot())  # one per chunk: cheap next to the chunk itself
        if self.control.ledger or self.control.paused:  # someone reads the Learn view, or steps by hand
            self.published_lab_inputs = self.lab_inputs()
        return True

    def finish(self) -> RunSummary:
        self.published_lab_inputs = self.lab_inputs()
        summary = self.summary()
        self.sink(RunFinished(summary))
        return summary

    def _run_chunk_with_ledger(self, count: int) -> bool:
        """The chunk's steps, the last one alone and written out (LedgerEntry), with the graph
        autograd recorded for it and the gradient each node received (StepGraph)."""
        if count > 1 and not self._run_chunk(count - 1):
            return False
        before = ledger.capture_before(self)
        reported: list[float] = []
        recorder = GraphRecorder(self.objective.torch_loss(), self.model)
        with self.stepper.loss_through(recorder):  # the real step, its loss's graph hooked
            going = self._run_chunk(1, reported)
        last_eval = self.stepper.last_eval
        graph = recorder.graph(self.step, last_eval, evaluated=last_eval is not None)
        if not going:
            return False
        self.sink(ledger.entry(self, before, self.step - 1, reported[0]))
        self.sink(graph)
        return True

    def _run_chunk(self, count: int, reported: list[float] | None = None) -> bool:
        """Run `count` steps; False when the run diverged inside them."""
        first = self.step
        saved = self.stepper.capture(), self.schedule.capture() if self.schedule else None
        fast = self._steps(first, count)
        path = fast.path.reshape(-1) if fast.path is not None else fast.losses[:0]
        state = [t.reshape(-1).to(self.x.dtype) for t in self.stepper.state_tensors()]  # an overflowing Σg² too
        counts = fast.correct.to(self.x.dtype)  # a classifier's right rows; empty for a regression
        values = torch.cat([fast.losses, fast.val_losses, counts, self.stepper.flat_parameters(), path, *state]).tolist()  # one sync
        if all(map(math.isfinite, values)):
            vals = count + len(fast.val_losses)
            correct, values = values[vals : vals + len(counts)], values[:vals] + values[vals + len(counts) :]
            width = self.parameter_count
            path_values = values[vals + width : vals + width + len(path)]  # after the losses and the parameters
            points = [path_values[i : i + width] for i in range(0, len(path_values), width)]
            steps = fast.path_steps if fast.path_steps is not None else list(range(first + 1, first + 1 + len(points)))
            val_correct = correct[count:]
            chunk = _Chunk(first, values[:count], fast.lrs, fast.times, values[count:vals], points, steps, correct[:count], val_correct)
            self._report(chunk)
            if reported is not None:
                reported += values[:count]
            return True
        self.stepper.restore(saved[0])
        if self.schedule:
            self.schedule.restore(saved[1])
        chunk, failure = self._replay(first, count)
        self._report(chunk)
        if failure is None:  # step by step it stayed finite: a normal chunk after all
            return True
        self._set_state(RunState.DIVERGED, failure)
        self.sink(self.snapshot())
        return False

    def _steps(self, first: int, count: int) -> _Tensors:
        """The hot loop: no host sync, no Python numbers from the device."""
        batches, per_epoch, validate = self.batches, self.steps_per_epoch, self.dataset.n_val > 0
        losses: list[torch.Tensor] = []
        lrs: list[float] = []
        times: list[float] = []
        val_losses: list[torch.Tensor] = []
        val_correct: list[torch.Tensor] = []
        self.path.start_chunk()
        s, end = first, first + count
        while s < end:  # an epoch a pass (full batches with nothing to do between steps: all at once)
            epoch, k = divmod(s, per_epoch)
            whole = batches.full and not (validate or self.schedule)
            stop = end if whole else min(end, (epoch + 1) * per_epoch)
            order, x, y = batches.epoch(epoch)
            done = self._graphed_steps(order, k, stop - s, losses, times, s) if self.graph else 0
            self._eager_steps(order, x, y, k + done, stop - s - done, losses, times, s + done)
            lrs += [self.stepper.lr] * (stop - s)
            if stop == (epoch + 1) * per_epoch:
                self._end_epoch(val_losses if validate else None, val_correct)
            s = stop
        self.step = end
        points = torch.stack(self.path.points) if self.path.points else None
        # each step's right rows, then each validation's: counted after the losses in one sync
        correct = torch.cat([self.stepper.take_correct(), _stack(val_correct, torch.int64, self.device)])
        return _Tensors(
            torch.stack(losses), _stack(val_losses, self.x.dtype, self.device), lrs, times, points, self.path.steps, correct
        )

    def _end_epoch(self, val_losses: list[torch.Tensor] | None, val_correct: list[torch.Tensor]) -> None:
        if val_losses is not None:
            val_losses.append(self._val_loss())
            if self.stepper.eval_correct is not None:
                val_correct.append(self.stepper.eval_correct)
        if self.schedule is not None:
            self.stepper.lr = self.schedule.next_epoch()

    def _eager_steps(
        self, order: torch.Tensor | None, x: torch.Tensor, y: torch.Tensor, k: int, count: int,
        losses: list[torch.Tensor], times: list[float], first_step: int,
    ) -> None:
        """`count` steps one by one, from the epoch's `k`-th batch (the run's step `first_step`)."""
        step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = self.stepper.step
        size, clock = self.batches.size, time.perf_counter
        if self.path.tracking:
            step = self.path.recording(step, first_step)
        if order is None:  # full batch
            for _ in range(count):
                losses.append(step(x, y))
                times.append(clock())
        elif self.batches.copy_rows:  # the epoch's rows are already in order: slices are views
            for j in range(k, k + count):
                losses.append(step(x[j * size : (j + 1) * size], y[j * size : (j + 1) * size]))
                times.append(clock())
        else:
            for j in range(k, k + count):
                rows = order[j * size : (j + 1) * size]
                losses.append(step(x.index_select(0, rows), y.index_select(0, rows)))
                times.append(clock())

    def _graphed_steps(
        self, order: torch.Tensor | None, k: int, count: int, losses: list[torch.Tensor], times: list[float], first_step: int
    ) -> int:
        """As many steps as whole graph replays cover (full-size batches only); how many ran."""
        graph, size, done = self.graph, self.batches.size, 0
        assert graph is not None  # called only when the run has one
        while count - done >= graph.count and (order is None or (k + done + graph.count) * size <= self.batches.rows):
            rows = None if order is None else order[(k + done) * size : (k + done + graph.count) * size].view(graph.count, size)
            losses.extend(graph.run(rows).unbind(0))
            if self.path.tracking and graph.path is not None:
                self.path.keep(graph.path.clone().unbind(0), first_step + done)
            times.extend([time.perf_counter()] * graph.count)  # one launch: the steps share its time
            done += graph.count
        return done

    def _replay(self, first: int, count: int) -> tuple[_Chunk, str | None]:
        """Step once at a time from `first`, keeping the last parameters that were finite."""
        self.step = first
        chunk = _Chunk(first, [], [], [], [], [], [])
        for s in range(first, first + count):
            before = self.stepper.capture()
            lr = self.stepper.lr
            loss = self.stepper.step(*self.batches.batch(s)).item()
            right = [float(count) for count in self.stepper.take_correct().tolist()]
            epoch_ends = (s + 1) % self.steps_per_epoch == 0
            val = self._val_loss().item() if self.dataset.n_val and epoch_ends else 0.0
            params_finite = all(map(math.isfinite, self.stepper.flat_parameters().tolist()))
            state = self.stepper.state_tensors()
            state_finite = all(bool(torch.isfinite(t).all()) for t in state)
            if not (math.isfinite(loss) and math.isfinite(val) and params_finite and state_finite):
                self.stepper.restore(before)
                what = (
                    "loss" if not math.isfinite(loss) else "parameters" if not params_finite
                    else "optimizer's state" if not state_finite else "validation loss"
                )
                return chunk, (
                    f"the {what} stopped being finite at step {s + 1} (lr {lr:g}); "
                    f"kept the parameters of step {s}. Try a smaller learning rate."
                )
            chunk.losses.append(loss)
            chunk.correct += right
            if self.dataset.n_val and epoch_ends and self.stepper.eval_correct is not None:
                chunk.val_correct.append(float(self.stepper.eval_correct.item()))
            chunk.lrs.append(lr)
            chunk.times.append(time.perf_counter())
            if self.path.tracking:  # every replayed step, thinning or not
                chunk.path.append(self.stepper.flat_parameters().tolist())
                chunk.path_steps.append(s + 1)
            if (s + 1) % self.steps_per_epoch == 0:
                if self.dataset.n_val:
                    chunk.val_losses.append(val)
                if self.schedule is not None:
                    self.stepper.lr = self.schedule.next_epoch()
            self.step = s + 1
        return chunk, None

    def _report(self, chunk: _Chunk) -> None:
        """Tell observers about a chunk: its steps' losses, then the epochs it completed."""
        count = len(chunk.losses)
        if not count:
            return
        base, start = self.active_seconds, self._chunk_started
        elapsed = [base + t - start for t in chunk.times]
        first, end, per_epoch = chunk.first, chunk.first + count, self.steps_per_epoch
        self.last_loss = chunk.losses[-1]
        self.sink(StepLosses(first + 1, (end - 1) // per_epoch + 1, chunk.losses, chunk.lrs, elapsed))
        if per_epoch == 1:  # full batches: every step is an epoch, its loss the epoch's loss
            ends, train = list(range(first + 1, end + 1)), chunk.losses
        else:
            ends, train = self._epoch_means(first, chunk.losses)
        accuracies = self._epoch_accuracies(first, chunk.correct) if chunk.correct else None
        val_accuracies = [right / self.dataset.n_val for right in chunk.val_correct] if chunk.val_correct else None
        if ends:
            epochs = [step // per_epoch for step in ends]
            val_losses = chunk.val_losses if self.dataset.n_val else None
            self.sink(EpochsEnded(epochs, ends, train, val_losses, accuracies, val_accuracies))
        if chunk.path:
            losses = self.optimum.losses(np.array(chunk.path)).tolist()
            self.sink(ParameterPath(chunk.path_steps, chunk.path, losses, _path_accuracies(self.optimum, chunk.path)))

    def _epoch_means(self, first: int, losses: list[float]) -> tuple[list[int], list[float]]:
        """Steps where epochs ended among these losses, and each epoch's batch-weighted mean loss
        (an epoch may have begun in an earlier chunk: its sums carry over)."""
        ends, means = [], []
        size, per_epoch = self.batches.size, self.steps_per_epoch
        step, end = first, first + len(losses)
        while step < end:
            epoch_end = (step // per_epoch + 1) * per_epoch
            stop = min(end, epoch_end)
            part = losses[step - first : stop - first]
            self._epoch_loss_sum += size * sum(part)  # every batch has `size` rows...
            self._epoch_rows += size * len(part)
            if stop == epoch_end:
                short = self.batches.batch_rows(epoch_end - 1) - size  # ...but an epoch's last may have fewer
                ends.append(stop)
                means.append((self._epoch_loss_sum + short * part[-1]) / (self._epoch_rows + short))
                self._epoch_loss_sum, self._epoch_rows = 0.0, 0
            step = stop
        return ends, means

    def _epoch_accuracies(self, first: int, correct: list[float]) -> list[float]:
        """The share of each ended epoch's rows its batches got right (before their updates);
        an epoch begun in an earlier chunk carries its counts over. A slice an epoch, as
        `_epoch_means`: a Python loop over every step cost a fast run a microsecond a step."""
        accuracies = []
        size, per_epoch = self.batches.size, self.steps_per_epoch
        step, end = first, first + len(correct)
        while step < end:
            epoch_end = (step // per_epoch + 1) * per_epoch
            stop = min(end, epoch_end)
            self._epoch_correct += sum(correct[step - first : stop - first])
            self._epoch_counted += size * (stop - step)
            if stop == epoch_end:
                rows = self._epoch_counted + self.batches.batch_rows(epoch_end - 1) - size  # the last batch may be short
                accuracies.append(self._epoch_correct / rows)
                self._epoch_correct, self._epoch_counted = 0.0, 0
            step = stop
        return accuracies

    @property
    def parameter_count(self) -> int:
        """Entries of θ = [W row by row, b]: (d + 1) per output."""
        return (self.dataset.dims + 1) * self.dataset.outputs

    # --- control ---

    def _pause(self) -> None:
        if self.state is not RunState.PAUSED:
            self.published_lab_inputs = self.lab_inputs()
            self._set_state(RunState.PAUSED)
            self.sink(self.snapshot())
        self.control.wait()

    def _set_state(self, state: RunState, message: str = "") -> None:
        if state is not self.state:
            self.state, self.message = state, message
            self.sink(StateChanged(state, message))

    # --- measuring ---

    def _val_loss(self) -> torch.Tensor:
        return self.evaluate(self.x_val, self.y_val)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """MSE on prepared rows, in eval mode, recording no graph."""
        return self.stepper.evaluate(x, y)

    def snapshot(self) -> Snapshot:
        weight, bias = self.model.weight, self.model.bias
        last = self.stepper.last_loss
        found = {name: [t.detach().reshape(-1).tolist() for t in tensors] for name, tensors in self.stepper.state().items()}
        grads = [p.grad for p in (weight, bias)]
        biases = bias.detach().reshape(-1).tolist()
        grad_biases = None if grads[1] is None else grads[1].reshape(-1).tolist()
        return Snapshot(
            step=self.step,
            epoch=self.step // self.steps_per_epoch,
            lr=self.stepper.lr,
            weights=weight.detach().reshape(-1).tolist(),
            bias=biases[0],
            grad_weights=None if grads[0] is None else grads[0].reshape(-1).tolist(),
            grad_bias=None if grad_biases is None else grad_biases[0],
            state={name: (tensors[0], tensors[1][0]) for name, tensors in found.items()},
            outputs=len(biases),
            biases=biases,
            grad_biases=grad_biases,
            state_biases={name: tensors[1] for name, tensors in found.items()},
            loss=self.last_loss,
            grad_fn=_grad_fn_name(last),
            requires_grad={
                "weight": weight.requires_grad, "bias": bias.requires_grad, "x": self.x.requires_grad, "y": self.y.requires_grad
            },
            training=self.model.training,
            eval_grad_fn=_grad_fn_name(self.stepper.last_eval),
        )

    def summary(self) -> RunSummary:
        # huge but finite parameters can still overflow the loss: report that as unknown
        final = _finite_or_none(self.evaluate(self.x, self.y).item())
        accuracy = self._accuracy(self.dataset.n_train)
        val = _finite_or_none(self._val_loss().item()) if self.dataset.n_val else None
        val_accuracy = self._accuracy(self.dataset.n_val) if self.dataset.n_val else None
        snapshot = self.snapshot()
        outputs = self.dataset.outputs
        stability = self.stability
        return RunSummary(
            **run_facts(self.config.optimizer, self.dataset, self.optimum, self.objective.name.value),
            engine=self.config.engine.value,
            device=str(self.device),
            state=self.state,
            steps=self.step,
            epochs=self.step // self.steps_per_epoch,
            final_loss=final,
            val_loss=val,
            weights=shaped_weights(snapshot.weights, outputs),
            bias=shaped_bias(snapshot.biases, outputs),
            accuracy=accuracy,
            val_accuracy=val_accuracy,
            lr=self.stepper.lr,
            diverged=self.state is RunState.DIVERGED,
            interrupted=self.state is RunState.STOPPED,
            steps_per_s=self.step / self.active_seconds if self.active_seconds > 0 else 0.0,
            seconds=self.active_seconds,
            message=self.message,
            hessian_eigenvalues=None if stability is None else [stability.largest, stability.smallest],
            condition_number=None if stability is None else stability.condition_number,
            max_stable_lr=None if stability is None else stability.max_stable_lr,
            **in_data_units(
                self.model.weight.detach().cpu().double().numpy(), self.model.bias.detach().cpu().double().numpy(),
                self.dataset.feature_means, self.dataset.feature_stds,
            ),
        )

    def _accuracy(self, rows: int) -> float | None:
        """A classifier's share of rows right at the last evaluation (of `rows` rows)."""
        right = self.stepper.eval_correct
        if not self.objective.classifies or right is None or rows == 0:
            return None
        return float(right.item()) / rows


@dataclass
class _Tensors:
    losses: torch.Tensor
    val_losses: torch.Tensor
    lrs: list[float]
    times: list[float]
    path: torch.Tensor | None  # (points, d + 1)
    path_steps: list[int] | None  # the step of each point when thinning; None: every step
    correct: torch.Tensor  # a classifier's right rows: one per step, then one per validation


@contextmanager
def single_thread_when(small: bool) -> Iterator[None]:
    """One intra-op thread while `small`; the previous count afterwards."""
    threads = torch.get_num_threads()
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def next_chunk_size(chunk: int, ran: int, seconds: float, target: float) -> int:
    """Steps in the next chunk: double or halve until a chunk takes about `target` seconds."""
    if ran < chunk:  # a single step or the end of the run: no timing news
        return chunk
    if seconds < target / 2:
        return min(chunk * 2, MAX_CHUNK)
    if seconds > target * 2:
        return max(chunk // 2, 1)
    return chunk


def _reference(objective: Objective, data: Dataset, weight_decay: float) -> tuple[Reference, Stability | None]:
    """The objective's best loss and curvature on the training rows: the reference every run is
    measured against (optimal loss, path losses, the race's 1%, stability limits)."""
    try:
        return objective.reference(data.x_train, data.y_train, data.outputs, weight_decay)
    except ArithmeticError as error:
        raise ConfigError(str(error)) from None


def _path_accuracies(reference: Reference, points: list[list[float]]) -> list[float] | None:
    """A classifier's training accuracy at each point of its path (None for a regression)."""
    if not isinstance(reference, ClassifierOptimum):
        return None
    found: list[float] = reference.accuracies(np.array(points)).tolist()
    return found


def _quadratic_form(optimum: Reference, dims: int) -> dict[str, Any]:
    """RunStarted's loss as a quadratic in θ, left out past QUADRATIC_DIMS features (and for a
    loss that is not quadratic)."""
    if dims > QUADRATIC_DIMS or not isinstance(optimum, Optimum):
        return {}
    return {"gram": optimum.gram.tolist(), "moment": optimum.moment.tolist(), "power": optimum.power}


def _stack(values: list[torch.Tensor], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.stack(values) if values else torch.empty(0, dtype=dtype, device=device)


def _grad_fn_name(loss: torch.Tensor | None) -> str | None:
    return None if loss is None or loss.grad_fn is None else type(loss.grad_fn).__name__


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
