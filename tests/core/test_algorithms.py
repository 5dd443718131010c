"""Both implementations of every rule agree, and every preset converges on the default data."""

import pytest
import torch

from tui_trainer.core.config import PRESETS, Algorithm, Implementation, RunConfig
from tui_trainer.core.events import RunState, StepLosses
from tui_trainer.core.trainer import Trainer

from .helpers import config

ALGORITHMS = list(Algorithm)


def run(cfg, **kwargs):
    events = []
    trainer = Trainer(cfg, sink=events.append, **kwargs)
    return trainer, trainer.run(), events


def losses(events):
    return [loss for event in events if isinstance(event, StepLosses) for loss in event.losses]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_torch_and_scratch_reach_the_same_parameters(algorithm, weight_decay):
    settings = {"batch_size": 16, "epochs": 50, "weight_decay": weight_decay}
    results = {}
    for implementation in Implementation:
        cfg = config(algorithm, implementation=implementation, **settings).model_copy(update={"max_steps": 300})
        trainer, summary, events = run(cfg)
        assert summary.steps == 300
        results[implementation] = (trainer, summary, losses(events))
    (t_torch, s_torch, l_torch), (t_scratch, s_scratch, l_scratch) = results.values()
    assert s_torch.weights == pytest.approx(s_scratch.weights, rel=1e-5, abs=1e-5)
    assert s_torch.bias == pytest.approx(s_scratch.bias, rel=1e-5, abs=1e-5)
    assert l_torch == pytest.approx(l_scratch, rel=1e-4, abs=1e-6)
    # the optimizer's own state agrees too, under the same names
    state_torch, state_scratch = t_torch.stepper.state(), t_scratch.stepper.state()
    assert state_torch.keys() == state_scratch.keys()
    for name in state_torch:
        for a, b in zip(state_torch[name], state_scratch[name], strict=True):
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), name


# the seed's seven keep the state names the app and the JSON have always shown; a new rule
# declares its own (and torch.optim must produce every one of them)
EXPECTED_STATE = {name: set(spec.rule.state_names) for name, spec in PRESETS.items()} | {
    Algorithm.BGD: set(),
    Algorithm.SGD: set(),
    Algorithm.MBGD: set(),
    Algorithm.MOMENTUM: {"velocity"},
    Algorithm.ADAGRAD: {"sum_sq"},
    Algorithm.RMSPROP: {"mean_sq"},
    Algorithm.ADAM: {"m", "v"},
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("implementation", list(Implementation))
def test_each_preset_converges_near_the_optimal_loss_on_the_default_data(algorithm, implementation):
    cfg = RunConfig.model_validate({"optimizer": {"algorithm": algorithm, "implementation": implementation}})
    trainer, summary, _ = run(cfg)
    assert summary.state is RunState.DONE
    assert summary.final_loss <= summary.optimal_loss * 1.01
    assert summary.weights == pytest.approx(summary.optimal_weights, abs=0.05)
    assert summary.bias == pytest.approx(summary.optimal_bias, abs=0.05)
    assert set(trainer.snapshot().state) == EXPECTED_STATE[algorithm]


def test_scratch_zeroes_gradients_between_steps():
    """If gradients accumulated, the second step's .grad would be the sum of two gradients."""
    cfg = config("bgd", implementation="scratch").model_copy(update={"max_steps": 2, "init": "zeros"})
    trainer = Trainer(cfg)
    trainer.run()
    w, b = trainer.model.weight.detach(), trainer.model.bias.detach()
    # .grad holds the gradient at the parameters before the last step: recompute it from those
    lr = cfg.optimizer.lr
    w_before = w + lr * trainer.model.weight.grad
    b_before = b + lr * trainer.model.bias.grad
    residual = trainer.x @ w_before.T + b_before - trainer.y
    expected = 2 * (residual * trainer.x).mean(dim=0)
    assert torch.allclose(trainer.model.weight.grad.reshape(-1), expected, rtol=1e-4, atol=1e-6)
