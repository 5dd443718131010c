"""What an update rule is, and what an algorithm is: a rule plus a batching mode and defaults.

A rule lives in one module of this package and owns everything about itself: its maths (in the
module's docstring and `formula`), the names and labels of its state, its torch.optim factory, its
hand-written update (as the seed writes it), its fused in-place update (torch.optim's own
arithmetic on one flat tensor), and the lines the Learn view writes out for a step. The registry in
`__init__` lists the algorithms; the CLI, the form, the inspector, the ledger and the tests are
generated from it.

Nothing here imports torch at module level: the app lists the rules before its first frame, and
torch takes over a second to import. Code that needs torch imports it inside the function, which
runs once per run (factories), never per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    import torch

    from ..config import OptimizerConfig
    from ..events import UpdateLine


@dataclass(frozen=True)
class Hyperparameter:
    """A setting of the update rules: what the form calls it and what it means."""

    name: str
    label: str  # in the form
    metavar: str  # in --help
    description: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# every hyperparameter any rule takes, in the order forms and help list them
HYPERPARAMETERS: dict[str, Hyperparameter] = {
    h.name: h
    for h in (
        Hyperparameter("lr", "lr", "LR", "learning rate: the size of each step"),
        Hyperparameter("momentum", "momentum", "M", "momentum: how much of the last step to keep"),
        Hyperparameter("alpha", "alpha", "A", "RMSProp's decay of the mean squared gradient"),
        Hyperparameter("beta1", "beta1", "B1", "Adam's decay of the mean gradient (m)"),
        Hyperparameter("beta2", "beta2", "B2", "Adam's decay of the mean squared gradient (v)"),
        Hyperparameter("eps", "eps", "EPS", "added to the denominator to avoid dividing by 0"),
        Hyperparameter(
            "weight_decay", "weight decay", "WD", "L2 penalty added to every gradient (adamw: θ shrinks by lr·λ each step instead)"
        ),
    )
}


@dataclass(frozen=True)
class StateSlot:
    """One tensor of optimizer state per parameter, starting at zero."""

    name: str  # ours, the same in every implementation: "velocity"
    label: str  # what the inspector shows: "Σ g²"
    torch_key: str  # torch.optim's key for it in `optimizer.state[param]`: "momentum_buffer"


@dataclass
class FlatState:
    """What a fused update works on: θ = [w, b] as one flat tensor, its gradient, the rule's state
    (one flat tensor per slot), and a step count on the device (torch's fused kernels read it, and
    a CUDA graph replay advances it)."""

    theta: torch.Tensor
    grad: torch.Tensor
    buffers: dict[str, torch.Tensor]
    step_count: torch.Tensor
    kernels: bool  # torch.optim's fused single-kernel Adam/Adagrad exist for this device
    lr: Callable[[], float]  # the live learning rate (a schedule or a key may change it)
    steps: Callable[[], int]  # steps taken, counting this one


class UpdateRule:
    """How one step moves θ given the gradient g. Subclasses fill in every part."""

    name: ClassVar[str]  # "momentum"
    formula: ClassVar[str]  # the rule in one line, for the Learn view
    state: ClassVar[tuple[StateSlot, ...]] = ()
    # AdamW decays θ itself; every other rule adds λθ to the gradient (L2), as torch.optim does
    decoupled_weight_decay: ClassVar[bool] = False
    # Adam's m̂ and v̂: the "no bias correction" experiment needs a rule that has them
    bias_correction: ClassVar[bool] = False

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(slot.name for slot in self.state)

    def torch_optimizer(self, params: list[torch.Tensor], config: OptimizerConfig, kernels: bool) -> torch.optim.Optimizer:
        """torch.optim's optimizer for this rule, with its arithmetic pinned (see `pinned`)."""
        raise NotImplementedError

    def scratch_update(
        self, param: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], config: OptimizerConfig, lr: float, t: int,
        correct_bias: bool,
    ) -> None:
        """The seed's way: one parameter updated in place under no_grad, `grad` already carrying
        L2 weight decay unless the rule decouples it; `t` counts steps from 1."""
        raise NotImplementedError

    def fused_update(self, flat: FlatState, config: OptimizerConfig) -> Callable[[], None]:
        """A function that takes one update of `flat.theta` in place, with torch.optim's own
        arithmetic (the tests hold it to the autograd engine to the last bit). Built once per run,
        so the per-step call does no look-ups."""
        raise NotImplementedError

    def ledger_lines(
        self, theta: float, g: float, state: dict[str, float], config: OptimizerConfig, lr: float, t: int, correct_bias: bool
    ) -> list[UpdateLine]:
        """The update of one parameter written out with its numbers, in float64; the last line's
        value is the new parameter. `g` carries L2 weight decay unless the rule decouples it."""
        raise NotImplementedError


def pinned(kernels: bool) -> dict[str, bool]:
    """torch.optim's variant, chosen explicitly: the fused single kernel where torch has one for
    the device (Adam, AdamW, Adagrad), the single-tensor loop otherwise; the fused engine matches
    whichever is chosen."""
    return {"fused": True} if kernels else {"foreach": False}


BatchSize = int | Literal["full"]


@dataclass(frozen=True)
class AlgorithmSpec:
    """An algorithm the user picks by name: an update rule, how many rows a step uses, and
    defaults that converge on the default data."""

    name: str  # the CLI's name: "mbgd"
    rule: UpdateRule
    summary: str  # one line for help and tables
    defaults: dict[str, float]  # its hyperparameters and their defaults
    batch_size: BatchSize
    epochs: int
    story: dict[str, str]  # what it fixes in the rule before it, by language (en, zh)
    formula: str = ""  # the rule with its batching spelled out; the rule's own formula if empty

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """The hyperparameters this algorithm uses, in display order."""
        return tuple(name for name in HYPERPARAMETERS if name in self.defaults)

    @property
    def shown_formula(self) -> str:
        return self.formula or self.rule.formula


def n(value: float) -> str:
    """A number in a written-out step."""
    return f"{value:.4g}"


def p(value: float) -> str:
    """A number as a factor: negative ones in brackets, so 0.1·(−1.84) reads right."""
    return f"({value:.4g})" if value < 0 else f"{value:.4g}"
