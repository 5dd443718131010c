"""The parameter path recorder on its own: which steps it keeps, however the steps arrive."""

import pytest
import torch

from tui_trainer.core.path import THIN_AFTER, PathRecorder


class Counter:
    """A stand-in stepper: θ is the number of steps taken."""

    def __init__(self) -> None:
        self.taken = 0

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.taken += 1
        return torch.tensor(0.0)

    def theta(self) -> torch.Tensor:
        return torch.tensor([float(self.taken)])


def record(mode: str, pieces: list[tuple[str, int]]) -> tuple[list[int], list[float]]:
    """Run the pieces ("eager" steps one by one, or "graph" points handed over at once), a chunk
    each, and return the kept steps and the θ kept with them."""
    stepper = Counter()
    recorder = PathRecorder(mode, stepper.theta)
    steps: list[int] = []
    values: list[float] = []
    for how, count in pieces:
        first = stepper.taken
        recorder.start_chunk()
        if how == "eager":
            step = recorder.recording(stepper.step, first)
            for _ in range(count):
                step(torch.empty(0), torch.empty(0))
        else:
            recorder.keep([torch.tensor([float(first + i + 1)]) for i in range(count)], first)
            stepper.taken += count
        kept = recorder.steps if recorder.steps is not None else list(range(first + 1, first + 1 + len(recorder.points)))
        steps += kept
        values += [point.item() for point in recorder.points]
    return steps, values


def test_every_keeps_each_step_with_its_own_parameters():
    steps, values = record("every", [("eager", 5), ("graph", 3), ("eager", 2)])
    assert steps == list(range(1, 11)) and values == [float(s) for s in steps]


def test_thinning_keeps_every_step_then_every_second_then_every_fourth():
    steps, values = record("thinning", [("eager", 4 * THIN_AFTER)])
    assert steps[:THIN_AFTER] == list(range(1, THIN_AFTER + 1))
    assert steps[THIN_AFTER : THIN_AFTER + 3] == [THIN_AFTER + 2, THIN_AFTER + 4, THIN_AFTER + 6]
    assert steps[-2:] == [4 * THIN_AFTER - 4, 4 * THIN_AFTER]  # every 4th past twice THIN_AFTER
    assert values == [float(s) for s in steps]  # each point is θ after its own step


def test_thinning_keeps_the_same_steps_whether_they_run_eagerly_or_in_graph_replays():
    """The fused engine's CUDA graphs hand over their points at once; the path must not change."""
    total = 3 * THIN_AFTER + 17
    eager = record("thinning", [("eager", total)])
    mixed = record("thinning", [("eager", 100), ("graph", 1500), ("eager", 7), ("graph", total - 1607)])
    assert mixed == eager


def test_off_keeps_nothing_and_a_mistyped_mode_is_refused():
    assert not PathRecorder("off", Counter().theta).tracking
    with pytest.raises(ValueError, match="thinning"):
        PathRecorder("thin", Counter().theta)
