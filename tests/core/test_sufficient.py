"""Full-batch fused steps from sufficient statistics: the autograd engine's run, without the rows."""

import math

import pytest
import torch
from torch import nn

from tui_trainer.core import sufficient
from tui_trainer.core.algorithms import TorchOptimStepper, build_stepper
from tui_trainer.core.config import Engine, OptimizerConfig, RunConfig
from tui_trainer.core.events import EpochsEnded, StepLosses
from tui_trainer.core.fused import FusedStepper
from tui_trainer.core.objective import MeanSquaredError
from tui_trainer.core.rules import ALGORITHMS
from tui_trainer.core.sufficient import SufficientStepper, sufficient_statistics
from tui_trainer.core.trainer import Trainer

TOLERANCE = 1e-6  # as the fused engine's own tests: float32 runs, rounded differently
# The horizon: near the optimum RMSProp and Adam divide tiny gradients by their own size, and there
# float32 rounding steers the run. On the fused tests' data (150 rows, zero init) float32 and
# float64 autograd part by 2e-2 after ~180 RMSProp steps, so no engine that rounds differently
# can stay within 1e-6 past that; these runs stop before it (the float64 test below has no such limit).


def plan(algorithm, *, batch_size="full", engine="fused", steps=150, weight_decay=0.0, val_fraction=0.2, samples=200):
    return RunConfig.model_validate(
        {
            "optimizer": {"algorithm": algorithm, "batch_size": batch_size, "epochs": 10_000, "weight_decay": weight_decay},
            "data": {"samples": samples, "dims": 3, "noise": 0.3, "val_fraction": val_fraction},
            "init": "normal",
            "max_steps": steps,
            "engine": engine,
        }
    )


def run(config, **options):
    events = []
    trainer = Trainer(config, sink=events.append, **options)
    summary = trainer.run()
    losses = [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]
    vals = [v for e in events if isinstance(e, EpochsEnded) for v in (e.val_losses or [])]
    return trainer, summary, losses, vals


def assert_close(a, b):
    assert a == pytest.approx(b, rel=TOLERANCE, abs=TOLERANCE)


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_every_rule_run_full_batch_follows_the_autograd_engine(algorithm, weight_decay):
    fused_trainer, fused, fused_losses, fused_vals = run(plan(algorithm, weight_decay=weight_decay))
    _, autograd, autograd_losses, autograd_vals = run(plan(algorithm, weight_decay=weight_decay, engine="autograd"))
    assert isinstance(fused_trainer.stepper, SufficientStepper)
    assert fused.steps == autograd.steps == 150
    assert_close(fused.weights, autograd.weights)
    assert_close(fused.bias, autograd.bias)
    assert_close(fused_losses, autograd_losses)
    assert_close(fused.final_loss, autograd.final_loss)
    assert len(fused_vals) == 150  # validation is measured on its own rows every epoch
    assert_close(fused_vals, autograd_vals)


def test_a_batch_as_big_as_the_data_is_a_full_batch_too():
    trainer, *_ = run(plan("mbgd", batch_size=500, steps=5))
    assert isinstance(trainer.stepper, SufficientStepper)


def test_other_batch_sizes_and_engines_keep_their_steppers():
    assert type(Trainer(plan("mbgd", batch_size=16)).stepper) is FusedStepper
    assert not isinstance(Trainer(plan("bgd", engine="autograd")).stepper, FusedStepper)


def test_an_objective_without_sufficient_statistics_keeps_the_fused_engine():
    class NotQuadratic(MeanSquaredError):
        sufficient_statistics = False

    model = nn.Linear(3, 1)
    stepper = build_stepper(model, OptimizerConfig(algorithm="bgd"), Engine.FUSED, objective=NotQuadratic(), full_batch=True)
    assert type(stepper) is FusedStepper
    with pytest.raises(ValueError, match="sufficient statistics"):
        SufficientStepper(nn.Linear(3, 1), OptimizerConfig(algorithm="bgd"), NotQuadratic())


def test_after_the_first_step_the_rows_are_never_read_again():
    """Wiping the training rows after step 1 changes nothing: every later step, and the final
    loss, come from the statistics. The old way (a pass per step) would train on zeros."""
    config = plan("adam", val_fraction=0, steps=300)
    _, untouched, _, _ = run(config)
    trainer = Trainer(config)
    trainer.begin()
    assert trainer.advance()  # the first chunk is one step: the one pass
    assert trainer.stepper.rows_read == 200
    trainer.x.zero_()
    trainer.y.zero_()
    while trainer.advance():
        pass
    summary = trainer.finish()
    assert trainer.stepper.rows_read == 200  # 300 steps, one pass
    assert summary.steps == 300
    assert summary.weights == untouched.weights
    assert summary.final_loss == untouched.final_loss
    assert summary.final_loss > 0.01  # on the wiped rows (all zero) the loss would be 0


def test_the_statistics_are_the_sums_of_a_float64_pass_in_blocks():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(1000, 4, generator=generator) * 10 + 3, torch.randn(1000, 1, generator=generator)
    stats = sufficient_statistics(x, y, block_rows=7)
    a = torch.cat([x.double(), torch.ones(1000, 1, dtype=torch.float64)], 1)
    assert torch.allclose(stats.gram, a.t() @ a / 1000, rtol=1e-12, atol=0)
    assert torch.allclose(stats.moment, a.t() @ y.double().reshape(-1) / 1000, rtol=1e-12, atol=0)
    assert float(stats.power) == pytest.approx(float(y.double().square().mean()), rel=1e-12)
    assert stats.rows == 1000


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_in_float64_the_steps_are_autograd_s_to_rounding(algorithm):
    """The maths, free of float32 noise: a float64 model stepped both ways agrees to 1e-10."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(300, 3, generator=generator, dtype=torch.float64)
    y = x @ torch.tensor([[1.5], [-2.0], [0.5]], dtype=torch.float64) + 0.3 * torch.randn(300, 1, generator=generator, dtype=torch.float64)
    config = OptimizerConfig(algorithm=algorithm, weight_decay=0.01)
    models = []
    for _ in range(2):
        torch.manual_seed(2)
        models.append(nn.Linear(3, 1).double())
    ours, reference = SufficientStepper(models[0], config), TorchOptimStepper(models[1], config)
    for _ in range(60):
        loss, expected = ours.step(x, y), reference.step(x, y)
        assert float(loss) == pytest.approx(float(expected), rel=1e-10)
    assert torch.allclose(ours.flat_parameters(), reference.flat_parameters(), rtol=1e-10, atol=1e-12)
    assert float(ours.evaluate(x, y)) == pytest.approx(float(reference.evaluate(x, y)), rel=1e-10)
    assert ours.rows_read == 300


def test_the_inspector_sees_the_gradient_the_step_used():
    fused_trainer, *_ = run(plan("momentum", steps=40))
    autograd_trainer, *_ = run(plan("momentum", steps=40, engine="autograd"))
    f, a = fused_trainer.snapshot(), autograd_trainer.snapshot()
    assert_close(f.grad_weights, a.grad_weights)
    assert_close(f.grad_bias, a.grad_bias)
    assert_close(f.state["velocity"][0], a.state["velocity"][0])


def test_the_ledger_checks_the_statistics_loss_against_the_rows():
    from tui_trainer.core import ledger

    trainer = Trainer(plan("adam", steps=12, val_fraction=0))
    trainer.begin()
    trainer.advance()
    before = ledger.capture_before(trainer)
    reported = []
    assert trainer._run_chunk(1, reported)
    entry = ledger.entry(trainer, before, trainer.step - 1, reported[0])
    assert entry.loss_reported == pytest.approx(entry.loss, rel=1e-6)
    for update in entry.updates:
        assert update.gradient == pytest.approx(update.hand_gradient, rel=1e-5, abs=1e-7)


def test_applies_only_to_a_full_batch_of_a_quadratic_objective_on_a_float64_device():
    mse = MeanSquaredError()
    assert sufficient.applies(mse, True, torch.device("cpu"))
    assert not sufficient.applies(mse, False, torch.device("cpu"))
    assert not sufficient.applies(mse, True, torch.device("mps"))


def test_the_graph_steps_take_the_statistics_path_too():
    """The arithmetic a CUDA graph records, run eagerly here: the same run to the bit."""
    config = plan("adam", val_fraction=0, steps=250)
    graphed_trainer, graphed, graphed_losses, _ = run(config, graphs=True)
    _, eager, eager_losses, _ = run(config)
    assert graphed_trainer.graph is not None and isinstance(graphed_trainer.stepper, SufficientStepper)
    assert graphed.weights == eager.weights and graphed_losses == eager_losses


def test_divergence_is_caught_and_the_last_finite_parameters_kept():
    """The float64 mean overflows float32 a step later than autograd's float32 sum of squares, so
    this path may stop a step later; up to autograd's last finite step the two agree."""
    lr5 = {"optimizer": {"algorithm": "bgd", "lr": 5.0, "epochs": 2000}}
    config = RunConfig.model_validate({**plan("bgd", val_fraction=0).model_dump(), **lr5, "max_steps": 2000})
    _, diverged, _, _ = run(config)
    _, autograd, _, _ = run(config.model_copy(update={"engine": Engine.AUTOGRAD}))
    assert diverged.diverged and autograd.diverged
    assert autograd.steps <= diverged.steps <= autograd.steps + 1
    assert all(map(math.isfinite, [*diverged.weights, diverged.bias]))
    _, same_steps, _, _ = run(config.model_copy(update={"max_steps": autograd.steps}))
    assert not same_steps.diverged
    assert same_steps.weights == pytest.approx(autograd.weights, rel=1e-5)


def test_wide_data_is_read_in_blocks_that_stay_small(monkeypatch):
    monkeypatch.setattr(sufficient, "BUFFER_BYTES", 52 * 8 * 10)  # 10 rows of 50 features, 1 and y
    x, y = torch.randn(95, 50, dtype=torch.float64), torch.randn(95, 1, dtype=torch.float64)
    seen = []
    real_empty = torch.empty

    def recorded(*args, **kwargs):
        seen.append(args[0])
        return real_empty(*args, **kwargs)

    monkeypatch.setattr(torch, "empty", recorded)
    stats = sufficient_statistics(x, y)
    assert (52, 10) in seen  # the block buffer: 10 rows at a time
    a = torch.cat([x, torch.ones(95, 1, dtype=torch.float64)], 1)
    assert torch.allclose(stats.gram, a.t() @ a / 95, rtol=1e-12, atol=1e-15)
