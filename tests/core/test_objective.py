"""The loss seam: every engine gets its loss and its closed-form output gradient from the objective,
so an objective plugged in is trained the same way by autograd, by hand and by the fused engine."""

import pytest
import torch
from torch import nn
from torch.nn import functional

from tui_trainer.core.algorithms import build_stepper
from tui_trainer.core.config import PRESETS, OptimizerConfig
from tui_trainer.core.objective import MeanSquaredError, Objective, objective_for
from tui_trainer.names import Engine, Loss


class HalfSquaredError(Objective):
    """½·MSE: an objective this project does not ship, with no closed form declared."""

    name = Loss.MSE  # any name: only the parts below are used
    formula = "½·mean((ŷ − y)²)"
    output_gradient_formula = "(ŷ − y)/n"

    def torch_loss(self):
        return lambda prediction, target, reduction="mean": 0.5 * functional.mse_loss(prediction, target, reduction=reduction)

    def fused_loss(self):
        def half_squared_error(output, target, rows):
            residual = output.sub_(target)
            loss = 0.5 * residual.view(-1).dot(residual.view(-1))
            if rows is None:
                return loss, residual, 1.0
            return loss / rows, residual, 1.0 / rows  # the 1/n left to the fused engine's products

        return half_squared_error

    def output_gradient(self, prediction, target):
        return (prediction - target) / len(target)

    def batch_loss(self, prediction, target):
        return float(0.5 * ((prediction - target) ** 2).mean())


def batch(rows=64, dims=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, dims, generator=generator)
    y = x @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * torch.randn(rows, 1, generator=generator)
    return x, y


def steps_with(objective, algorithm, engine, implementation="torch", count=25):
    torch.manual_seed(1)
    model = nn.Linear(3, 1)
    config = OptimizerConfig(algorithm=algorithm, implementation=implementation, weight_decay=0.01)
    stepper = build_stepper(model, config, Engine(engine), objective=objective)
    x, y = stepper.prepare(*batch())
    losses = [float(stepper.step(x, y)) for _ in range(count)]
    return losses, stepper.flat_parameters().tolist()


@pytest.mark.parametrize("algorithm", list(PRESETS))
def test_a_plugged_in_objective_is_trained_alike_by_every_engine(algorithm):
    autograd = steps_with(HalfSquaredError(), algorithm, "autograd")
    scratch = steps_with(HalfSquaredError(), algorithm, "autograd", implementation="scratch")
    fused = steps_with(HalfSquaredError(), algorithm, "fused")
    for other in (scratch, fused):
        assert other[0] == pytest.approx(autograd[0], rel=1e-5, abs=1e-7)
        assert other[1] == pytest.approx(autograd[1], rel=1e-5, abs=1e-7)
    # and it is really that objective: half the MSE at the same first point
    mse = steps_with(MeanSquaredError(), algorithm, "autograd", count=1)
    assert autograd[0][0] == pytest.approx(mse[0][0] / 2, rel=1e-6)


def test_the_fused_output_gradient_is_what_autograd_computes():
    objective = objective_for(Loss.MSE)
    prediction = torch.randn(10, 1, requires_grad=True)
    target = torch.randn(10, 1)
    objective.torch_loss()(prediction, target).backward()
    _, output, scale = objective.fused_loss()(prediction.detach().clone(), target, 10)
    assert scale == 1.0 and torch.equal(output, prediction.grad)  # bit for bit: the fused engine relies on it
    assert torch.allclose(objective.output_gradient(prediction.detach(), target), prediction.grad)


def test_closed_forms_are_asked_for_not_assumed():
    x, y = (t.numpy() for t in batch())
    mse = objective_for("mse")
    assert mse.has_closed_form
    optimum = mse.optimum(x, y)
    assert optimum.weights == pytest.approx([1.5, -2.0, 0.5], abs=0.05)
    assert mse.curvature(x, y).largest == pytest.approx(mse.curvature(x, y, optimum).largest)
    other = HalfSquaredError()
    assert not other.has_closed_form
    assert other.optimum(x, y) is None and other.curvature(x, y) is None

