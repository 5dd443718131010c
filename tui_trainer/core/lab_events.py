"""What the autograd lab reports: the graph of a step and the result of a lesson. Plain picklable
dataclasses of Python values (no tensors, no torch import): they cross to the app's process, and the
CLI prints them as text or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class GraphNode:
    """One node autograd recorded, with the gradient that flowed into it on backward."""

    name: str  # as the installed torch names it: node.name(), e.g. AddmmBackward0
    gradient: list[float] | None  # the gradient of the node's output, its first values; None: not recorded
    shape: list[int] | None  # that gradient's full shape
    leaf: str | None = None  # an AccumulateGrad's parameter, by its name in the model ("weight", "bias")
    inputs_without_grad: int = 0  # entries of next_functions that are None: inputs needing no gradient
    children: list[GraphNode] = field(default_factory=list)


@dataclass(slots=True)
class StepGraph:
    """The graph of one training step, from loss.grad_fn down to the parameters' AccumulateGrad."""

    step: int  # 1-based, like LedgerEntry.step; 0: not a training step (the graph lesson's own loss)
    rows: int  # rows in the step's batch
    root: GraphNode | None  # None: no graph was recorded (the fused engine computes gradients in closed form)
    output_gradient: list[float] | None  # dL/dŷ, as a hook on the prediction tensor received it: first rows
    grads: dict[str, list[float]] = field(default_factory=dict)  # each parameter's .grad after backward: first values
    grad_shapes: dict[str, list[int]] = field(default_factory=dict)  # and its full shape
    eval_root: GraphNode | None = None  # the last evaluation's graph: kept only without torch.no_grad()
    evaluated: bool = False  # an evaluation has run (so eval_root None means no_grad did its job)


@dataclass(slots=True)
class LessonStep:
    """A few lines of code, run; what they printed, and what they raised."""

    code: list[str]
    output: list[str]
    error: str | None = None  # "RuntimeError: ...", torch's own words
    shows_error: bool = False  # the step is there to show an error


@dataclass(slots=True)
class LessonResult:
    """A lesson run on a copy of a run's model and its batch."""

    name: str
    model: str  # repr() of the model the lesson used
    device: str
    rows: int  # rows of the batch x, y
    step: int  # steps the run had taken when the copy was made
    loss: str  # the run's loss function, by its name in torch
    steps: list[LessonStep]
    facts: dict[str, list[float]] = field(default_factory=dict)  # values a test checks (e.g. a gradient once and twice)
    graph: StepGraph | None = None  # the graph lesson's graph
