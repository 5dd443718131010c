"""Device choice: CUDA, then MPS, then CPU; explicit choices honoured; missing ones refused."""

import pytest
import torch

from tui_trainer.core import device as device_module
from tui_trainer.core.device import resolve_device
from tui_trainer.core.errors import DeviceError


def fake(monkeypatch, *, cuda: bool, mps: bool, count: int = 1):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count if cuda else 0)
    monkeypatch.setattr(device_module, "_mps_available", lambda: mps)


@pytest.mark.parametrize(
    "cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    fake(monkeypatch, cuda=cuda, mps=mps)
    assert resolve_device("auto").type == expected


def test_explicit_cpu_is_honoured_even_with_a_gpu(monkeypatch):
    fake(monkeypatch, cuda=True, mps=False)
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "mps"])
def test_a_missing_device_is_a_clear_error(monkeypatch, spec):
    fake(monkeypatch, cuda=False, mps=False)
    with pytest.raises(DeviceError, match=f"device '{spec}' was asked for, but"):
        resolve_device(spec)


def test_a_gpu_index_past_the_last_is_refused(monkeypatch):
    fake(monkeypatch, cuda=True, mps=False, count=2)
    with pytest.raises(DeviceError, match=r"has 2 CUDA GPU\(s\) \(cuda:0..cuda:1\)"):
        resolve_device("cuda:2")


def test_the_real_machine_resolves_auto_to_something_usable():
    device = resolve_device("auto")
    assert torch.zeros(1, device=device).device.type == device.type
