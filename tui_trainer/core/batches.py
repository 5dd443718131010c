"""Which rows each step trains on: a fresh seeded permutation per epoch, cut into batches.

The order depends only on the seed, the epoch and the number of rows, so any step's batch can be
found again (to replay a chunk) and runs with the same seed see the same rows in the same order,
whatever their algorithm or engine.

When the data is small enough, each epoch's rows are gathered once into a permuted copy, and a
step's batch is a slice of it (a view, no copy): a gather per step is the largest cost of a
small step after the step itself.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .config import FULL_BATCH, BatchSize

PERMUTED_COPY_LIMIT = 256 * 2**20  # bytes; above this, gather each batch instead of copying all rows


def epoch_permutation(rows: int, seed: int, epoch: int) -> torch.Tensor:
    """The row order of one epoch, on the CPU (the same numbers on every device)."""
    generator = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, 3, epoch]).generate_state(1)[0]))
    return torch.randperm(rows, generator=generator)


class Batches:
    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: BatchSize, seed: int) -> None:
        self.x, self.y = x, y
        self.rows = len(x)
        self.full = batch_size == FULL_BATCH or batch_size >= self.rows
        self.size = self.rows if self.full else int(batch_size)
        self.steps_per_epoch = 1 if self.full else math.ceil(self.rows / self.size)
        self.seed = seed
        self.copy_rows = (x.nbytes + y.nbytes) <= PERMUTED_COPY_LIMIT
        self._epoch = -1
        self._order: torch.Tensor | None = None
        self._epoch_x, self._epoch_y = x, y

    def epoch(self, epoch: int) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """(row order on the device, x, y) of an epoch: x and y are already in that order when
        the rows were copied, else they are the stored rows and batches must be gathered."""
        if self.full:
            return None, self.x, self.y
        if epoch != self._epoch:
            order = epoch_permutation(self.rows, self.seed, epoch)
            if self.x.device.type == "cuda":  # an asynchronous copy from pinned memory: no host sync
                order = order.pin_memory().to(self.x.device, non_blocking=True)
            else:
                order = order.to(self.x.device)
            self._order = order
            if self.copy_rows:
                self._epoch_x, self._epoch_y = self.x.index_select(0, order), self.y.index_select(0, order)
            self._epoch = epoch
        return self._order, self._epoch_x, self._epoch_y

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The (x, y) of 0-based `step`."""
        epoch, k = divmod(step, self.steps_per_epoch)
        order, x, y = self.epoch(epoch)
        if order is None:
            return x, y
        rows = slice(k * self.size, (k + 1) * self.size)
        if self.copy_rows:
            return x[rows], y[rows]
        return x.index_select(0, order[rows]), y.index_select(0, order[rows])

    def batch_rows(self, step: int) -> int:
        k = step % self.steps_per_epoch
        return min(self.size, self.rows - k * self.size)
