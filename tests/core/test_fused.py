"""The fused engine follows the autograd engine (1e-6), however the steps are batched or run.

These tests hold the streaming fused engine (a pass over the rows every step, the kernels autograd
runs) to autograd to the last bit, full batches included: it is the engine of every objective that
is not a quadratic. The full-batch path from sufficient statistics has its own tests
(test_sufficient.py); here it is switched off.
"""

import pytest
import torch
from pydantic import ValidationError

import tui_trainer.core.fused as fused
import tui_trainer.core.stepper as stepper
import tui_trainer.core.sufficient as sufficient
from tui_trainer.core.config import Algorithm, RunConfig
from tui_trainer.core.events import StepLosses
from tui_trainer.core.trainer import Trainer

TOLERANCE = 1e-6


@pytest.fixture(autouse=True)
def streaming_full_batches(monkeypatch):
    monkeypatch.setattr(sufficient, "applies", lambda *args: False)


def run(settings: dict, engine: str, **trainer_options):
    config = RunConfig.model_validate({**settings, "engine": engine})
    events = []
    trainer = Trainer(config, sink=events.append, **trainer_options)
    summary = trainer.run()
    losses = [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]
    return trainer, summary, losses


def settings(algorithm, batch_size, init="normal", weight_decay=0.0, steps=200, val_fraction=0.2):
    optimizer = {"algorithm": algorithm, "batch_size": batch_size, "epochs": 10_000, "weight_decay": weight_decay}
    data = {"samples": 150, "dims": 3, "noise": 0.3, "val_fraction": val_fraction}
    return {"optimizer": optimizer, "data": data, "init": init, "max_steps": steps}


def assert_same_run(a, b):
    (_, summary_a, losses_a), (_, summary_b, losses_b) = a, b
    assert summary_a.steps == summary_b.steps
    assert summary_a.weights == pytest.approx(summary_b.weights, abs=TOLERANCE, rel=TOLERANCE)
    assert summary_a.bias == pytest.approx(summary_b.bias, abs=TOLERANCE, rel=TOLERANCE)
    assert losses_a == pytest.approx(losses_b, abs=TOLERANCE, rel=TOLERANCE)
    assert summary_a.final_loss == pytest.approx(summary_b.final_loss, abs=TOLERANCE, rel=TOLERANCE)


@pytest.mark.parametrize("algorithm", list(Algorithm))
@pytest.mark.parametrize("batch_size", ["full", 1, 16])  # 16 leaves a short last batch of 120 rows
@pytest.mark.parametrize("init", ["zeros", "normal"])
def test_fused_equals_autograd(algorithm, batch_size, init):
    plan = settings(algorithm, batch_size, init)
    assert_same_run(run(plan, "autograd"), run(plan, "fused"))


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_fused_equals_autograd_with_weight_decay(algorithm):
    plan = settings(algorithm, 16, weight_decay=0.05)
    assert_same_run(run(plan, "autograd"), run(plan, "fused"))


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_the_graph_steps_equal_the_eager_fused_steps(algorithm):
    """The arithmetic a CUDA graph records (learning rate and step count as device tensors),
    run eagerly here, gives the eager fused engine's results."""
    for batch_size, val in (("full", 0), (8, 0.2)):
        plan = settings(algorithm, batch_size, val_fraction=val, steps=250)
        graphed = run(plan, "fused", graphs=True)
        assert graphed[0].graph is not None
        assert_same_run(run(plan, "fused"), graphed)


def test_graph_replays_pick_up_a_new_learning_rate_and_the_eager_steps_between():
    config = RunConfig.model_validate({**settings("adam", 8, steps=400), "engine": "fused"})
    eager, graphed = Trainer(config), Trainer(config, graphs=True)
    for trainer in (eager, graphed):
        trainer._steps(0, 37)  # graph replays and eager steps, ending mid-epoch
        trainer.stepper.lr = 0.003  # as a live change does between chunks
        trainer._steps(37, 120)
    assert graphed.graph.count == 15  # 120 training rows: 15 full batches of 8 an epoch
    assert graphed.stepper.t == eager.stepper.t == 157
    assert graphed.snapshot().weights == pytest.approx(eager.snapshot().weights, abs=TOLERANCE)
    assert graphed.snapshot().state["v"][0] == pytest.approx(eager.snapshot().state["v"][0], abs=TOLERANCE)


@pytest.mark.parametrize("engine", ["autograd", "fused"])
def test_big_batches_in_blocks_give_the_whole_batch_gradient(monkeypatch, engine):
    plan = settings("momentum", "full", steps=60)
    whole = run(plan, engine)
    monkeypatch.setattr(stepper, "BLOCK_ROWS", 7)
    monkeypatch.setattr(fused, "BLOCK_ROWS", 7)
    assert_same_run(whole, run(plan, engine))


@pytest.mark.parametrize("engine", ["autograd", "fused"])
def test_column_major_storage_changes_nothing_but_speed(monkeypatch, engine):
    import tui_trainer.core.trainer as trainer_module

    plan = settings("adam", "full", steps=80)
    rows = run(plan, engine)
    monkeypatch.setattr(trainer_module, "BIG_BATCH", 1)
    columns = run(plan, engine)
    assert not columns[0].x.is_contiguous() and columns[0].x.t().is_contiguous()
    assert_same_run(rows, columns)


def test_fused_shows_gradients_and_state_like_autograd():
    plan = settings("adam", 16, steps=30)
    autograd_trainer, _, _ = run(plan, "autograd")
    fused_trainer, _, _ = run(plan, "fused")
    a, f = autograd_trainer.snapshot(), fused_trainer.snapshot()
    assert f.grad_weights == pytest.approx(a.grad_weights, abs=TOLERANCE)
    assert f.grad_bias == pytest.approx(a.grad_bias, abs=TOLERANCE)
    assert f.state.keys() == a.state.keys() == {"m", "v"}
    for name in f.state:
        assert f.state[name][0] == pytest.approx(a.state[name][0], abs=TOLERANCE)
    assert f.grad_fn is None  # no autograd graph is built
    initial = Trainer(RunConfig.model_validate({**plan, "engine": "fused"})).snapshot()
    assert initial.grad_weights is None  # as before the first backward


def test_fused_divergence_keeps_the_last_finite_parameters():
    plan = {**settings("bgd", "full", steps=2000, val_fraction=0), "optimizer": {"algorithm": "bgd", "lr": 5.0, "epochs": 2000}}
    _, fused_summary, _ = run(plan, "fused")
    _, autograd_summary, _ = run(plan, "autograd")
    assert fused_summary.diverged and autograd_summary.diverged
    assert fused_summary.steps == autograd_summary.steps
    assert fused_summary.weights == pytest.approx(autograd_summary.weights, rel=1e-5)


def test_scratch_implementation_is_refused_with_the_fused_engine():
    with pytest.raises(ValidationError, match="implementation scratch needs engine autograd"):
        RunConfig.model_validate({"engine": "fused", "optimizer": {"implementation": "scratch"}})
    assert RunConfig.model_validate({"engine": "fused"}).optimizer.implementation.value == "torch"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("engine", ["autograd", "fused"])
@pytest.mark.parametrize("batch_size", ["full", 32])
def test_no_host_sync_in_the_hot_loop_on_cuda(engine, batch_size):
    config = RunConfig.model_validate(
        {**settings("adam", batch_size, steps=1000, val_fraction=0.2), "engine": engine, "device": "cuda"}
    )
    trainer = Trainer(config)
    trainer._steps(0, 5)  # first epoch's order and any lazy CUDA set-up
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        trainer._steps(5, 300)
    finally:
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graphs_follow_the_cpu_run():
    plan = settings("adam", 16, steps=500)
    cpu = run({**plan, "device": "cpu"}, "fused")
    cuda = run({**plan, "device": "cuda"}, "fused")
    assert cuda[0].graph is not None and cuda[0].graph.graph is not None
    assert cuda[1].weights == pytest.approx(cpu[1].weights, abs=1e-4)
