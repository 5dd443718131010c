"""Which torch device to train on: CUDA, then MPS, then CPU, unless the person chose one."""

from __future__ import annotations

import torch

from .errors import DeviceError


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn `auto`, `cpu`, `cuda`, `cuda:N` or `mps` into a device that exists here."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {spec!r} was asked for, but this machine has no usable CUDA GPU; choose the device cpu or auto")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(f"device {spec!r} was asked for, but this machine has {count} CUDA GPU(s) (cuda:0..cuda:{count - 1})")
    if device.type == "mps" and not _mps_available():
        raise DeviceError(f"device {spec!r} was asked for, but Apple's MPS is not available here; choose the device cpu or auto")
    return device


def describe_device(device: torch.device) -> str:
    """A label for people: `cpu`, or `cuda:0 (NVIDIA H200, 1.2/139.8 GiB)`."""
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    free, total = torch.cuda.mem_get_info(index)
    name = torch.cuda.get_device_name(index)
    return f"cuda:{index} ({name}, {(total - free) / 2**30:.1f}/{total / 2**30:.1f} GiB)"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())
