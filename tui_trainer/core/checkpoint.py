"""A trainer's checkpoint: everything needed to continue the run exactly where it was.

What continues a run, nanoGPT-style in one dict: the step (which, with the seed, fixes the
position in the batch order: each epoch's order depends only on the seed and the epoch), the
parameters and their gradients (they accumulate in the "forget zero_grad" experiment), the
optimizer's state (torch.optim's `state_dict`, or the hand-written and fused rules' buffers and
step count), the learning-rate schedule's `state_dict` and the live rate, the running sums of the
epoch under way, the training time so far, and torch's global RNG state (training draws nothing
from it today; kept so that a run that ever does continues exactly too). The settings come with
it, so a checkpoint is never resumed under other settings.

On disk: `torch.save` of {format, version, sha256, payload}, where the payload is the `torch.save`
of that dict. Loading uses `torch.load(weights_only=True)` both times, so no code from the file
ever runs, and checks the SHA-256, so a file damaged anywhere (not only cut short) is refused in
one line rather than resumed wrongly. Written with `write_atomically`: a kill at any moment leaves
the previous checkpoint whole.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .errors import TrainerError
from .events import RunState
from .files import FileProblem, readable_file, write_atomically

if TYPE_CHECKING:
    from .trainer import Trainer

FORMAT = "tui-trainer checkpoint"
VERSION = 1


class CheckpointError(TrainerError):
    """A checkpoint that cannot be used: missing, cut short, damaged, foreign, or another run's."""


def capture(trainer: Trainer) -> dict[str, Any]:
    """The trainer's whole state, as tensors and plain values (what weights_only loading takes)."""
    return {
        "config": trainer.config.model_dump(mode="json"),
        "step": trainer.step,
        "state": trainer.state.value,
        "message": trainer.message,
        "active_seconds": trainer.active_seconds,
        "epoch_loss_sum": trainer._epoch_loss_sum,
        "epoch_rows": trainer._epoch_rows,
        "epoch_correct": trainer._epoch_correct,  # a classifier's right rows of the epoch under way
        "epoch_counted": trainer._epoch_counted,
        "last_loss": trainer.last_loss,
        "stepper": trainer.stepper.capture(),
        "schedule": trainer.schedule.capture() if trainer.schedule is not None else None,
        "rng": torch.get_rng_state(),
    }


def restore(trainer: Trainer, state: dict[str, Any]) -> None:
    """Put a freshly built trainer (same settings, same data) where `capture` found its run."""
    try:
        params, grads, optimizer, lr = state["stepper"]
        stepper = trainer.stepper
        if grads[0] is not None and stepper.model.weight.grad is None and hasattr(stepper, "show_gradients"):
            stepper.show_gradients()  # the fused engine's .grad are views of its gradient: restore into them
        stepper.restore((params, grads, optimizer, lr))
        if state["schedule"] is None:
            trainer.schedule = None  # a rate typed during the run had ended the schedule
        elif trainer.schedule is not None:
            trainer.schedule.restore(state["schedule"])
        trainer.step = int(state["step"])
        trainer.active_seconds = float(state["active_seconds"])
        trainer._epoch_loss_sum = float(state["epoch_loss_sum"])
        trainer._epoch_rows = int(state["epoch_rows"])
        trainer._epoch_correct = float(state.get("epoch_correct", 0.0))
        trainer._epoch_counted = int(state.get("epoch_counted", 0))
        trainer.last_loss = state["last_loss"]
        torch.set_rng_state(state["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
        raise CheckpointError(f"the checkpoint does not fit this run ({_first_line(error)})") from None


def saved_state(state: dict[str, Any]) -> RunState:
    return RunState(state["state"])


def save(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (see the module's notes). Raises OSError."""
    inner = io.BytesIO()
    torch.save(state, inner)
    payload = inner.getvalue()
    outer = io.BytesIO()
    torch.save(
        {
            "format": FORMAT,
            "version": VERSION,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "payload": torch.frombuffer(bytearray(payload), dtype=torch.uint8),
        },
        outer,
    )
    write_atomically(path, outer.getvalue())


def load(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint, or raise CheckpointError in one line saying what is wrong with it."""
    try:
        readable_file(str(path))
    except FileProblem as problem:
        raise CheckpointError(str(problem)) from None
    what = f"{path}: is not a tui-trainer checkpoint, or is damaged"
    try:
        outer = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a bad file: every one means the same here
        raise CheckpointError(f"{what} ({_first_line(error)})") from None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise CheckpointError(f"{path}: is not a tui-trainer checkpoint")
    if outer.get("version") != VERSION:
        raise CheckpointError(f"{path}: is a checkpoint of format version {outer.get('version')!r}; this tui-trainer reads {VERSION}")
    payload = outer.get("payload")
    if not isinstance(payload, torch.Tensor) or payload.dtype != torch.uint8:
        raise CheckpointError(f"{what} (no payload)")
    data = payload.numpy().tobytes()
    if hashlib.sha256(data).hexdigest() != outer.get("sha256"):
        raise CheckpointError(f"{what} (its checksum does not match: the file was changed or damaged)")
    try:
        state = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    except Exception as error:
        raise CheckpointError(f"{what} ({_first_line(error)})") from None
    if not isinstance(state, dict) or not ("stepper" in state or "entries" in state):
        raise CheckpointError(f"{what} (no trainer state in it)")
    return state


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    return first if len(first) <= 120 else first[:117] + "..."
