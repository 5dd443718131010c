"""The parameter path: θ = [w..., b] after the steps a run keeps, for the loss landscape.

A race keeps "every" step. The app keeps every step at first, then fewer ("thinning"): every step
up to THIN_AFTER, every 2nd up to twice that, every 4th up to four times that, ... (about
THIN_AFTER/2 points per doubling of the steps), so a long run's path stays small. "off" keeps none.

Points stay tensors on the device until the trainer's one read per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

THIN_AFTER = 1024
MODES = ("off", "every", "thinning")

Step = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class PathRecorder:
    """Keeps θ after the steps the mode keeps, a chunk at a time: `start_chunk`, record the
    chunk's steps (`recording` for steps one by one, `keep` for a graph's points), then read
    `points` and `steps`."""

    def __init__(self, mode: str, where: Callable[[], torch.Tensor]) -> None:
        if mode not in MODES:
            raise ValueError(f"path must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.tracking = mode != "off"
        self._where = where  # a copy of θ now, on the device
        self._stride = 1  # thinning: keep every `_stride`-th step from here on
        self.points: list[torch.Tensor] = []
        self.steps: list[int] | None = None  # the step of each point when thinning; None: every step

    def start_chunk(self) -> None:
        self.points = []
        self.steps = [] if self.mode == "thinning" else None

    def recording(self, step: Step, first_step: int) -> Step:
        """`step`, also keeping θ after the steps the path keeps (the first being `first_step` + 1).
        A copy of θ a step is the cost: only runs that track their path pay it."""
        points, where, kept = self.points, self._where, self.steps
        if kept is None:

            def step_and_record(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
                loss = step(x, y)
                points.append(where())
                return loss

            return step_and_record
        taken = first_step

        def step_and_thin(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            nonlocal taken
            loss = step(x, y)
            taken += 1
            if self.keeps(taken):
                points.append(where())
                kept.append(taken)
            return loss

        return step_and_thin

    def keep(self, points: Sequence[torch.Tensor], first_step: int) -> None:
        """θ after steps `first_step` + 1, + 2, ... (a CUDA graph's replay): the ones the path keeps."""
        if self.steps is None:
            self.points.extend(points)
            return
        for step, point in enumerate(points, start=first_step + 1):
            if self.keeps(step):
                self.points.append(point)
                self.steps.append(step)

    def keeps(self, step: int) -> bool:
        """Thinning: whether `step` is kept. Asked once per step, in order: it moves the stride on."""
        if step % self._stride:
            return False
        if step >= THIN_AFTER * self._stride:
            self._stride *= 2
        return True
