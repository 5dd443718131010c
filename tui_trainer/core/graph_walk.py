"""The computation graph autograd records, walked from `loss.grad_fn` through `next_functions` down
to the AccumulateGrad leaves, and a recorder that hooks a step's real graph so the gradient that
flows through each node on backward is kept beside it.

Nothing here names a node: the names are whatever the installed torch records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from .lab_events import GraphNode, StepGraph
from .objective import TorchLoss

SHOWN_VALUES = 5  # a gradient is kept as its first values (for ŷ: the batch's first rows)
MAX_NODES = 64  # a walk stops here: a linear model's graph has five or six


def first_values(tensor: torch.Tensor) -> list[float]:
    values: list[float] = tensor.detach().reshape(-1)[:SHOWN_VALUES].tolist()
    return values


def nodes(root: Any) -> Iterator[Any]:
    """Every node under `root` (a grad_fn), depth first, as `next_functions` lists them."""
    stack, seen = [root], 0
    while stack and seen < MAX_NODES:
        node = stack.pop()
        seen += 1
        yield node
        stack.extend(reversed([child for child, _ in node.next_functions if child is not None]))


def leaf_name(node: Any, parameters: dict[str, nn.Parameter]) -> str | None:
    """The parameter an AccumulateGrad node fills, by its name in the model."""
    variable = getattr(node, "variable", None)
    return next((name for name, param in parameters.items() if param is variable), None)


def walk(
    root: Any, parameters: dict[str, nn.Parameter], received: dict[int, torch.Tensor] | None = None, budget: list[int] | None = None
) -> GraphNode:
    """`root` and everything under it as a tree; `received` maps id(node) to the gradient a hook saw."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    gradient = (received or {}).get(id(root))
    children = [child for child, _ in root.next_functions if child is not None]
    return GraphNode(
        name=type(root).__name__,  # as torch names the class: MseLossBackward0, AccumulateGrad
        gradient=None if gradient is None else first_values(gradient),
        shape=None if gradient is None else list(gradient.shape),
        leaf=leaf_name(root, parameters),
        inputs_without_grad=len(root.next_functions) - len(children),
        children=[walk(child, parameters, received, budget) for child in children if budget[0] > 0],
    )


def walk_loss(loss: torch.Tensor | None, model: nn.Module) -> GraphNode | None:
    """The graph behind `loss`, without gradients (None when it has no grad_fn)."""
    if loss is None or loss.grad_fn is None:
        return None
    return walk(loss.grad_fn, dict(model.named_parameters()))


class GraphRecorder:
    """Stands in for the loss function during one step: calls the real one, then hooks every node
    of the graph it built and the prediction tensor, so the backward that follows leaves, for each
    node, the gradient of its output (dL/dL = 1 at the loss, dL/dŷ below it, ... down to `.grad`).

    A big batch goes through the loss in blocks: each call starts afresh, so the last block's
    graph is the one kept (as Stepper.last_loss keeps the last block's loss).
    """

    def __init__(self, loss_fn: TorchLoss, model: nn.Module) -> None:
        self.loss_fn = loss_fn
        self.parameters = dict(model.named_parameters())
        self.root: Any = None
        self.received: dict[int, torch.Tensor] = {}
        self.output_gradient: torch.Tensor | None = None
        self.rows = 0
        self._handles: list[Any] = []
        self.__name__ = getattr(loss_fn, "__name__", "loss")  # it shows as the loss it wraps

    def __call__(self, prediction: torch.Tensor, target: torch.Tensor, **options: Any) -> torch.Tensor:
        self.remove_hooks()
        self.received, self.output_gradient = {}, None
        loss = self.loss_fn(prediction, target, **options)
        self.root, self.rows = loss.grad_fn, len(prediction)
        if self.root is None:  # under torch.no_grad(): nothing recorded, nothing to hook
            return loss
        if prediction.requires_grad:
            self._handles.append(prediction.register_hook(self._keep_output_gradient))  # type: ignore[no-untyped-call]  # unannotated in torch
        for node in nodes(self.root):
            self._handles.append(node.register_hook(self._keeper(node)))
        return loss

    def _keep_output_gradient(self, gradient: torch.Tensor) -> None:
        self.output_gradient = gradient.detach().clone()

    def _keeper(self, node: Any) -> Callable[[Any, Any], None]:
        def keep(grad_inputs: Any, grad_outputs: Any) -> None:
            if grad_outputs and grad_outputs[0] is not None:
                self.received[id(node)] = grad_outputs[0].detach().clone()

        return keep

    def remove_hooks(self) -> None:
        """Hooks stay on a node for as long as it lives (a parameter's AccumulateGrad outlives the
        step): removed, so the next step runs bare."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def graph(self, step: int, eval_loss: torch.Tensor | None = None, evaluated: bool = False) -> StepGraph:
        """What the last call's graph received on backward (hooks removed)."""
        self.remove_hooks()
        root = None if self.root is None else walk(self.root, self.parameters, self.received)
        filled = {name: p.grad for name, p in self.parameters.items() if p.grad is not None}
        grads = {name: first_values(grad) for name, grad in filled.items()}
        shapes = {name: list(grad.shape) for name, grad in filled.items()}
        output = None if self.output_gradient is None else first_values(self.output_gradient)
        eval_root = None if eval_loss is None or eval_loss.grad_fn is None else walk(eval_loss.grad_fn, self.parameters)
        return StepGraph(step, self.rows, root, output, grads, shapes, eval_root, evaluated)
