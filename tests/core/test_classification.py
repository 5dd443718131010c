"""Cross-entropy: every rule, implementation and engine trains a classifier as torch itself does."""

import numpy as np
import pytest
import torch
from torch import nn

from tui_trainer.core.config import Algorithm, DataConfig, RunConfig
from tui_trainer.core.data import load_dataset
from tui_trainer.core.errors import DataError
from tui_trainer.core.events import EpochsEnded, ParameterPath, StepLosses
from tui_trainer.core.race import Race
from tui_trainer.core.race_events import ALL_RIGHT_GOAL, parse_entries
from tui_trainer.core.trainer import Trainer

STEPS = 60


def classifier(algorithm="adam", engine="autograd", implementation="torch", batch_size=16, weight_decay=0.0, **data):
    data = {"samples": 240, "dims": 3, "classes": 3, **data}
    optimizer = {"algorithm": algorithm, "batch_size": batch_size, "epochs": 100, "weight_decay": weight_decay}
    if engine == "autograd":
        optimizer["implementation"] = implementation
    return RunConfig.model_validate(
        {"loss": "cross-entropy", "engine": engine, "max_steps": STEPS, "optimizer": optimizer, "data": data}
    )


def bare_optimizer(cfg: RunConfig, params):
    """torch.optim as a person would call it for each algorithm: independent of our rule modules."""
    o, name = cfg.optimizer, cfg.optimizer.algorithm.value
    common = {"lr": o.lr, "weight_decay": o.weight_decay}
    match name:
        case "bgd" | "sgd" | "mbgd":
            return torch.optim.SGD(params, **common)
        case "momentum" | "nesterov":
            return torch.optim.SGD(params, momentum=o.momentum, nesterov=name == "nesterov", **common)
        case "adagrad":
            return torch.optim.Adagrad(params, eps=o.eps, **common)
        case "rmsprop":
            return torch.optim.RMSprop(params, alpha=o.alpha, eps=o.eps, **common)
        case "adam":
            return torch.optim.Adam(params, betas=(o.beta1, o.beta2), eps=o.eps, **common)
        case "adamw":
            return torch.optim.AdamW(params, betas=(o.beta1, o.beta2), eps=o.eps, **common)
    raise AssertionError(f"no bare optimizer for {name}: add it here")


def bare_run(cfg: RunConfig, trainer: Trainer):
    """nn.Linear + nn.CrossEntropyLoss + torch.optim on the trainer's own batches, from its start."""
    model = nn.Linear(trainer.dataset.dims, trainer.dataset.outputs)
    with torch.no_grad():
        model.weight.copy_(trainer.initial_weight)
        model.bias.copy_(trainer.initial_bias)
    optimizer = bare_optimizer(cfg, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for step in range(STEPS):
        x, y = trainer.batches.batch(step)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def run(cfg):
    events = []
    trainer = Trainer(cfg, sink=events.append)
    trainer.initial_weight = trainer.model.weight.detach().clone()
    trainer.initial_bias = trainer.model.bias.detach().clone()
    summary = trainer.run()
    return trainer, summary, events


def step_losses(events):
    return [loss for event in events if isinstance(event, StepLosses) for loss in event.losses]


@pytest.mark.parametrize("algorithm", list(Algorithm))
@pytest.mark.parametrize(("engine", "implementation"), [("autograd", "torch"), ("autograd", "scratch"), ("fused", None)])
def test_every_rule_and_engine_follows_torch_step_for_step(algorithm, engine, implementation):
    cfg = classifier(algorithm.value, engine, implementation or "torch", weight_decay=0.01)
    trainer, summary, events = run(cfg)
    model, losses = bare_run(cfg, trainer)
    assert summary.steps == STEPS
    assert step_losses(events) == pytest.approx(losses, rel=1e-5, abs=1e-6)
    assert np.array(summary.weights) == pytest.approx(model.weight.detach().numpy(), rel=1e-5, abs=1e-6)
    assert summary.bias == pytest.approx(model.bias.detach().tolist(), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("algorithm", list(Algorithm))
@pytest.mark.parametrize("batch_size", ["full", 7])
def test_fused_follows_autograd_within_1e6(algorithm, batch_size):
    results = [run(classifier(algorithm.value, engine, batch_size=batch_size)) for engine in ("autograd", "fused")]
    (_, auto, auto_events), (_, fused, fused_events) = results
    assert step_losses(fused_events) == pytest.approx(step_losses(auto_events), rel=1e-6, abs=1e-7)
    # θ as a whole within 1e-6 relative (one entry near 0 may differ more, relative to itself)
    theta = [np.concatenate([np.ravel(s.weights), np.ravel(s.bias)]) for s in (fused, auto)]
    assert np.linalg.norm(theta[0] - theta[1]) <= 1e-6 * np.linalg.norm(theta[1])


def test_the_scratch_loss_is_written_out_and_equals_cross_entropy():
    from tui_trainer.core.objective import hand_cross_entropy

    logits = torch.randn(50, 4, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 4, (50,))
    mine = hand_cross_entropy(logits, target)
    (mine_grad,) = torch.autograd.grad(mine, logits)
    theirs = nn.functional.cross_entropy(logits, target)
    (their_grad,) = torch.autograd.grad(theirs, logits)
    assert mine.item() == pytest.approx(theirs.item(), rel=1e-12)
    assert torch.allclose(mine_grad, their_grad, rtol=1e-10, atol=1e-14)
    # the closed form the fused engine uses: (softmax − onehot)/n
    onehot = nn.functional.one_hot(target, 4).double()
    assert torch.allclose(their_grad, (logits.softmax(1) - onehot) / 50, rtol=1e-10, atol=1e-14)
    # big logits do not overflow the hand-written softmax
    huge = torch.tensor([[1000.0, 0.0, -1000.0]])
    assert torch.isfinite(hand_cross_entropy(huge, torch.tensor([1])))


def test_accuracy_in_the_summary_and_on_each_epochs_last_step():
    cfg = classifier("adam", batch_size=32).model_copy(update={"max_steps": None})
    trainer, summary, events = run(cfg)
    ended = [event for event in events if isinstance(event, EpochsEnded)]
    assert all(event.accuracies is not None and len(event.accuracies) == len(event.steps) for event in ended)
    assert all(event.val_accuracies is not None for event in ended)
    # the summary's accuracy is the model's own: recomputed here from its logits
    x, y = torch.from_numpy(trainer.dataset.x_train), torch.from_numpy(trainer.dataset.y_train)
    with torch.no_grad():
        right = (trainer.model(x).argmax(1) == y).double().mean().item()
    assert summary.accuracy == pytest.approx(right)
    assert summary.accuracy > 0.8 and summary.val_accuracy > 0.8  # overlapping clusters: not all can be right
    assert summary.classes == ["0", "1", "2"] and summary.loss == "cross-entropy"
    assert len(summary.weights) == 3 and all(len(row) == 3 for row in summary.weights) and len(summary.bias) == 3


@pytest.mark.parametrize("engine", ["autograd", "fused"])
def test_each_steps_right_rows_are_its_own_however_they_are_counted(engine, monkeypatch):
    """Small batches are counted later, all together; big ones at once; a long wait is cut short.
    Either way each step's count is the one its own logits (before its update) give."""
    from tui_trainer.core import stepper as stepper_module
    from tui_trainer.core.algorithms import build_stepper
    from tui_trainer.core.objective import objective_for
    from tui_trainer.names import Engine

    monkeypatch.setattr(stepper_module, "PENDING_LOGITS_LIMIT", 200)  # a flush inside the sequence below
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    config = classifier("adam", engine=engine).optimizer
    stepper = build_stepper(model, config, Engine(engine), objective=objective_for("cross-entropy"))
    generator = torch.Generator().manual_seed(1)
    sizes = [32, 32, 7, 32, stepper_module.DEFERRED_COUNT_ROWS + 5, 32, 1, 1, 32]
    expected = []
    for size in sizes:
        x, y = torch.randn(size, 4, generator=generator), torch.randint(0, 3, (size,), generator=generator)
        with torch.no_grad():
            expected.append(int((model(x).argmax(1) == y).sum()))
        stepper.step(*stepper.prepare(x, y))
    assert stepper.take_correct().tolist() == expected
    assert stepper.take_correct().tolist() == []  # taken once


def test_full_batch_epochs_carry_each_steps_accuracy():
    cfg = classifier("bgd", batch_size="full").model_copy(update={"max_steps": 20})
    _, _, events = run(cfg)
    accuracies = [a for event in events if isinstance(event, EpochsEnded) for a in event.accuracies]
    assert len(accuracies) == 20
    assert all(0 <= a <= 1 for a in accuracies)


def test_a_default_run_gets_near_the_numerical_optimum():
    cfg = RunConfig.model_validate({"loss": "cross-entropy", "optimizer": {"algorithm": "adam"}})  # 200 epochs
    summary = Trainer(cfg).run()
    assert not summary.separable and summary.optimal_weights is not None
    assert summary.final_loss <= summary.optimal_loss * 1.01


def test_separable_classes_say_so_and_the_race_counts_every_row_right():
    cfg = classifier("adam", separation=20.0).model_copy(update={"max_steps": None})
    summary = Trainer(cfg).run()
    assert summary.separable is True
    assert summary.optimal_loss == 0 and summary.optimal_weights is None and summary.optimal_bias is None
    assert summary.hessian_eigenvalues is None and summary.max_stable_lr is None
    events = []
    race = Race(cfg, parse_entries("bgd,adam"), sink=events.append)
    result = race.run()
    assert result.goal == ALL_RIGHT_GOAL
    paths = [e.event for e in events if isinstance(getattr(e, "event", None), ParameterPath)]
    for entry in result.entries:
        assert entry.steps_to_optimal is not None
    first = result.entries[0].steps_to_optimal
    bgd_paths = [e.event for e in events if getattr(e, "entry", None) == 0 and isinstance(e.event, ParameterPath)]
    accuracy = {step: a for path in bgd_paths for step, a in zip(path.steps, path.accuracies, strict=True)}
    assert accuracy[first] == 1.0 and all(accuracy[s] < 1.0 for s in accuracy if s < first)
    assert paths


# --- data -------------------------------------------------------------------------------------


def write(tmp_path, text, name="classes.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_text_labels_are_classes_in_alphabetical_order(tmp_path):
    rows = "\n".join(f"{i},{i % 3},{['cat', 'dog', 'bird'][i % 3]}" for i in range(30))
    data = load_dataset(DataConfig(source=write(tmp_path, "a,b,kind\n" + rows), val_fraction=0.2), classify=True)
    assert data.classes == ("bird", "cat", "dog")
    labels = {0: "cat", 1: "dog", 2: "bird"}
    means, stds = np.array(data.feature_means), np.array(data.feature_stds)
    for row, cls in zip(data.x_train * stds + means, data.y_train, strict=True):
        assert data.classes[cls] == labels[round(row[1])]


def test_numeric_labels_in_numeric_order(tmp_path):
    rows = "\n".join(f"{i},{[2, 10, 7][i % 3]}" for i in range(30))
    data = load_dataset(DataConfig(source=write(tmp_path, "a,y\n" + rows), val_fraction=0), classify=True)
    assert data.classes == ("2", "7", "10")
    assert data.y_train.dtype == np.int64 and data.y_train.shape == (30,)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a,y\n1,x\n2,x\n3,x\n", "holds one class ('x'); classification needs at least 2"),
        ("a,y\n1,x\n2,\n3,z\n", "row 2, column 'y' (the class) is empty"),
        ("a,y\n" + "\n".join(f"{i},{i * 0.37}" for i in range(150)), "150 distinct values, which looks continuous"),
    ],
)
def test_bad_class_columns_get_one_clear_line(tmp_path, text, words):
    with pytest.raises(DataError, match=None) as caught:
        load_dataset(DataConfig(source=write(tmp_path, text), val_fraction=0), classify=True)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_class_only_in_the_validation_rows_is_refused(tmp_path):
    rows = [f"{i},a" for i in range(20)] + [f"{i},b" for i in range(20)] + ["99,rare"]
    path = write(tmp_path, "x,y\n" + "\n".join(rows))
    for seed in range(50):  # find a split that puts the one 'rare' row in validation
        config = DataConfig(source=path, val_fraction=0.3, seed=seed)
        try:
            load_dataset(config, classify=True)
        except DataError as error:
            assert "class 'rare'" in str(error) and "only in the validation rows" in str(error)
            return
    raise AssertionError("no seed put the rare row in the validation rows")


def test_synthetic_clusters_are_balanced_and_seeded():
    config = DataConfig(samples=300, dims=2, classes=4, val_fraction=0)
    first, again = load_dataset(config, classify=True), load_dataset(config, classify=True)
    assert np.array_equal(first.x_train, again.x_train) and np.array_equal(first.y_train, again.y_train)
    assert np.bincount(first.y_train).tolist() == [75, 75, 75, 75]
    assert first.classes == ("0", "1", "2", "3")
