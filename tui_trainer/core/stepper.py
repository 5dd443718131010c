"""What every engine's stepper shares: the `Stepper` base class, and the facts the autograd and
fused engines must agree on (block size, which devices have torch's fused kernels). Its own module
so that `algorithms` (which builds steppers) and `fused` (which is one) both import it and not
each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .config import Experiments, OptimizerConfig
from .objective import Objective, TorchLoss, objective_for

# rows of a big batch processed together, by both engines alike (so their sums agree). Each block
# costs autograd a dozen kernel calls: 2^17 rows spent a third of a 10M-row step on them; 2^19 to
# 2^21 were best (benchmarks/bench.py case 7: 0.43-0.58 -> 0.66-0.71 of a copy's bandwidth), the
# fused cross-entropy step no different
BLOCK_ROWS = 1 << 19
# a batch this small has its right rows counted later, with the other steps' of its chunk: three
# kernels a step (argmax, compare, sum) cost a small cross-entropy step more than its loss does
DEFERRED_COUNT_ROWS = 1 << 12
PENDING_LOGITS_LIMIT = 1 << 20  # logits kept waiting at most (elements): then they are counted


def has_fused_kernels(device: torch.device) -> bool:
    """torch.optim's fused Adam and Adagrad run on CPU and CUDA float32."""
    return device.type in ("cpu", "cuda")


def filled_grad(param: torch.Tensor) -> torch.Tensor:
    """`param.grad` once a step has filled it (torch types it Optional: None before any backward)."""
    grad = param.grad
    if grad is None:
        raise RuntimeError("no gradient yet: no step has run")
    return grad


class Stepper:
    """Takes one optimisation step of a linear model on a batch; holds the optimizer's state."""

    def __init__(
        self, model: nn.Linear, config: OptimizerConfig, experiments: Experiments | None = None, objective: Objective | None = None
    ) -> None:
        self.model = model
        self.config = config
        self.experiments = experiments or Experiments()
        self.objective = objective or objective_for()
        self._loss = self.objective.torch_loss()
        self._eval_loss = self._loss  # evaluation never goes through a step's stand-in (loss_through)
        self.params = [model.weight, model.bias]
        self._lr = config.lr
        self.last_loss: torch.Tensor | None = None  # kept (with its graph) for the inspector
        self.last_eval: torch.Tensor | None = None  # the last evaluation's loss: a grad_fn without no_grad
        # a classifier counts the rows each step's batch got right (before its update), on the
        # device: the trainer collects them with the losses, in the same one sync
        self.classifies = self.objective.classifies
        self.correct: list[torch.Tensor] = []  # right rows, one 1-D tensor for one or more steps
        self._pending: list[tuple[torch.Tensor, torch.Tensor]] = []  # (logits, targets) not yet counted
        self._pending_size = 0
        self.eval_correct: torch.Tensor | None = None  # rows the last evaluation got right
        if self.experiments.train_in_eval_mode:
            model.eval()  # for nn.Linear this changes nothing: the experiment shows exactly that

    def prepare(self, x: torch.Tensor, y: torch.Tensor, column_major: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """The rows in the layout `step` and `evaluate` take. Column-major storage (each feature
        contiguous) makes the products of a big full batch stream through memory."""
        return (x.t().contiguous().t() if column_major else x), y

    def loss_and_gradients(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Forward, loss, backward: the gradients land in .grad; returns the loss.

        A big batch goes through in blocks of rows, each block's backward adding its share to
        .grad (gradients accumulate, as the seed warns): the same full-batch gradient, but every
        block is still in the cache when backward reads it again.
        """
        rows = len(x)
        if rows <= BLOCK_ROWS:
            output = self.model(x)
            if self.classifies:
                self.count_correct(output, y)
            loss = self._loss(output, y)
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves Tensor.backward unannotated
            self.last_loss = loss
            return loss.detach()
        part = self._block_backward(x, y, 0)
        total = part.detach()
        for start in range(BLOCK_ROWS, rows, BLOCK_ROWS):
            part = self._block_backward(x, y, start)
            total = total + part.detach()
        with torch.no_grad():  # the sums become means once, not once per block
            for param in self.params:
                filled_grad(param).mul_(1 / rows)
        self.last_loss = part
        return total / rows

    @contextmanager
    def loss_through(self, loss_fn: TorchLoss) -> Iterator[None]:
        """Steps inside go through `loss_fn` instead of the objective's loss (the graph recorder
        wraps the real one, so the step it watches is the real step)."""
        real, self._loss = self._loss, loss_fn
        try:
            yield
        finally:
            self._loss = real

    def _block_backward(self, x: torch.Tensor, y: torch.Tensor, start: int) -> torch.Tensor:
        """The summed loss of the block of rows from `start`, its gradient added into .grad."""
        output = self.model(x[start : start + BLOCK_ROWS])
        if self.classifies:
            self.count_correct(output, y[start : start + BLOCK_ROWS], add=start > 0)
        part = self._loss(output, y[start : start + BLOCK_ROWS], reduction="sum")
        part.backward()  # type: ignore[no-untyped-call]  # torch leaves Tensor.backward unannotated
        return part

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One step; returns the batch loss before the update, detached (no host sync)."""
        raise NotImplementedError

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss on prepared rows, in eval mode, recording no graph (as the seed evaluates)."""
        training = self.model.training
        self.model.eval()
        if self.experiments.eval_without_no_grad:  # the graph is recorded; the number is the same
            output = self.model(x)
            loss = self._eval_loss(output, y)
        else:
            with torch.no_grad():
                output = self.model(x)
                loss = self._eval_loss(output, y)
        if self.classifies:
            self.count_correct(output.detach(), y, evaluating=True)
        self.model.train(training)
        self.last_eval = loss
        return loss.detach()

    def count_correct(self, output: torch.Tensor, y: torch.Tensor, add: bool = False, evaluating: bool = False) -> None:
        """Note how many rows the logits classify right (`add`: more rows of the same batch).
        A small training batch's logits are kept and counted with the others at `take_correct`:
        the objective leaves a classifier's logits as they are (see Objective.fused_loss)."""
        if evaluating:
            right = (output.detach().argmax(1) == y).sum()
            self.eval_correct = right if not add or self.eval_correct is None else self.eval_correct + right
            return
        if not add and y.shape[0] <= DEFERRED_COUNT_ROWS:
            self._pending.append((output.detach(), y))
            self._pending_size += output.numel()
            if self._pending_size > PENDING_LOGITS_LIMIT:
                self._count_pending()
            return
        self._count_pending()
        right = (output.detach().argmax(1) == y).sum().view(1)
        if add and self.correct:
            self.correct[-1] = self.correct[-1] + right
        else:
            self.correct.append(right)

    def _count_pending(self) -> None:
        """Count the kept batches: a few kernels for each run of equal-sized batches."""
        pending, self._pending, self._pending_size = self._pending, [], 0
        start = 0
        while start < len(pending):
            rows, end = pending[start][1].shape[0], start + 1
            while end < len(pending) and pending[end][1].shape[0] == rows:
                end += 1
            logits = torch.stack([output for output, _ in pending[start:end]])
            targets = torch.stack([y for _, y in pending[start:end]])
            self.correct.append((logits.argmax(2) == targets).sum(1))
            start = end

    def take_correct(self) -> torch.Tensor:
        """The right rows of each step since the last call, in order (empty for a regression)."""
        self._count_pending()
        taken, self.correct = self.correct, []
        if not taken:
            return torch.empty(0, dtype=torch.int64, device=self.model.weight.device)
        return torch.cat(taken) if len(taken) > 1 else taken[0]

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = value

    def state(self) -> dict[str, list[torch.Tensor]]:
        """The optimizer's state by display name, one tensor per parameter (weight, bias)."""
        raise NotImplementedError

    def gradient_used(self) -> list[float]:
        """The gradient the last update used, flat like θ (without weight decay)."""
        return [v for p in self.params for v in filled_grad(p).detach().reshape(-1).tolist()]

    def flat_parameters(self) -> torch.Tensor:
        """A copy of [w..., b], on the device."""
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def capture(self) -> Any:
        """Everything needed to come back to this exact point: parameters, gradients, state, lr."""
        with torch.no_grad():
            params = [p.detach().clone() for p in self.params]
            grads = [None if p.grad is None else p.grad.clone() for p in self.params]
        return params, grads, self._capture_state(), self.lr

    def restore(self, saved: Any) -> None:
        params, grads, state, lr = saved
        self.lr = lr  # a schedule may have moved it inside the chunk being undone
        with torch.no_grad():
            for param, value, grad in zip(self.params, params, grads, strict=True):
                param.copy_(value)
                if grad is None:
                    param.grad = None
                elif param.grad is not None:
                    param.grad.copy_(grad)  # in place: a .grad may be a view the stepper writes into
                else:
                    param.grad = grad.clone()
        self._restore_state(state)

    def state_tensors(self) -> list[torch.Tensor]:
        """Every tensor of the optimizer's state (checked for finiteness with the parameters)."""
        return [tensor for tensors in self.state().values() for tensor in tensors]

    def _capture_state(self) -> Any:
        raise NotImplementedError

    def _restore_state(self, state: Any) -> None:
        raise NotImplementedError
