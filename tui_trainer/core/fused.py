"""The fused engine: the MSE gradient of a linear model in closed form, every rule in place.

For y_hat = Xwᵀ + b and L = mean((y_hat - y)²) the gradients are
    dL/dw = (2/n) Xᵀ (y_hat - y)        dL/db = (2/n) Σ (y_hat - y)
so no autograd graph is needed: five kernels compute them, the very ones autograd would run.
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
from .stepper import BLOCK_ROWS, STATE_NAMES, Stepper, has_fused_kernels


class FusedStepper(Stepper):
    def __init__(self, model: nn.Linear, config: OptimizerConfig) -> None:
        super().__init__(model, config)
        d = model.in_features
        with torch.no_grad():
            self.theta = torch.cat([model.weight.reshape(-1), model.bias.reshape(-1)])
        # the model's parameters become views of θ, so the model sees every update
        model.weight.data = self.theta[:d].view(1, d)
        model.bias.data = self.theta[d:]
        self.w, self.b = model.weight.data, model.bias.data
        self._w_t = self.w.t()  # a view: it follows every in-place update of θ
        self.grad = torch.zeros_like(self.theta)
        self._grad_w_column = self.grad[:d].view(d, 1)  # where Xᵀ(dL/dy_hat) lands, with no copy
        self._grad_b = self.grad[d:]
        self.buffers = {name: torch.zeros_like(self.theta) for name in STATE_NAMES[config.rule]}
        self.t = 0
        self.weight_decay = config.weight_decay
        self._kernels = has_fused_kernels(self.theta.device)  # as build_torch_optimizer decides
        self._step_count = torch.zeros((), dtype=self.theta.dtype, device=self.theta.device)
        self._update = getattr(self, f"_update_{config.rule.value}")

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.gradient(x, y)
        if self.t == 0:
            self.show_gradients()
        self.t += 1
        self._update()
        return loss

    def gradient(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Fill self.grad with dL/dθ on these rows and return the loss.

        The kernels are the ones autograd runs for nn.Linear and MSELoss, in the same order, so
        the gradient is the autograd engine's to the last bit; only the loss is summed another way.
        """
        rows = len(x)
        if rows <= BLOCK_ROWS:
            residual = torch.addmm(self.b, x, self._w_t).sub_(y)  # y_hat - y
            flat = residual.view(-1)
            loss = torch.dot(flat, flat).div_(rows)
            scaled = residual.mul_(2.0 / rows)  # dL/dy_hat, as MSELoss's backward computes it
            torch.mm(x.t(), scaled, out=self._grad_w_column)
            torch.sum(scaled, 0, out=self._grad_b)
            return loss
        # a big batch a block at a time (still in the cache for its second product), summing as
        # the autograd engine's blocks do, then dividing once
        loss = torch.zeros((), dtype=x.dtype, device=x.device)
        for start in range(0, rows, BLOCK_ROWS):
            block = x[start : start + BLOCK_ROWS]
            residual = torch.addmm(self.b, block, self._w_t).sub_(y[start : start + BLOCK_ROWS])
            loss += torch.dot(residual.view(-1), residual.view(-1))
            scaled = residual.mul_(2.0)
            if start == 0:
                torch.mm(block.t(), scaled, out=self._grad_w_column)
                torch.sum(scaled, 0, out=self._grad_b)
            else:
                self._grad_w_column.add_(torch.mm(block.t(), scaled))
                self._grad_b.add_(scaled.sum(0))
        self.grad.mul_(1 / rows)
        return loss.div_(rows)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = torch.zeros((), dtype=x.dtype, device=x.device)
        for start in range(0, len(x), BLOCK_ROWS):
            residual = torch.addmm(self.b, x[start : start + BLOCK_ROWS], self._w_t).sub_(y[start : start + BLOCK_ROWS])
            loss += torch.dot(residual.view(-1), residual.view(-1))
        return loss.div_(max(len(x), 1))

    def flat_parameters(self) -> torch.Tensor:
        return self.theta.clone()

    def show_gradients(self) -> None:
        """From now on the parameters' .grad show the gradient, as after loss.backward()."""
        self.model.weight.grad = self.grad[: self.w.numel()].view_as(self.w)
        self.model.bias.grad = self._grad_b

    # the rules, on the flat θ, with the arithmetic of the torch.optim optimizer the autograd
    # engine builds (build_torch_optimizer): its single-tensor loop, or its fused kernel

    def _decayed(self) -> torch.Tensor:
        """The gradient with L2 weight decay added, as torch.optim adds it."""
        if self.weight_decay:
            return self.grad.add(self.theta, alpha=self.weight_decay)
        return self.grad

    def _update_plain(self) -> None:
        self.theta.add_(self._decayed(), alpha=-self._lr)

    def _update_momentum(self) -> None:
        velocity = self.buffers["velocity"]
        velocity.mul_(self.config.momentum).add_(self._decayed())
        self.theta.add_(velocity, alpha=-self._lr)

    def _update_adagrad(self) -> None:
        sum_sq = self.buffers["sum_sq"]
        if self._kernels:
            self._step_count.add_(1)  # on the device: a graph replay advances it too
            torch._fused_adagrad_(
                [self.theta], [self.grad], [sum_sq], [self._step_count],
                lr=self._lr, lr_decay=0.0, weight_decay=self.weight_decay, eps=self.config.eps, maximize=False,
            )
            return
        grad = self._decayed()
        sum_sq.addcmul_(grad, grad, value=1)
        self.theta.addcdiv_(grad, sum_sq.sqrt().add_(self.config.eps), value=-self._lr)

    def _update_rmsprop(self) -> None:
        grad, alpha = self._decayed(), self.config.alpha
        mean_sq = self.buffers["mean_sq"]
        mean_sq.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        self.theta.addcdiv_(grad, mean_sq.sqrt().add_(self.config.eps), value=-self._lr)

    def _update_adam(self) -> None:
        beta1, beta2 = self.config.beta1, self.config.beta2
        m, v = self.buffers["m"], self.buffers["v"]
        if self._kernels:
            self._step_count.add_(1)  # on the device: a graph replay advances it too
            torch._fused_adam_(
                [self.theta], [self.grad], [m], [v], [], [self._step_count],
                lr=self._lr, beta1=beta1, beta2=beta2, weight_decay=self.weight_decay, eps=self.config.eps,
                amsgrad=False, maximize=False,
            )
            return
        grad = self._decayed()
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = self._lr / (1 - beta1**self.t)
        denom = (v.sqrt() / (1 - beta2**self.t) ** 0.5).add_(self.config.eps)
        self.theta.addcdiv_(m, denom, value=-step_size)

    def state(self) -> dict[str, list[torch.Tensor]]:
        d = self.w.numel()
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

    def _record_graph(self) -> None:
        device, stepper = self.x.device, self.stepper
        saved = stepper.capture()
        with torch.cuda.device(device):  # the capture stream must be on the tensors' own GPU
            stream = torch.cuda.Stream(device)
            stream.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(stream):  # warm-up outside capture, as CUDA graphs require
                for _ in range(2):
                    self._steps()
            torch.cuda.current_stream(device).wait_stream(stream)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self._steps()
        stepper.restore(saved)  # the warm-up steps must not count
        self.recorded_lr = stepper.lr

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
            self.indices.copy_(indices, non_blocking=True)
        if not self.capture:
            self._steps()
            return self.losses.clone()
        stepper = self.stepper
        if self.graph is None or stepper.lr != self.recorded_lr:
            self._record_graph()
        self.graph.replay()
        stepper.t += self.count  # the Python side of the steps the graph took
        if stepper.model.weight.grad is None:
            stepper.show_gradients()
        return self.losses.clone()
