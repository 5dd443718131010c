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
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from .algorithms import Stepper, build_stepper
from .config import FULL_BATCH, RunConfig
from .control import RunControl
from .data import Dataset, load_dataset
from .device import describe_device, resolve_device
from .events import (
    EpochEnded,
    EventSink,
    RunFinished,
    RunStarted,
    RunState,
    RunSummary,
    Snapshot,
    StateChanged,
    StepLosses,
)
from .model import build_model
from .reference import least_squares

MAX_CHUNK = 1 << 14


class BatchOrder:
    """Which rows each step trains on: a fresh seeded permutation per epoch, cut into batches.

    The order depends only on the seed, the epoch and the number of rows, so any step's batch can
    be found again (to replay a chunk) and runs with the same seed see the same sample order.
    """

    def __init__(self, rows: int, batch_size: int | str, seed: int, device: torch.device) -> None:
        self.rows = rows
        self.full = batch_size == FULL_BATCH or batch_size >= rows
        self.size = rows if self.full else int(batch_size)
        self.steps_per_epoch = 1 if self.full else math.ceil(rows / self.size)
        self.seed = seed
        self.device = device
        self._epoch = -1
        self._order: torch.Tensor | None = None

    def indices(self, step: int) -> torch.Tensor | None:
        """Row indices of 0-based `step`; None means every row in stored order."""
        if self.full:
            return None
        epoch, k = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            seed = int(np.random.SeedSequence([self.seed, 3, epoch]).generate_state(1)[0])
            generator = torch.Generator().manual_seed(seed)
            self._order = torch.randperm(self.rows, generator=generator).to(self.device)
            self._epoch = epoch
        return self._order[k * self.size : (k + 1) * self.size]

    def batch_rows(self, step: int) -> int:
        k = step % self.steps_per_epoch
        return min(self.size, self.rows - k * self.size)


@dataclass
class _Chunk:
    """Steps [first, first + count) and what they produced, as Python numbers."""

    first: int
    losses: list[float]
    times: list[float]
    val_losses: list[float]  # one per epoch that ended inside the chunk


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
    ) -> None:
        self.config = config
        self.sink: EventSink = sink or (lambda event: None)
        self.control = control or RunControl()
        self.chunk_seconds = chunk_seconds
        self.dataset = dataset if dataset is not None else load_dataset(config.data)
        self.device = resolve_device(config.device)
        self.optimum = least_squares(self.dataset.x_train, self.dataset.y_train)

        def tensor(array: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(array).to(self.device)

        self.x, self.y = tensor(self.dataset.x_train), tensor(self.dataset.y_train)
        self.x_val, self.y_val = tensor(self.dataset.x_val), tensor(self.dataset.y_val)
        self.model = build_model(self.dataset.dims, config.init, config.seed, self.device)
        self.stepper: Stepper = build_stepper(self.model, config.optimizer)
        self.order = BatchOrder(self.dataset.n_train, config.optimizer.batch_size, config.seed, self.device)
        self.steps_per_epoch = self.order.steps_per_epoch
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

    # --- the loop ---

    def run(self) -> RunSummary:
        self._emit_started()
        chunk = 1
        while self.step < self.total_steps:
            granted = self.control.permit(min(chunk, self.total_steps - self.step))
            if granted == 0:
                if self.control.stopped:
                    self._set_state(RunState.STOPPED, f"stopped after {self.step} steps")
                    break
                self._pause()
                continue
            if not self.control.paused:
                self._set_state(RunState.RUNNING)
            new_lr = self.control.take_lr()
            if new_lr is not None:
                self.stepper.lr = new_lr
            started = self._chunk_started = time.perf_counter()
            if not self._run_chunk(granted):
                break
            spent = time.perf_counter() - started
            self.active_seconds += spent
            chunk = self._next_chunk_size(chunk, granted, spent)
            self.sink(self.snapshot())  # one per chunk: cheap next to the chunk itself
        else:
            self._set_state(RunState.DONE, f"finished {self.total_steps} steps")
        summary = self.summary()
        self.sink(RunFinished(summary))
        return summary

    def _run_chunk(self, count: int) -> bool:
        """Run `count` steps; False when the run diverged inside them."""
        first = self.step
        saved = self.stepper.capture()
        fast = self._steps(first, count)
        values = torch.cat([fast.losses, fast.val_losses, self._flat_params()]).tolist()
        if all(map(math.isfinite, values)):
            chunk = _Chunk(first, values[:count], fast.times, values[count : count + len(fast.val_losses)])
            self._report(chunk)
            return True
        self.stepper.restore(saved)
        chunk, failure = self._replay(first, count)
        self._report(chunk)
        self._set_state(RunState.DIVERGED, failure)
        self.sink(self.snapshot())
        return False

    def _steps(self, first: int, count: int):
        """The hot loop: no host sync, no Python numbers from the device."""
        step, indices, x, y = self.stepper.step, self.order.indices, self.x, self.y
        per_epoch, validate = self.steps_per_epoch, self.dataset.n_val > 0
        losses, times, val_losses = [], [], []
        clock = time.perf_counter
        for s in range(first, first + count):
            rows = indices(s)
            losses.append(step(x, y) if rows is None else step(x[rows], y[rows]))
            times.append(clock())
            if validate and (s + 1) % per_epoch == 0:
                val_losses.append(self._val_loss())
        self.step = first + count
        return _Tensors(torch.stack(losses), _stack(val_losses, self.x.dtype, self.device), times)

    def _replay(self, first: int, count: int) -> tuple[_Chunk, str]:
        """Step once at a time from `first`, keeping the last parameters that were finite."""
        self.step = first
        chunk = _Chunk(first, [], [], [])
        for s in range(first, first + count):
            before = self.stepper.capture()
            rows = self.order.indices(s)
            x, y = (self.x, self.y) if rows is None else (self.x[rows], self.y[rows])
            loss = self.stepper.step(x, y).item()
            val = self._val_loss().item() if self.dataset.n_val and (s + 1) % self.steps_per_epoch == 0 else 0.0
            params_finite = all(map(math.isfinite, self._flat_params().tolist()))
            if not (math.isfinite(loss) and math.isfinite(val) and params_finite):
                self.stepper.restore(before)
                what = "loss" if not math.isfinite(loss) else "parameters" if not params_finite else "validation loss"
                return chunk, (
                    f"the {what} stopped being finite at step {s + 1} (lr {self.stepper.lr:g}); "
                    f"kept the parameters of step {s}. Try a smaller learning rate."
                )
            chunk.losses.append(loss)
            chunk.times.append(time.perf_counter())
            if self.dataset.n_val and (s + 1) % self.steps_per_epoch == 0:
                chunk.val_losses.append(val)
            self.step = s + 1
        return chunk, "the run diverged"  # not reached: the chunk was non-finite somewhere

    def _report(self, chunk: _Chunk) -> None:
        """Tell observers about a chunk's steps, one StepLosses per epoch it touched."""
        lr = self.stepper.lr
        base, start = self.active_seconds, self._chunk_started
        elapsed = [base + t - start for t in chunk.times]
        step, index, vals = chunk.first, 0, iter(chunk.val_losses)
        while index < len(chunk.losses):
            epoch = step // self.steps_per_epoch
            epoch_end = (epoch + 1) * self.steps_per_epoch
            take = min(len(chunk.losses) - index, epoch_end - step)
            losses = chunk.losses[index : index + take]
            for offset, loss in enumerate(losses):
                rows = self.order.batch_rows(step + offset)
                self._epoch_loss_sum += loss * rows
                self._epoch_rows += rows
            self.sink(StepLosses(step + 1, epoch + 1, losses, lr, elapsed[index : index + take]))
            step += take
            index += take
            if step == epoch_end:
                val = next(vals) if self.dataset.n_val else None
                train = self._epoch_loss_sum / self._epoch_rows
                self.sink(EpochEnded(epoch + 1, step, train, val))
                self._epoch_loss_sum, self._epoch_rows = 0.0, 0

    # --- control ---

    def _pause(self) -> None:
        if self.state is not RunState.PAUSED:
            self._set_state(RunState.PAUSED)
            self.sink(self.snapshot())
        self.control.wait()

    def _next_chunk_size(self, chunk: int, ran: int, seconds: float) -> int:
        if ran < chunk:  # a single step or the end of the run: no timing news
            return chunk
        if seconds < self.chunk_seconds / 2:
            return min(chunk * 2, MAX_CHUNK)
        if seconds > self.chunk_seconds * 2:
            return max(chunk // 2, 1)
        return chunk

    def _set_state(self, state: RunState, message: str = "") -> None:
        if state is not self.state:
            self.state, self.message = state, message
            self.sink(StateChanged(state, message))

    # --- measuring ---

    def _flat_params(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.stepper.params])

    def _val_loss(self) -> torch.Tensor:
        return self.evaluate(self.x_val, self.y_val)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """MSE on (x, y) in eval mode, recording no graph."""
        self.model.eval()
        with torch.no_grad():
            loss = F.mse_loss(self.model(x), y)
        self.model.train()
        return loss

    def snapshot(self) -> Snapshot:
        weight, bias = self.model.weight, self.model.bias
        last = self.stepper.last_loss
        state = {
            name: (tensors[0].detach().reshape(-1).tolist(), tensors[1].detach().reshape(-1).tolist()[0])
            for name, tensors in self.stepper.state().items()
        }
        grads = [p.grad for p in (weight, bias)]
        return Snapshot(
            step=self.step,
            epoch=self.step // self.steps_per_epoch,
            lr=self.stepper.lr,
            weights=weight.detach().reshape(-1).tolist(),
            bias=bias.detach().item(),
            grad_weights=None if grads[0] is None else grads[0].reshape(-1).tolist(),
            grad_bias=None if grads[1] is None else grads[1].item(),
            state=state,
            loss=None if last is None else _finite_or_none(last.detach().item()),
            grad_fn=None if last is None or last.grad_fn is None else type(last.grad_fn).__name__,
            requires_grad={"weight": weight.requires_grad, "bias": bias.requires_grad, "x": self.x.requires_grad, "y": self.y.requires_grad},
        )

    def summary(self) -> RunSummary:
        # huge but finite parameters can still overflow the loss: report that as unknown
        final = _finite_or_none(self.evaluate(self.x, self.y).item())
        val = _finite_or_none(self._val_loss().item()) if self.dataset.n_val else None
        data, optimum = self.dataset, self.optimum
        snapshot = self.snapshot()
        return RunSummary(
            algorithm=self.config.optimizer.algorithm.value,
            implementation=self.config.optimizer.implementation.value,
            device=str(self.device),
            state=self.state,
            steps=self.step,
            epochs=self.step // self.steps_per_epoch,
            final_loss=final,
            val_loss=val,
            optimal_loss=optimum.loss,
            weights=snapshot.weights,
            bias=snapshot.bias,
            optimal_weights=list(optimum.weights),
            optimal_bias=optimum.bias,
            true_weights=None if data.true_weights is None else list(data.true_weights),
            true_bias=data.true_bias,
            feature_names=list(data.feature_names),
            feature_means=None if data.feature_means is None else list(data.feature_means),
            feature_stds=None if data.feature_stds is None else list(data.feature_stds),
            lr=self.stepper.lr,
            diverged=self.state is RunState.DIVERGED,
            interrupted=self.state is RunState.STOPPED,
            steps_per_s=self.step / self.active_seconds if self.active_seconds > 0 else 0.0,
            seconds=self.active_seconds,
            message=self.message,
        )

    def _emit_started(self) -> None:
        data, optimum, optimizer = self.dataset, self.optimum, self.config.optimizer
        self.sink(
            RunStarted(
                algorithm=optimizer.algorithm.value,
                implementation=optimizer.implementation.value,
                description=optimizer.describe(),
                device=describe_device(self.device),
                data=data.description,
                n_train=data.n_train,
                n_val=data.n_val,
                feature_names=list(data.feature_names),
                target_name=data.target_name,
                steps_per_epoch=self.steps_per_epoch,
                total_steps=self.total_steps,
                epochs=optimizer.epochs,
                optimal_weights=list(optimum.weights),
                optimal_bias=optimum.bias,
                optimal_loss=optimum.loss,
                true_weights=None if data.true_weights is None else list(data.true_weights),
                true_bias=data.true_bias,
                feature_means=None if data.feature_means is None else list(data.feature_means),
                feature_stds=None if data.feature_stds is None else list(data.feature_stds),
                initial=self.snapshot(),
            )
        )


@dataclass
class _Tensors:
    losses: torch.Tensor
    val_losses: torch.Tensor
    times: list[float]


def _stack(values: list[torch.Tensor], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.stack(values) if values else torch.empty(0, dtype=dtype, device=device)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
