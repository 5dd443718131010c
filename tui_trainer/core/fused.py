"""The fused engine: the gradient of a linear model in closed form, every rule in place.

For y_hat = Xwᵀ + b and the objective's closed-form output gradient r = dL/dy_hat (for MSE,
2(y_hat - y)/n) the gradients are
    dL/dw = Xᵀ r        dL/db = Σ r
so no autograd graph is needed: a handful of kernels compute them, the very ones autograd would run.
The weight and the bias live in one flat tensor θ = [w, b] (the model's parameters are views into
it), so each update rule is a handful of in-place operations on one tensor, with torch.optim's own
arithmetic. The result follows the autograd engine to the last bit; tests hold it to that.

On CUDA, `GraphedSteps` records many such steps in a CUDA graph and replays them with one launch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .config import OptimizerConfig
from .objective import Objective
from .rules import FlatState
from .step_constants import StepConstants
from .stepper import BLOCK_ROWS, Stepper, has_fused_kernels


class FusedStepper(Stepper):
    def __init__(self, model: nn.Linear, config: OptimizerConfig, objective: Objective | None = None) -> None:
        super().__init__(model, config, objective=objective)
        self._fused_loss = self.objective.fused_loss()
        self._constants = StepConstants()
        d, k = model.in_features, model.out_features
        self._weights, self._outputs = k * d, k
        with torch.no_grad():
            self.theta = torch.cat([model.weight.reshape(-1), model.bias.reshape(-1)])
        # the model's parameters become views of θ, so the model sees every update
        model.weight.data = self.theta[: k * d].view(k, d)
        model.bias.data = self.theta[k * d :]
        self.w, self.b = model.weight.data, model.bias.data
        self._w_t = self.w.t()  # a view: it follows every in-place update of θ
        self.grad = torch.zeros_like(self.theta)
        self._grad_w = self.grad[: k * d].view(k, d)
        # where Xᵀ(dL/dy_hat) lands, with no copy: the (d, k) transpose of the weight's gradient
        self._grad_w_column = self._grad_w.t()
        self._grad_b = self.grad[k * d :]
        self.buffers = {name: torch.zeros_like(self.theta) for name in config.rule.state_names}
        self.t = 0
        self._step_count = torch.zeros((), dtype=self.theta.dtype, device=self.theta.device)
        flat = FlatState(
            self.theta, self.grad, self.buffers, self._step_count,
            kernels=has_fused_kernels(self.theta.device),  # as the autograd engine's torch.optim decides
            lr=lambda: self._lr, steps=lambda: self.t,
        )
        self._update = config.rule.fused_update(flat, config)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.gradient(x, y)
        if self.t == 0:
            self.show_gradients()
        self.t += 1
        self._update()
        return loss

    def gradient(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Fill self.grad with dL/dθ on these rows and return the loss.

        The kernels are the ones autograd runs for nn.Linear and the objective's loss, in the same
        order, so the gradient is the autograd engine's to the last bit; only the loss is summed
        another way.
        """
        rows = x.shape[0]  # len(tensor) runs Python code in torch: a step counts its microseconds
        if rows <= BLOCK_ROWS:
            output = torch.addmm(self.b, x, self._w_t)  # y_hat
            if self.classifies:
                self.count_correct(output, y)
            loss, gradient, scale = self._fused_loss(output, y, rows)
            self._products(x, gradient, scale)
            return loss
        # a big batch a block at a time (still in the cache for its second product), summing as
        # the autograd engine's blocks do, then dividing once
        loss = torch.zeros((), dtype=x.dtype, device=x.device)
        for start in range(0, rows, BLOCK_ROWS):
            block = x[start : start + BLOCK_ROWS]
            output = torch.addmm(self.b, block, self._w_t)
            if self.classifies:
                self.count_correct(output, y[start : start + BLOCK_ROWS], add=start > 0)
            part, gradient, _ = self._fused_loss(output, y[start : start + BLOCK_ROWS], None)  # sums: scale 1
            loss += part
            if start == 0:
                self._products(block, gradient, 1.0)
            elif self._outputs == 1:
                self._grad_w_column.add_(torch.mm(block.t(), gradient))
                self._grad_b.add_(gradient.sum(0))
            else:
                self._grad_w.add_(torch.mm(gradient.t(), block))
                self._grad_b.add_(gradient.sum(0))
        self.grad.mul_(1 / rows)
        return loss.div_(rows)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = torch.zeros((), dtype=x.dtype, device=x.device)
        for start in range(0, len(x), BLOCK_ROWS):
            output = torch.addmm(self.b, x[start : start + BLOCK_ROWS], self._w_t)
            if self.classifies:
                self.count_correct(output, y[start : start + BLOCK_ROWS], add=start > 0, evaluating=True)
            loss += self._fused_loss(output, y[start : start + BLOCK_ROWS], None)[0]
        return loss.div_(max(len(x), 1))

    def _products(self, x: torch.Tensor, gradient: torch.Tensor, scale: float) -> None:
        """dL/dW and dL/db from these rows and dL/dy_hat = scale · gradient, into θ's gradient."""
        if scale != 1.0:  # the scale as the products' alpha: no kernel to scale the gradient first
            self._grad_w.addmm_(gradient.t(), x, beta=0, alpha=scale)
            self._grad_b.addmv_(gradient.t(), self._constants.full(x, (x.shape[0],), 1.0), beta=0, alpha=scale)
            return
        if self._outputs == 1:  # the kernels autograd runs for one output: the same bits
            torch.mm(x.t(), gradient, out=self._grad_w_column)
        else:  # with several the transpose above is not contiguous (out= would copy): nn.Linear's own order
            torch.mm(gradient.t(), x, out=self._grad_w)
        torch.sum(gradient, 0, out=self._grad_b)

    def flat_parameters(self) -> torch.Tensor:
        return self.theta.clone()

    def show_gradients(self) -> None:
        """From now on the parameters' .grad show the gradient, as after loss.backward()."""
        self.model.weight.grad = self.grad[: self._weights].view_as(self.w)
        self.model.bias.grad = self._grad_b

    def state(self) -> dict[str, list[torch.Tensor]]:
        d = self._weights
        return {name: [buffer[:d].view_as(self.w), buffer[d:]] for name, buffer in self.buffers.items()}

    def _capture_state(self) -> Any:
        return {name: buffer.clone() for name, buffer in self.buffers.items()}, self.t

    def _restore_state(self, state: Any) -> None:
        buffers, self.t = state
        for name, buffer in buffers.items():
            self.buffers[name].copy_(buffer)
        self._step_count.fill_(self.t)


class GraphedSteps:
    """`count` fused steps recorded once in a CUDA graph; `run` replays them in one launch.

    The graph records FusedStepper.step itself, so a replay does exactly the eager engine's
    arithmetic. What changes between replays lives on the device: the batch indices (copied in
    before each replay) and the step count the fused kernels read, which each step advances. The
    learning rate is recorded as a number, so a new rate means recording again (rare: a typed
    rate, or a schedule's new epoch). Without `capture` (no CUDA) the steps simply run eagerly.
    """

    def __init__(
        self, stepper: FusedStepper, x: torch.Tensor, y: torch.Tensor, batch: int | None, count: int,
        capture: bool = True, track_path: bool = False,
    ) -> None:
        self.stepper, self.x, self.y, self.count = stepper, x, y, count
        device = x.device
        self.indices = None if batch is None else torch.zeros((count, batch), dtype=torch.long, device=device)
        self.losses = torch.zeros(count, dtype=x.dtype, device=device)
        # θ after each step, when the run tracks its path
        self.path = torch.zeros((count, len(stepper.theta)), dtype=x.dtype, device=device) if track_path else None
        self.capture = capture
        self.graph: torch.cuda.CUDAGraph | None = None
        self.recorded_lr: float | None = None

    def _record_graph(self) -> torch.cuda.CUDAGraph:
        device, stepper = self.x.device, self.stepper
        saved = stepper.capture()
        with torch.cuda.device(device):  # the capture stream must be on the tensors' own GPU
            stream = torch.cuda.Stream(device)  # type: ignore[no-untyped-call]  # torch leaves Stream.__new__ unannotated
            stream.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(stream):  # warm-up outside capture, as CUDA graphs require
                for _ in range(2):
                    self._steps()
            torch.cuda.current_stream(device).wait_stream(stream)
            graph = self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._steps()
        stepper.restore(saved)  # the warm-up steps must not count
        self.recorded_lr = stepper.lr
        return graph

    def _steps(self) -> None:
        for i in range(self.count):
            if self.indices is None:
                x, y = self.x, self.y
            else:
                x, y = self.x.index_select(0, self.indices[i]), self.y.index_select(0, self.indices[i])
            self.losses[i].copy_(self.stepper.step(x, y))
            if self.path is not None:
                self.path[i].copy_(self.stepper.theta)

    def run(self, indices: torch.Tensor | None) -> torch.Tensor:
        """`count` steps on these (count, batch) row indices; their losses, on the device."""
        if self.indices is not None:
            if indices is None:
                raise ValueError("these steps draw batches: run needs their row indices")
            self.indices.copy_(indices, non_blocking=True)
        if not self.capture:
            self._steps()
            return self.losses.clone()
        stepper, graph = self.stepper, self.graph
        if graph is None or stepper.lr != self.recorded_lr:
            graph = self._record_graph()
        graph.replay()
        stepper.t += self.count  # the Python side of the steps the graph took
        if stepper.model.weight.grad is None:
            stepper.show_gradients()
        return self.losses.clone()
