"""The loop: events, control, determinism, divergence."""

import itertools
import json
import math
import threading

import pytest
import torch

from tui_trainer.core.batches import Batches, epoch_permutation
from tui_trainer.core.config import RunConfig
from tui_trainer.core.control import RunControl
from tui_trainer.core.events import (
    EpochsEnded,
    ParameterPath,
    RunFinished,
    RunStarted,
    RunState,
    Snapshot,
    StateChanged,
    StepLosses,
)
from tui_trainer.core.run_facts import RunFacts
from tui_trainer.core.trainer import MAX_CHUNK, Trainer, next_chunk_size

from .helpers import all_finite, config


def run(cfg, **kwargs):
    events = []
    trainer = Trainer(cfg, sink=events.append, **kwargs)
    return trainer, trainer.run(), events


def of(events, kind):
    return [event for event in events if isinstance(event, kind)]


def epoch_ends(events):
    """(epoch, step, train loss, validation loss) of every epoch that ended."""
    return [
        (epoch, step, train, None if e.val_losses is None else e.val_losses[i])
        for e in of(events, EpochsEnded)
        for i, (epoch, step, train) in enumerate(zip(e.epochs, e.steps, e.train_losses, strict=True))
    ]


def step_losses(events):
    return [(e.first_step + i, loss) for e in of(events, StepLosses) for i, loss in enumerate(e.losses)]


def test_events_tell_the_whole_run_in_order():
    cfg = config("mbgd", batch_size=64, epochs=4)  # 320 training rows: 5 steps an epoch
    _, summary, events = run(cfg)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    started = events[0]
    assert (started.steps_per_epoch, started.total_steps, started.n_train, started.n_val) == (5, 20, 320, 80)
    assert started.initial.step == 0 and started.initial.grad_weights is None
    assert [e.state for e in of(events, StateChanged)] == [RunState.RUNNING, RunState.DONE]
    assert [s for s, _ in step_losses(events)] == list(range(1, 21))
    epochs = epoch_ends(events)
    assert [(epoch, step) for epoch, step, _, _ in epochs] == [(1, 5), (2, 10), (3, 15), (4, 20)]
    assert all(val is not None and val > 0 for _, _, _, val in epochs)
    for event in of(events, StepLosses):  # `epoch` is the epoch of the last step reported
        last = event.first_step + len(event.losses) - 1
        assert event.epoch == (last - 1) // 5 + 1
    assert summary.steps == 20 and summary.epochs == 4 and summary.state is RunState.DONE
    assert events[-1].summary == summary


def test_epoch_train_loss_is_the_batch_weighted_mean_of_its_batch_losses():
    cfg = config("mbgd", batch_size=150, epochs=2)  # 320 rows: batches of 150, 150, 20
    _, _, events = run(cfg)
    losses = dict(step_losses(events))
    (_, _, first, _), (_, _, second, _) = epoch_ends(events)
    assert first == pytest.approx((150 * losses[1] + 150 * losses[2] + 20 * losses[3]) / 320, rel=1e-9)
    assert second == pytest.approx((150 * losses[4] + 150 * losses[5] + 20 * losses[6]) / 320, rel=1e-9)


def test_epoch_means_carry_over_chunk_boundaries():
    """Tiny chunks split every epoch across several reports; the means must not change."""
    cfg = config("mbgd", batch_size=150, epochs=3)
    _, _, whole = run(cfg)
    _, _, split = run(cfg, chunk_seconds=1e-9)
    assert len(of(split, StepLosses)) > len(of(whole, StepLosses))
    assert epoch_ends(split) == epoch_ends(whole)


def test_full_batch_reports_every_epoch_in_one_event_per_chunk():
    _, _, events = run(config("bgd", epochs=200))
    ends = epoch_ends(events)
    assert [step for _, step, _, _ in ends] == list(range(1, 201))
    losses = dict(step_losses(events))
    assert all(train == losses[step] for _, step, train, _ in ends)
    assert len(of(events, EpochsEnded)) < 200


def test_no_validation_split_means_no_validation_loss():
    cfg = config("bgd", data={"samples": 100, "val_fraction": 0}, epochs=3)
    _, summary, events = run(cfg)
    assert all(e.val_losses is None for e in of(events, EpochsEnded)) and summary.val_loss is None


def test_the_first_and_last_events_tell_the_same_facts_about_the_run():
    """RunStarted and RunSummary share ten fields, mapped from the run in one place (run_facts)."""
    cfg = config("momentum", epochs=2, implementation="scratch", data={"samples": 400, "dims": 3, "standardize": True})
    trainer, summary, events = run(cfg)
    started = events[0]
    shared = RunFacts.__annotations__
    assert len(shared) == 13 and all(hasattr(started, name) and hasattr(summary, name) for name in shared)
    assert {name: getattr(started, name) for name in shared} == {name: getattr(summary, name) for name in shared}
    data, optimum = trainer.dataset, trainer.optimum
    assert (started.algorithm, started.implementation) == ("momentum", "scratch")
    assert started.feature_names == list(data.feature_names) == ["x1", "x2", "x3"]
    assert (started.optimal_weights, started.optimal_bias, started.optimal_loss) == (list(optimum.weights), optimum.bias, optimum.loss)
    assert (started.true_weights, started.true_bias) == (list(data.true_weights), data.true_bias)
    assert started.feature_means == list(data.feature_means) and started.feature_stds == list(data.feature_stds)
    assert started.optimal_weights is not summary.optimal_weights  # each event has its own lists


def test_final_loss_is_the_whole_training_set_loss_and_near_optimal():
    trainer, summary, _ = run(config("bgd", epochs=200))
    direct = ((trainer.x @ trainer.model.weight.detach().T + trainer.model.bias.detach() - trainer.y) ** 2).mean()
    assert summary.final_loss == pytest.approx(direct.item(), rel=1e-6)
    assert summary.final_loss == pytest.approx(summary.optimal_loss, rel=1e-4)


@pytest.mark.parametrize("algorithm", ["sgd", "adam"])
def test_same_seed_same_result_bit_for_bit_whatever_the_chunking(algorithm):
    cfg = config(algorithm, epochs=2)
    _, first, events_a = run(cfg)
    _, second, events_b = run(cfg, chunk_seconds=0.0001)  # very different chunk boundaries
    assert step_losses(events_a) == step_losses(events_b)
    assert (first.weights, first.bias) == (second.weights, second.bias)
    _, other, _ = run(cfg.model_copy(update={"seed": 1}))
    assert other.weights != first.weights


def test_chunks_grow_and_shrink_towards_the_time_they_should_take():
    assert next_chunk_size(64, 64, 0.01, 0.05) == 128  # fast: twice the steps
    assert next_chunk_size(64, 64, 0.2, 0.05) == 32  # slow: half
    assert next_chunk_size(64, 64, 0.05, 0.05) == 64
    assert next_chunk_size(64, 1, 0.0001, 0.05) == 64  # a single step tells nothing about timing
    assert next_chunk_size(MAX_CHUNK, MAX_CHUNK, 0.0, 0.05) == MAX_CHUNK and next_chunk_size(1, 1, 9.0, 0.05) == 1


def test_max_steps_ends_the_run_early():
    _, summary, _ = run(config("sgd", epochs=10).model_copy(update={"max_steps": 37}))
    assert summary.steps == 37 and summary.epochs == 0 and summary.state is RunState.DONE


def batches(rows, batch_size, seed=7):
    x = torch.arange(rows, dtype=torch.float32).reshape(-1, 1)
    return Batches(x, x.clone(), batch_size, seed)


@pytest.mark.parametrize("copy_rows", [True, False])
def test_batches_visit_every_row_once_an_epoch_and_are_seeded(copy_rows):
    order = batches(10, 4)
    order.copy_rows = copy_rows  # a permuted copy of the rows, or a gather per batch: same rows
    assert order.steps_per_epoch == 3 and [order.batch_rows(s) for s in range(3)] == [4, 4, 2]
    epoch0 = torch.cat([order.batch(s)[0] for s in range(3)]).reshape(-1)
    epoch1 = torch.cat([order.batch(s)[0] for s in range(3, 6)]).reshape(-1)
    assert sorted(epoch0.tolist()) == list(range(10)) == sorted(epoch1.tolist())
    assert epoch0.tolist() != epoch1.tolist()
    assert epoch0.tolist() == epoch_permutation(10, 7, 0).tolist()  # row i holds i: the batches follow the order
    again = batches(10, 4)
    assert torch.equal(torch.cat([again.batch(s)[0] for s in range(3)]).reshape(-1), epoch0)
    full = batches(10, "full")
    assert full.epoch(5)[0] is None and full.steps_per_epoch == 1 and full.batch(5)[0].shape == (10, 1)
    assert batches(10, 50).full


def test_big_data_is_gathered_per_batch_instead_of_copied(monkeypatch):
    import tui_trainer.core.batches as module

    monkeypatch.setattr(module, "PERMUTED_COPY_LIMIT", 16)
    assert not batches(10, 4).copy_rows and batches(1, 4).copy_rows


def test_snapshot_reports_parameters_gradients_state_and_autograd_facts():
    trainer, _, _ = run(config("adam", epochs=1))
    snapshot = trainer.snapshot()
    assert snapshot.weights == trainer.model.weight.detach().reshape(-1).tolist()
    assert snapshot.grad_weights == trainer.model.weight.grad.reshape(-1).tolist()
    assert set(snapshot.state) == {"m", "v"} and len(snapshot.state["m"][0]) == 3
    assert snapshot.grad_fn == "MseLossBackward0"
    assert snapshot.requires_grad == {"weight": True, "bias": True, "x": False, "y": False}


# --- control -----------------------------------------------------------------------------


class Recorder:
    """Collects events from the trainer's thread and lets the test wait for one."""

    def __init__(self):
        self.events = []
        self.arrived = threading.Condition()

    def __call__(self, event):
        with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()

    def wait_for(self, predicate, timeout=10):
        with self.arrived:
            assert self.arrived.wait_for(lambda: any(predicate(e) for e in self.events), timeout), "event never came"


def paused(event):
    return isinstance(event, StateChanged) and event.state is RunState.PAUSED


def start(cfg, control, recorder):
    trainer = Trainer(cfg, sink=recorder, control=control)
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    return trainer, thread


def test_pause_single_step_live_lr_and_resume():
    control, recorder = RunControl(paused=True), Recorder()
    trainer, thread = start(config("bgd", epochs=50), control, recorder)
    recorder.wait_for(paused)
    assert trainer.step == 0
    before = trainer.snapshot()
    control.set_lr(0.05)
    control.step()
    recorder.wait_for(lambda e: isinstance(e, Snapshot) and e.step == 1)
    assert trainer.step == 1
    stepped = of(recorder.events, StepLosses)
    assert [(e.first_step, e.lrs) for e in stepped] == [(1, [0.05])]
    after = trainer.snapshot()  # plain GD: w1 = w0 - lr * grad
    expected = [w - 0.05 * g for w, g in zip(before.weights, after.grad_weights, strict=True)]
    assert after.weights == pytest.approx(expected, rel=1e-6)
    control.step(3)
    recorder.wait_for(lambda e: isinstance(e, Snapshot) and e.step == 4)
    control.resume()
    thread.join(10)
    assert trainer.state is RunState.DONE and trainer.step == 50
    states = [e.state for e in of(recorder.events, StateChanged)]
    assert states == [RunState.PAUSED, RunState.RUNNING, RunState.DONE]


def test_pause_while_running_then_stop():
    control, recorder = RunControl(), Recorder()
    trainer, thread = start(config("sgd", epochs=1000), control, recorder)
    recorder.wait_for(lambda e: isinstance(e, StepLosses) and e.first_step > 100)
    control.pause()
    recorder.wait_for(paused)
    held = trainer.step
    assert not thread.join(0.2) and trainer.step == held  # nothing moves while paused
    control.stop()
    thread.join(10)
    summary = of(recorder.events, RunFinished)[0].summary
    assert summary.state is RunState.STOPPED and summary.interrupted and summary.steps == held


def test_live_lr_change_while_running_takes_effect():
    control, recorder = RunControl(), Recorder()
    trainer, thread = start(config("sgd", epochs=1000), control, recorder)
    recorder.wait_for(lambda e: isinstance(e, StepLosses))
    control.set_lr(0.001)
    recorder.wait_for(lambda e: isinstance(e, StepLosses) and e.lrs[-1] == 0.001)
    control.stop()
    thread.join(10)
    assert trainer.stepper.lr == 0.001 and trainer.summary().lr == 0.001


def test_control_refuses_a_bad_learning_rate():
    control = RunControl()
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError, match="learning rate"):
            control.set_lr(bad)


# --- divergence ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm, lr", [("bgd", 5.0), ("sgd", 3.0), ("momentum", 2.0)])
def test_divergence_stops_with_the_last_finite_parameters(algorithm, lr):
    # no validation split, so only the training loss and the parameters can break
    cfg = config(algorithm, lr=lr, epochs=500, data={"samples": 400, "dims": 3, "noise": 0.3, "val_fraction": 0})
    trainer, summary, events = run(cfg)
    assert summary.state is RunState.DIVERGED and summary.diverged and not summary.interrupted
    assert 0 < summary.steps < trainer.total_steps
    assert "stopped being finite" in summary.message
    assert all_finite(events)
    assert all(math.isfinite(w) for w in summary.weights) and math.isfinite(summary.bias)
    # the kept parameters are exactly those of a run stopped at that step
    _, exact, _ = run(cfg.model_copy(update={"max_steps": summary.steps}))
    assert (exact.weights, exact.bias) == (summary.weights, summary.bias)
    # and the step after them is the one that breaks
    loss = trainer.stepper.step(*trainer.batches.batch(summary.steps))
    params = torch.cat([trainer.model.weight.detach().reshape(-1), trainer.model.bias.detach()])
    assert not (torch.isfinite(loss) and torch.isfinite(params).all())
    assert [s.state for s in of(events, StateChanged)][-1] is RunState.DIVERGED


def test_a_validation_loss_that_overflows_also_counts_as_divergence():
    _, summary, events = run(config("bgd", lr=5.0, epochs=500))
    assert summary.state is RunState.DIVERGED and "validation loss stopped being finite" in summary.message
    assert all_finite(events)
    json.dumps(summary.to_dict(), allow_nan=False)  # raises on NaN or Infinity


# --- the parameter path --------------------------------------------------------------------


def path_points(events):
    return [(step, point, loss) for e in of(events, ParameterPath) for step, point, loss in zip(e.steps, e.points, e.losses, strict=True)]


def test_every_step_path_is_the_parameters_after_each_step_and_their_whole_set_loss():
    cfg = config("mbgd", epochs=3)
    trainer = Trainer(cfg, path="every")
    events = []
    trainer.sink = events.append
    summary = trainer.run()
    points = path_points(events)
    assert [step for step, _, _ in points] == list(range(1, summary.steps + 1))
    _, point, loss = points[-1]
    assert point == [*summary.weights, summary.bias] and loss == pytest.approx(summary.final_loss, rel=1e-6)
    middle = Trainer(cfg.model_copy(update={"max_steps": 17})).run()
    assert points[16][1] == [*middle.weights, middle.bias]
    assert points[16][2] == pytest.approx(middle.final_loss, rel=1e-6)
    untracked = Trainer(cfg).run()
    assert (untracked.weights, untracked.bias) == (summary.weights, summary.bias)  # watching changes nothing


def test_a_thinning_path_keeps_every_step_at_first_then_fewer():
    _, _, events = run(config("sgd", epochs=8), path="thinning")
    steps = [step for step, _, _ in path_points(events)]
    assert steps[:1024] == list(range(1, 1025))
    assert steps[1024:1028] == [1026, 1028, 1030, 1032]
    assert steps[-1] == 2560 and all(b > a for a, b in itertools.pairwise(steps))
    assert len(steps) < 2560


@pytest.mark.parametrize("implementation, engine", [("torch", "autograd"), ("scratch", "autograd"), ("torch", "fused")])
def test_a_divergence_found_inside_one_big_chunk_replays_with_the_rates_it_ran_with(implementation, engine):
    """The schedule moves the lr inside the chunk; the replay must start from the chunk's own
    rate, or it retraces a different (here: finite) run."""
    optimizer = {"algorithm": "mbgd", "lr": 3.0, "batch_size": 1, "epochs": 30, "schedule": "exponential", "gamma": 0.01}
    if engine == "autograd":
        optimizer["implementation"] = implementation
    cfg = RunConfig.model_validate({"optimizer": optimizer, "engine": engine, "data": {"samples": 100, "val_fraction": 0}})

    def run_with(chunk: int):
        trainer = Trainer(cfg, chunk_seconds=1e9)
        trainer.begin()
        trainer._chunk = chunk  # the whole run in one chunk, or one step a chunk
        while trainer.advance():
            trainer._chunk = chunk
        return trainer.finish()

    whole, stepwise = run_with(10_000), run_with(1)
    assert whole.state is stepwise.state is RunState.DIVERGED
    assert (whole.steps, whole.weights, whole.bias, whole.lr) == (stepwise.steps, stepwise.weights, stepwise.bias, stepwise.lr)
    assert "(lr 3)" in whole.message


def test_an_optimizer_state_that_overflows_is_a_divergence():
    """AdaGrad's Σg² can overflow while the loss and the parameters are still finite."""
    cfg = RunConfig.model_validate({"optimizer": {"algorithm": "adagrad", "batch_size": "full", "epochs": 200},
                                    "data": {"samples": 100, "true_bias": 1e18, "val_fraction": 0}})
    events = []
    summary = Trainer(cfg, sink=events.append).run()
    assert summary.state is RunState.DIVERGED and "optimizer's state stopped being finite" in summary.message
    assert all_finite(events)
