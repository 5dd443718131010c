"""The learning-rate keys: `+`/`-` count every press, `o` sets up a run that reaches the optimum."""

import numpy as np
import pytest
from textual.widgets import Input

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.main_screen import epochs_to_converge
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState

from .helpers import drawn, notified, panels, wait_for, wait_for_state

pytestmark = pytest.mark.timeout(180)


def lr_field(app) -> Input:
    return app.query_one("#field-optimizer--lr", Input)


async def test_every_plus_while_paused_counts_and_says_the_new_lr():
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "sgd", "lr": 0.01, "epochs": 100000}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.state is RunState.PAUSED and app.controller.view.step == 1, what="a paused run")
        await pilot.press("plus", "plus")
        await drawn(pilot)
        assert lr_field(app).value == "0.04"
        await wait_for(pilot, lambda: notified(app, "learning rate 0.04"), what="the new lr said")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.step == 2, what="a step at the new lr")
        assert app.controller.view.lr == pytest.approx(0.04)
        await pilot.press("space")  # running: quick presses are not lost either
        await wait_for_state(pilot, app, RunState.RUNNING)
        await pilot.press("minus", "minus", "minus")
        assert lr_field(app).value == "0.005"
        await wait_for(pilot, lambda: app.controller.view.lr == pytest.approx(0.005), what="the trainer at 0.005")
        await pilot.press("r")
        await wait_for_state(pilot, app, RunState.IDLE)
        await pilot.press("plus")
        assert lr_field(app).value == "0.01"
        await wait_for(pilot, lambda: notified(app, "learning rate 0.01 for the next run"), what="the idle lr said")


def test_the_epochs_o_asks_for_grow_with_the_condition_number():
    assert epochs_to_converge(1.0, momentum=True) == 10
    assert epochs_to_converge(100.0, momentum=False) > 600  # (99/101)^k = 1e-6 at k ≈ 690
    assert epochs_to_converge(1e4, momentum=True) < epochs_to_converge(1e4, momentum=False)
    assert epochs_to_converge(None, momentum=True) == 1_000_000


@pytest.mark.parametrize("algorithm", ["momentum", "bgd"])
async def test_o_sets_up_a_run_that_reaches_the_optimum(tmp_path, algorithm):
    # unscaled columns of very different sizes: a stretched bowl (κ in the thousands), so a few
    # tens of steps end far from the optimum, which the closed form knows
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 1, 200), rng.uniform(0, 30, 200)
    y = 2 * a + 0.3 * b + 1 + rng.normal(0, 0.1, 200)
    csv = tmp_path / "stretched.csv"
    csv.write_text("a,b,y\n" + "".join(f"{p:.6f},{q:.6f},{r:.6f}\n" for p, q, r in zip(a, b, y, strict=True)))
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": algorithm}, "data": {"source": str(csv), "standardize": False}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await wait_for(pilot, lambda: app.screen.stability is not None, what="the data's curvature")
        await pilot.press("o")
        form = app.screen.form
        await wait_for(pilot, lambda: form.config is not None and form.config.optimizer.epochs > 20, what="the best settings")
        epochs = app.screen.form.config.optimizer.epochs
        assert epochs > 20
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE, timeout=120)
        summary = app.controller.view.summary
        assert summary.final_loss <= summary.optimal_loss * 1.01
