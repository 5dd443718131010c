"""The model: nn.Linear(features, outputs), initialised the same on every device for a given seed.

One output predicts a number (MSE); a classifier has one output per class (cross-entropy)."""

from __future__ import annotations

import torch
from torch import nn

from .config import Init


def build_model(dims: int, init: Init, seed: int, device: torch.device, outputs: int = 1) -> nn.Linear:
    model = nn.Linear(dims, outputs)
    with torch.no_grad():
        if init is Init.ZEROS:
            model.weight.zero_()
            model.bias.zero_()
        else:
            # Draw on the CPU from our own generator: same numbers on CPU, CUDA and MPS.
            generator = torch.Generator().manual_seed(seed)
            model.weight.copy_(torch.randn(model.weight.shape, generator=generator))
            model.bias.copy_(torch.randn(model.bias.shape, generator=generator))
    return model.to(device)
