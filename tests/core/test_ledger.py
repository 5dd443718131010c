"""The step ledger: hand gradients equal autograd's, and each rule written out reproduces the
parameters the optimizer produced."""

import math

import pytest

from tui_trainer.core.config import PRESETS, Algorithm, RunConfig
from tui_trainer.core.events import LedgerEntry, StepLosses
from tui_trainer.core.trainer import Trainer


def ledger_of(settings: dict, **trainer_options) -> list[LedgerEntry]:
    events = []
    trainer = Trainer(RunConfig.model_validate(settings), sink=events.append, **trainer_options)
    trainer.control.ledger = True
    trainer.run()
    return [e for e in events if isinstance(e, LedgerEntry)]


def settings(algorithm, implementation="torch", engine="autograd", batch_size=16, **extra):
    optimizer = {"algorithm": algorithm, "batch_size": batch_size, "epochs": 4, **extra.pop("optimizer", {})}
    if engine == "autograd":
        optimizer["implementation"] = implementation
    return {"optimizer": optimizer, "engine": engine, "data": {"samples": 200, "dims": 2, "noise": 0.3}, **extra}


CASES = [(a.value, impl, "autograd") for a in Algorithm for impl in ("torch", "scratch")] + [(a.value, "torch", "fused") for a in Algorithm]


@pytest.mark.parametrize("algorithm, implementation, engine", CASES)
@pytest.mark.parametrize("batch_size", ["full", 16])
def test_hand_gradients_equal_autograds_and_the_written_update_is_the_optimizers(algorithm, implementation, engine, batch_size):
    entries = ledger_of(settings(algorithm, implementation, engine, batch_size))
    assert entries, "a ledger entry per chunk"
    for entry in entries:
        for update in entry.updates:
            assert update.hand_gradient == pytest.approx(update.gradient, rel=1e-4, abs=1e-6)
            assert update.lines[-1].symbol == "θ"
            assert update.lines[-1].value == pytest.approx(update.after, rel=1e-6, abs=1e-7)
        assert entry.loss == pytest.approx(entry.loss_reported, rel=1e-5)
        assert entry.gradient_source == ("closed form (fused)" if engine == "fused" else ".grad (autograd)")


@pytest.mark.parametrize("algorithm", [a.value for a in Algorithm])
def test_weight_decay_is_written_out_too(algorithm):
    decoupled = PRESETS[algorithm].rule.decoupled_weight_decay  # AdamW shrinks θ, the rest add λθ to g
    for entry in ledger_of(settings(algorithm, "scratch", optimizer={"weight_decay": 0.1})):
        for update in entry.updates:
            first = update.lines[0]
            if decoupled:
                assert first.symbol == "θ" and "lr·λ" in first.formula
                assert first.value == pytest.approx(update.before * (1 - entry.lr * 0.1), rel=1e-9)
            else:
                assert first.symbol == "g" and "λθ" in first.formula
            assert update.lines[-1].value == pytest.approx(update.after, rel=1e-6, abs=1e-7)


def test_adam_without_bias_correction_is_written_out_without_the_hats():
    entries = ledger_of(settings("adam", "scratch", experiments={"no_bias_correction": True}))
    for entry in entries:
        for update in entry.updates:
            assert [line.symbol for line in update.lines] == ["m", "v", "θ"]
            assert update.lines[-1].value == pytest.approx(update.after, rel=1e-6, abs=1e-7)
    assert entries[0].experiments == ["no_bias_correction"]


def test_forgetting_to_zero_shows_the_accumulated_gradient_beside_the_true_one():
    entries = ledger_of(settings("bgd", batch_size="full", experiments={"forget_zero_grad": True}, optimizer={"epochs": 6}))
    late = entries[-1].updates[0]
    assert abs(late.gradient - late.hand_gradient) > 0.1 * abs(late.hand_gradient)  # .grad kept every step's share
    assert late.lines[-1].value == pytest.approx(late.after, rel=1e-6)  # and the update used it


def test_rows_are_summarised_and_the_batch_size_and_step_are_right():
    entries = ledger_of(settings("sgd", batch_size=7, optimizer={"epochs": 1}))
    assert entries[-1].step == 23 and entries[-1].batch_size == 6  # 160 rows: 22 batches of 7, then 6
    entry = entries[0]
    assert entry.batch_size == 7 and len(entry.rows) == 5
    first = entry.rows[0]
    assert first.residual == pytest.approx(first.prediction - first.y)
    full = ledger_of(settings("bgd", batch_size="full", optimizer={"epochs": 2}))[-1]
    assert full.batch_size == 160 and len(full.rows) == 5 and full.step == full.epoch == 2


def test_no_ledger_unless_asked_and_the_run_is_the_same_either_way():
    plain_events = []
    plain = Trainer(RunConfig.model_validate(settings("adam")), sink=plain_events.append).run()
    assert not any(isinstance(e, LedgerEntry) for e in plain_events)
    events = []
    trainer = Trainer(RunConfig.model_validate(settings("adam")), sink=events.append)
    trainer.control.ledger = True
    written = trainer.run()
    assert (written.weights, written.bias) == (plain.weights, plain.bias)
    losses = lambda evs: [loss for e in evs if isinstance(e, StepLosses) for loss in e.losses]  # noqa: E731
    assert losses(events) == losses(plain_events)


def classifier_settings(algorithm, implementation="torch", engine="autograd", batch_size=16, **extra):
    base = settings(algorithm, implementation, engine, batch_size, **extra)
    return {**base, "loss": "cross-entropy", "data": {"samples": 120, "dims": 2, "classes": 3}}


@pytest.mark.parametrize("algorithm, implementation, engine", CASES)
def test_a_classifiers_step_is_written_out_with_its_own_numbers(algorithm, implementation, engine):
    """Logits, softmax and −log p(y) per row; the chain rule's (softmax − onehot)ᵀ·x/n beside what
    the optimizer used, for every class's weights and bias; the rule lands on the new value."""
    entries = ledger_of(classifier_settings(algorithm, implementation, engine, optimizer={"epochs": 2}))
    assert entries
    for entry in entries:
        assert entry.loss_name == "cross-entropy" and entry.classes == ["0", "1", "2"]
        assert [u.name for u in entry.updates][:3] == ["w[0,x1]", "w[0,x2]", "w[1,x1]"]
        assert [u.name for u in entry.updates][-3:] == ["b[0]", "b[1]", "b[2]"]
        for update in entry.updates:
            assert update.hand_gradient == pytest.approx(update.gradient, rel=1e-4, abs=1e-6)
            assert update.lines[-1].value == pytest.approx(update.after, rel=1e-6, abs=1e-7)
        assert entry.loss == pytest.approx(entry.loss_reported, rel=1e-5)
        for row in entry.rows:
            assert row.probabilities is not None and sum(row.probabilities) == pytest.approx(1.0)
            own = row.probabilities[int(row.y)]
            assert row.nll == pytest.approx(-math.log(own)) and row.residual == pytest.approx(own - 1)
            assert row.prediction == max(range(3), key=lambda c: row.logits[c])
