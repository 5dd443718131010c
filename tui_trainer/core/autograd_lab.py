"""The seed's autograd lessons, run live: each is a few steps of real torch code, executed on a copy
of a run's model and its batch, with what torch printed and what it raised kept as torch said it.

A step's code is the text shown and the text run (it is executed as written), so what the learner
reads is exactly what produced the output beside it. The names a step may use: `torch`, `nn`,
`model` (a copy of the run's nn.Linear), `x` and `y` (the batch, copied), `loss_fn` (the run's
loss, through the objective seam) and `print`, which writes into the lesson's output.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .graph_walk import GraphRecorder
from .lab_events import LessonResult, LessonStep
from .lesson_texts import LESSON_NAMES
from .objective import TorchLoss

LAB_ROWS = 64  # a lesson runs on the batch's first rows: enough to be the run's, small enough to print


@dataclass(frozen=True)
class Step:
    """Code to run; `shows_error`: it is there to show what torch raises."""

    code: str
    shows_error: bool = False


@dataclass(frozen=True)
class Lesson:
    steps: tuple[Step, ...]
    facts: tuple[str, ...] = ()  # names the steps leave behind, kept as numbers for checking
    on_cpu: bool = False  # run on a CPU copy even when the run is on a GPU
    with_recorder: bool = False  # loss_fn is wrapped by a GraphRecorder: the graph lesson


@dataclass
class LabInputs:
    """What the lessons run on: a copy of a run's model (no gradients yet) and its batch's first rows."""

    model: nn.Linear
    x: torch.Tensor
    y: torch.Tensor
    loss_fn: TorchLoss
    step: int

    @classmethod
    def capture(cls, model: nn.Linear, x: torch.Tensor, y: torch.Tensor, loss_fn: TorchLoss, step: int) -> LabInputs:
        with torch.no_grad():
            copied = copy.deepcopy(model)
        for param in copied.parameters():
            param.grad = None
        return cls(copied, x[:LAB_ROWS].detach().clone(), y[:LAB_ROWS].detach().clone(), loss_fn, step)


LESSONS: dict[str, Lesson] = {
    "graph": Lesson(
        (Step("prediction = model(x)\nloss = loss_fn(prediction, y)\nprint(loss.grad_fn.name())\nloss.backward()"),),
        with_recorder=True,
    ),
    "requires-grad": Lesson(
        (
            Step("print(model.weight.requires_grad, x.requires_grad)\nprint(model(x).grad_fn.name())"),
            Step("model.requires_grad_(False)\nprint(model.weight.requires_grad, model(x).grad_fn)"),
            Step("t = x.clone()\nt.requires_grad_(True)\nprint(t.requires_grad, (t * 2).sum().grad_fn.name())"),
        )
    ),
    "no-grad": Lesson(
        (
            Step("with torch.no_grad():\n    prediction = model(x)\nprint(prediction.requires_grad, prediction.grad_fn)"),
            Step("prediction = model(x)\nprint(prediction.requires_grad, prediction.grad_fn.name())"),
        )
    ),
    "retain-graph": Lesson(
        (
            Step(
                "loss = loss_fn(model(x), y)\nloss.backward()\nonce = model.bias.grad.clone()\nonce_w = model.weight.grad.clone()\n"
                "print(once)"
            ),
            Step("loss.backward()", shows_error=True),
            Step(
                "model.zero_grad()\nloss = loss_fn(model(x), y)\nloss.backward(retain_graph=True)\nloss.backward()\n"
                "twice = model.bias.grad.clone()\ntwice_w = model.weight.grad.clone()\nprint(twice, twice / once)"
            ),
            Step("model.zero_grad()\nprint(model.bias.grad)"),
        ),
        facts=("once", "twice", "once_w", "twice_w"),
    ),
    "numpy": Lesson(
        (
            Step("prediction = model(x)\nprediction.numpy()", shows_error=True),
            Step("array = prediction.detach().numpy()\nprint(type(array).__name__, array.shape, array[:3, 0])"),
        ),
        on_cpu=True,
    ),
    "data-vs-detach": Lesson(
        (
            Step("loss = loss_fn(model(x), y)\nx.data.mul_(2)\nloss.backward()\nwrong = model.weight.grad.clone()\nprint(wrong)"),
            Step("x.data.div_(2)\nmodel.zero_grad()\nloss_fn(model(x), y).backward()\nright = model.weight.grad.clone()\nprint(right)"),
            Step("loss = loss_fn(model(x), y)\nx.detach().mul_(2)\nloss.backward()", shows_error=True),
        ),
        facts=("wrong", "right"),
    ),
    "vector-backward": Lesson(
        (
            Step("prediction = model(x)\nprint(prediction.shape)\nprediction.backward()", shows_error=True),
            Step(
                "model.zero_grad()\nprediction = model(x)\nprediction.backward(gradient=torch.ones_like(prediction))\n"
                "print(model.bias.grad)"
            ),
        )
    ),
    "module-call": Lesson(
        (
            Step(
                "calls = []\nmodel.register_forward_hook(lambda module, inputs, output: calls.append(tuple(output.shape)))\n"
                "print(torch.equal(model(x), model.forward(x)), calls)"
            ),
            Step("print(model.training)\nmodel.eval()\nprint(model.training)"),
        )
    ),
    "device": Lesson(
        (
            Step("print(torch.cuda.is_available(), model.weight.device, x.device)"),
            Step(
                "prediction = model(x)\nresult = prediction.cpu().detach().numpy()\n"
                "print(prediction.device, type(result).__name__, result.dtype)"
            ),
        )
    ),
}
assert tuple(LESSONS) == LESSON_NAMES  # the words (lesson_texts) and the code name the same lessons


def run_lesson(name: str, inputs: LabInputs) -> LessonResult:
    """Run lesson `name` (one of LESSON_NAMES) on fresh copies of `inputs`."""
    lesson = LESSONS[name]
    fresh = LabInputs.capture(inputs.model, inputs.x, inputs.y, inputs.loss_fn, inputs.step)
    model, x, y = fresh.model, fresh.x, fresh.y
    if lesson.on_cpu:
        model, x, y = model.cpu(), x.cpu(), y.cpu()
    recorder = GraphRecorder(inputs.loss_fn, model) if lesson.with_recorder else None
    printed: list[str] = []
    namespace: dict[str, Any] = {
        "torch": torch, "nn": nn, "model": model, "x": x, "y": y,
        "loss_fn": recorder or inputs.loss_fn, "print": _printer(printed),
    }
    steps = []
    for step in lesson.steps:
        printed.clear()
        error = _run(step.code, namespace)
        steps.append(LessonStep(step.code.split("\n"), list(printed), error, step.shows_error))
        if error is not None and not step.shows_error:
            break  # an error nobody meant: what follows would build on it
    facts = {fact: _numbers(namespace[fact]) for fact in lesson.facts if isinstance(namespace.get(fact), torch.Tensor)}
    return LessonResult(
        name=name, model=repr(model), device=str(model.weight.device), rows=len(x), step=inputs.step,
        loss=getattr(inputs.loss_fn, "__name__", type(inputs.loss_fn).__name__), steps=steps, facts=facts,
        graph=None if recorder is None else recorder.graph(step=0),  # not a training step: the lesson's own loss
    )


def _run(code: str, namespace: dict[str, Any]) -> str | None:
    """Execute `code` as written; torch's error, in its own words, if it raised."""
    try:
        exec(compile(code, "<lesson>", "exec"), namespace)
    except Exception as error:  # every error is the lesson's to show
        return f"{type(error).__name__}: {error}"
    return None


def _printer(lines: list[str]) -> Callable[..., None]:
    """print() for a lesson: what would go to the terminal goes into the lesson's output."""

    def lesson_print(*values: object, sep: str = " ") -> None:
        lines.extend(sep.join(str(value) for value in values).split("\n"))

    return lesson_print


def _numbers(tensor: torch.Tensor) -> list[float]:
    values: list[float] = tensor.detach().cpu().reshape(-1).tolist()
    return values
