"""The autograd lab in the Learn view, through Pilot: the graph of the last step, the lessons run in
the trainer process (English and Chinese), and the evaluation's graph kept without no_grad."""

import pytest
import torch
from textual.widgets import Select

from tui_trainer.app.app import TrainerApp
from tui_trainer.core.config import RunConfig
from tui_trainer.core.lesson_texts import LESSON_NAMES, TITLES

from .helpers import drawn, engine_ready, panels, wait_for

pytestmark = pytest.mark.timeout(120)


def shown(app, widget_id: str) -> str:
    return str(app.query_one(widget_id).render())


def names_in(node):
    yield node.name
    for child in node.children:
        yield from names_in(child)


async def learn_view(pilot):
    app = pilot.app
    await panels(pilot)
    await engine_ready(pilot)
    app.screen.views.active = "tab-learn"
    await wait_for(pilot, lambda: app.controller.ledger_wanted, what="the ledger asked for")


async def lesson(pilot, name: str) -> str:
    app = pilot.app
    await wait_for(pilot, lambda: app.query_one("#select-lesson", Select).value == name, what=f"{name} chosen")
    await wait_for(pilot, lambda: (s := app.screen.learn_panel.lesson) is not None and not isinstance(s, str)
                   and s.result is not None and s.result.name == name, what=f"{name} run")
    await pilot.pause()
    return shown(app, "#lab-lesson")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_step_shows_its_graph_and_g_runs_the_lessons_in_turn(lang):
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "sgd"}, "data": {"dims": 2}}), lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await learn_view(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.graph is not None, what="the graph of step 1")
        await drawn(pilot)
        graph = app.controller.view.graph
        text = shown(app, "#lab-graph")
        assert graph.step == 1 and all(name in text for name in names_in(graph.root))  # whatever torch named them
        assert "weight.grad" in text and "bias.grad" in text
        await pilot.press("g")  # opens the lab: the graph
        await wait_for(pilot, lambda: app.screen.learn_panel.showing_lab, what="the lab open")
        await pilot.press("g")  # the first lesson
        text = await lesson(pilot, "graph")
        assert TITLES[lang]["graph"] in text and ">>> loss.backward()" in text
        await pilot.press("g", "g", "g")  # requires-grad, no-grad, retain-graph
        text = await lesson(pilot, "retain-graph")
        assert TITLES[lang]["retain-graph"] in text
        result = app.screen.learn_panel.lesson.result
        assert result.step == 1  # on the run's own model, after its step
        assert result.facts["twice"] == [2 * g for g in result.facts["once"]]
        assert result.steps[1].error.split(" (")[0] in " ".join(text.split())  # torch's words, on screen


async def test_the_lessons_error_text_is_torchs():
    app = TrainerApp(RunConfig.model_validate({"data": {"dims": 1}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await learn_view(pilot)
        app.query_one("#select-lesson", Select).value = "numpy"  # no run yet: the form's model and first batch
        text = await lesson(pilot, "numpy")
        with pytest.raises(RuntimeError) as raised:
            torch.zeros(1, requires_grad=True).numpy()
        assert f"RuntimeError: {raised.value}" in " ".join(text.split())
        assert app.screen.learn_panel.lesson.result.step == 0


async def test_every_lesson_runs_from_the_view():
    app = TrainerApp(RunConfig.model_validate({"data": {"dims": 1, "samples": 50}}))
    async with app.run_test(size=(80, 24)) as pilot:
        await learn_view(pilot)
        await pilot.press("g")
        for name in LESSON_NAMES:
            await pilot.press("g")
            text = await lesson(pilot, name)
            assert TITLES["en"][name] in text
            assert all(step.error is None or step.shows_error for step in app.screen.learn_panel.lesson.result.steps)


async def test_evaluating_without_no_grad_shows_the_graph_the_evaluation_kept():
    config = RunConfig.model_validate({"optimizer": {"algorithm": "bgd"}, "data": {"dims": 1}})
    app = TrainerApp(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await learn_view(pilot)
        await pilot.click("#experiment-eval-without-no-grad")
        await pilot.press("n")  # a full batch: every step ends an epoch, and the epoch is evaluated
        await wait_for(pilot, lambda: app.controller.view.graph is not None, what="the graph")
        await drawn(pilot)
        graph = app.controller.view.graph
        assert graph.eval_root is not None
        assert "The last evaluation, without torch.no_grad(), kept this graph" in shown(app, "#lab-graph")
        await pilot.press("r")
        await pilot.click("#experiment-eval-without-no-grad")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.graph is not None, what="the graph")
        await drawn(pilot)
        assert app.controller.view.graph.eval_root is None
        assert "ran under torch.no_grad(): grad_fn None" in shown(app, "#lab-graph")
