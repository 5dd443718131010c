"""The Learn view through Pilot: the ledger (English and Chinese), stability, experiments."""

import re

import pytest
from textual.widgets import Input, Select, Switch

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.widgets.learn_panel import ledger_markup
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import BatchRow, LedgerEntry, ParameterUpdate, RunState, UpdateLine

from .helpers import drawn, engine_ready, panels, wait_for, wait_for_state

pytestmark = pytest.mark.timeout(120)


def ledger_text(app) -> str:
    return str(app.query_one("#ledger").render())


async def open_learn(pilot):
    app = pilot.app
    await panels(pilot)
    await engine_ready(pilot)
    app.screen.views.active = "tab-learn"
    await wait_for(pilot, lambda: app.controller.ledger_wanted, what="the ledger asked for")
    await drawn(pilot)


@pytest.mark.parametrize(
    "lang, step_words, update_words", [("en", "Step 2 · epoch 1", "update (adam"), ("zh", "第 2 步", "参数更新（adam")]
)
async def test_stepping_writes_each_step_out_in_either_language(lang, step_words, update_words):
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "adam"}, "data": {"dims": 2}}), lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_learn(pilot)
        await pilot.press("n")
        await wait_for(
            pilot, lambda: app.controller.view.ledger is not None and app.controller.view.ledger.step == 1, what="step 1 written out"
        )
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.ledger.step == 2, what="step 2 written out")
        await drawn(pilot)
        text = ledger_text(app)
        assert step_words in text and update_words in text
        entry = app.controller.view.ledger
        assert entry.updates[0].lines[-1].value == pytest.approx(app.controller.view.snapshot.weights[0], rel=1e-6)
        assert "m̂ = m/(1−β1^t)" in text and "w[x1]" in text and "w[x2]" in text
        story = str(app.query_one("#lesson-story").render())
        assert ("momentum and RMSProp" in story) if lang == "en" else ("动量法" in story)


async def test_steps_taken_in_another_view_are_explained_then_the_next_one_written_out():
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "adam"}, "data": {"dims": 2}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await engine_ready(pilot)
        await pilot.press("n")  # in the Run view: not written out
        await wait_for(pilot, lambda: app.controller.view.step == 1, what="step 1")
        app.screen.views.active = "tab-learn"
        await wait_for(pilot, lambda: app.controller.ledger_wanted, what="the ledger asked for")
        await drawn(pilot)
        assert app.controller.view.ledger is None and "while this view was closed" in ledger_text(app)
        await pilot.press("n")
        await wait_for(
            pilot, lambda: app.controller.view.ledger is not None and app.controller.view.ledger.step == 2, what="step 2 written out"
        )
        await drawn(pilot)
        assert "Step 2 · epoch 1" in ledger_text(app)


async def test_the_language_can_be_switched_live():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_learn(pilot)
        assert "Batch gradient descent" in str(app.query_one("#lesson-story").render())
        app.query_one("#select-lang", Select).value = "zh"
        await wait_for(pilot, lambda: "批量梯度下降" in str(app.query_one("#lesson-story").render()), what="the story in Chinese")


async def test_the_stability_limit_is_shown_warned_and_applied():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_learn(pilot)
        await wait_for(pilot, lambda: app.screen.stability is not None, what="the curvature")
        assert "2/λmax" in str(app.query_one("#stability").render())
        limit = app.screen.stability.max_stable_lr
        lr = app.screen.form.query_one("#field-optimizer--lr", Input)
        lr.value = f"{limit * 1.2:.4g}"
        row = app.screen.form.query_one("#field-optimizer--lr-row")
        await wait_for(pilot, lambda: row.has_class("-warning"), what="the warning")
        assert "diverges here" in str(row.query_one(".problem").render())
        await pilot.press("o")
        await wait_for(pilot, lambda: not row.has_class("-warning"), what="the warning gone")
        assert float(lr.value) == pytest.approx(app.screen.stability.best_gd_lr, rel=1e-3)
        await pilot.press("x", "s")
        await wait_for_state(pilot, app, RunState.DIVERGED, timeout=60)


async def test_experiments_reach_the_run():
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"epochs": 2}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_learn(pilot)
        app.query_one("#experiment-eval-without-no-grad", Switch).value = True
        app.query_one("#experiment-train-in-eval-mode", Switch).value = True
        await wait_for(
            pilot,
            lambda: all(app.screen.learn_panel.experiments()[name] for name in ("eval_without_no_grad", "train_in_eval_mode")),
            what="both switches on",
        )
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        await drawn(pilot)
        assert app.controller.view.snapshot.eval_grad_fn == "MseLossBackward0" and app.controller.view.snapshot.training is False
        assert "experiments on: train_in_eval_mode, eval_without_no_grad" in ledger_text(app)
        # and the Run view's inspector shows what each experiment did
        autograd = str(app.query_one("#autograd").render())
        assert "eval loss.grad_fn MseLossBackward0 (graph kept)" in autograd and "model.training False" in autograd


async def test_the_bias_correction_experiment_switches_to_adams_hand_written_rule():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_learn(pilot)
        app.query_one("#experiment-no-bias-correction", Switch).value = True
        await wait_for(pilot, lambda: app.screen.form.values()["optimizer.implementation"] == "scratch", what="the hand-written rule")
        values = app.screen.form.values()
        assert (values["optimizer.algorithm"], values["optimizer.implementation"]) == ("adam", "scratch")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.ledger is not None, what="the written-out step")
        assert [line.symbol for line in app.controller.view.ledger.updates[0].lines] == ["m", "v", "θ"]


# --- issue 11: the tables keep their columns and fit; what is cut says so; the view follows the form ---


def big_entry(features: int = 10, batch: int = 32) -> LedgerEntry:
    """A diverging step on 10 features: numbers of every size, negative ones beside each other."""
    names = [f"w[x{i + 1}]" for i in range(features)] + ["b"]
    rows = [BatchRow(x=[6.822, -1.767e16] * (features // 2), y=-1.767e16, prediction=-1.767e16, residual=-1.234e15) for _ in range(3)]
    updates = [ParameterUpdate(name, -1.5e16, -2.5e17, -2.5e17, [UpdateLine("θ", "θ − lr·g", -1.5e16)], -1.5e16) for name in names]
    return LedgerEntry(
        step=7,
        epoch=1,
        algorithm="bgd",
        rule="plain",
        engine="torch",
        lr=0.01,
        batch_size=batch,
        rows=rows,
        loss=3.1e32,
        loss_reported=3.1e32,
        updates=updates,
        gradient_source=".grad (autograd)",
    )


def test_big_numbers_keep_their_columns_and_the_table_fits():
    for width in (60, 78, 120):
        lines = ledger_markup(big_entry(), "en", width=width).splitlines()
        table = [line for line in lines if "e+16" in line and "[" not in line]
        assert table and all(len(line) <= width for line in table), (width, table)
        assert not re.search(r"\de[+-]\d+-", "\n".join(lines))  # 6.822-1.767e+16-1.767e+16 never again
        assert not re.search(r"\d\.\d+-\d", "\n".join(lines))


def test_every_gradient_is_listed_and_what_is_cut_says_what():
    text = ledger_markup(big_entry(), "en", width=100).replace("\\[", "[")
    gradients = [line.split()[0] for line in text.splitlines() if re.fullmatch(r"  \S+\s+-2.5e\+17\s+-2.5e\+17", line)]
    assert gradients == [f"w[x{i}]" for i in range(1, 11)] + ["b"]  # all 11 fit: all 11 listed
    assert "… and 5 more parameters' updates" in text and not re.search(r"… \d+$", text, re.M)
    zh = ledger_markup(big_entry(), "zh", width=100)
    assert "……还有 5 个参数的更新" in zh


def test_one_row_is_a_row():
    assert "a batch of 1 row" in ledger_markup(big_entry(batch=1), "en") and "1 rows" not in ledger_markup(big_entry(batch=1), "en")
    assert "a batch of 32 rows" in ledger_markup(big_entry(batch=32), "en")
    assert "… and 1 more row\n" in ledger_markup(big_entry(batch=4), "en") + "\n"


async def test_the_learn_view_follows_the_form_while_idle_and_the_run_once_started():
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "sgd", "epochs": 1000}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_learn(pilot)
        rule = app.query_one("#lesson-rule")
        assert str(rule.render()).startswith("sgd:")
        await wait_for(pilot, lambda: app.screen.stability is not None, what="the curvature")
        await pilot.press("x")  # lr just above the limit: switches the form to bgd
        await wait_for(pilot, lambda: str(rule.render()).startswith("bgd:"), what="the form's rule")
        assert "Batch gradient descent" in str(app.query_one("#lesson-story").render())
        app.screen.form.query_one("#select-algorithm", Select).value = "adam"
        await wait_for(pilot, lambda: str(rule.render()).startswith("adam:"), what="the chosen rule")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.controller.view.active and app.controller.view.config is not None, what="the run")
        assert str(rule.render()).startswith("adam:")


async def test_ten_features_fit_the_panel_at_120_columns():
    app = TrainerApp(RunConfig.model_validate({"data": {"dims": 10}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_learn(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.ledger is not None, what="the written-out step")
        await drawn(pilot)
        ledger = app.query_one("#ledger")
        await wait_for(pilot, lambda: "ŷ − y" in ledger_text(app), what="the batch table")
        text = ledger_text(app)
        header = next(line for line in text.splitlines() if "ŷ − y" in line and "x1" in line)
        assert header.rstrip().endswith("ŷ − y") and len(header) <= ledger.content_size.width  # the last column: on its line
        gradients = [line.split()[0] for line in text.splitlines() if line.startswith(("  w[x", "  b "))]
        assert gradients[:11] == [f"w[x{i}]" for i in range(1, 11)] + ["b"]
        assert "… and 5 more parameters' updates" in text
