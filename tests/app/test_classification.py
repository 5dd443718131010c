"""Classification in the app, through Pilot: the form's loss and classes, a three-class CSV trained
end to end (chart accuracy, the inspector's weight matrix, decision regions, the Learn view's
cross-entropy step) and a race on separable classes."""

import random
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import DataTable, Input, Select

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.widgets.decision_regions import CLASS_MARKERS
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState

from .helpers import drawn, notified, panels, wait_for, wait_for_state

pytestmark = pytest.mark.timeout(180)

SPECIES = ("setosa", "versicolor", "virginica")


def three_class_csv(folder: Path, rows_per_class: int = 60, spread: float = 0.7) -> Path:
    """Three overlapping clusters over two features, plus a feature of noise, labelled by name."""
    rng = np.random.default_rng(1)
    lines = ["petal,sepal,stem,species"]
    for label, centre in zip(SPECIES, ((0, 0), (2.5, 0.5), (1, 2.5)), strict=True):
        for _ in range(rows_per_class):
            x = rng.normal(centre, spread)
            lines.append(f"{x[0]:.3f},{x[1]:.3f},{rng.normal():.3f},{label}")
    path = folder / "flowers.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def classifier_app(csv: Path, algorithm: str = "adam", epochs: int = 60) -> TrainerApp:
    settings = {"loss": "cross-entropy", "optimizer": {"algorithm": algorithm, "epochs": epochs}, "data": {"source": str(csv)}}
    return TrainerApp(RunConfig.model_validate(settings))


def cells(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_form_chooses_the_loss_and_checks_the_classes_as_the_cli_does():
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        form = app.screen.form
        fields = form.fields()
        assert not fields["data.classes"].display and fields["data.true_weights"].display
        form.query_one("#select-loss", Select).value = "cross-entropy"
        await wait_for(pilot, lambda: form.fields()["data.classes"].display, what="the class fields")
        assert fields["data.separation"].display and not fields["data.true_weights"].display
        assert fields["optimizer.epochs"].value == "1000"  # bgd's 100, ten times over, as on the command line
        fields["data.classes"].value = "1"
        await wait_for(pilot, lambda: fields["data.classes"].has_class("-invalid"), what="the bad class count marked")
        assert "must be a whole number >= 2, got 1" in str(fields["data.classes"].query_one(".problem").render())
        fields["data.classes"].value = "4"
        fields["data.separation"].value = "3"
        await wait_for(pilot, lambda: form.config is not None, what="a valid form")
        assert form.config is not None and form.config.data.classes == 4 and form.config.classifies
        form.query_one("#select-loss", Select).value = "mse"
        await wait_for(pilot, lambda: form.config is not None and not form.config.classifies, what="back to mse")
        assert fields["optimizer.epochs"].value == "100" and not fields["data.classes"].display


async def test_the_csv_check_reads_a_class_column_for_cross_entropy(tmp_path):
    csv = three_class_csv(tmp_path)
    app = TrainerApp(RunConfig.model_validate({"data": {"source": str(csv)}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        form = app.screen.form
        status = app.query_one("#csv-status")
        await wait_for(pilot, lambda: "species" in str(status.render()), what="the file checked")
        assert form.config is None  # a text target is no number for mse: one clear line says so
        assert "species" in str(status.render())
        form.query_one("#select-loss", Select).value = "cross-entropy"
        await wait_for(pilot, lambda: "3 classes" in str(status.render()), what="the classes read")
        assert "setosa, versicolor, virginica" in str(status.render())
        await wait_for(pilot, lambda: form.config is not None, what="a valid form")
        await wait_for(pilot, lambda: app.screen.learn_panel.stability is not None, what="the curvature at the optimum")
        assert "at its optimum" in str(app.query_one("#stability").render())


async def test_a_three_class_csv_trains_with_accuracy_matrix_regions_and_a_written_out_step(tmp_path):
    app = classifier_app(three_class_csv(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        screen = app.screen
        await pilot.press("w")
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE, timeout=120)
        await drawn(pilot)
        view = app.controller.view
        assert view.classifies and len(view.accuracy) == 60 and view.last_accuracy > 0.8
        # the chart: loss on the left, accuracy on the right
        legend = str(screen.chart.query_one("#legend").render())
        assert "━━ acc ·· val (right)" in legend  # beside the map: the short words, the accuracy second
        assert screen.chart.plot.ranges["right"] == (0.0, 1.0)
        # the inspector: a row per class, a column per feature and the bias
        table = screen.inspector.query_one(DataTable)
        rows = cells(table)
        assert [row[0] for row in rows] == list(SPECIES) and len(rows[0]) == 5
        assert "value (c)" in str(table.columns[next(iter(table.columns))].label)
        facts = str(screen.inspector.query_one("#distance").render())
        assert "accuracy" in facts and "‖θ − θ*‖" in facts
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.inspector.cells == "grad", what="the gradient cells")
        assert cells(table)[0][1] != rows[0][1]
        for _ in range(len(screen.inspector.cell_modes()) - 2):
            await pilot.press("c")
        await wait_for(pilot, lambda: screen.inspector.cells == "optimum", what="the optimum cells")
        optimum = view.optimal_theta
        assert optimum is not None and cells(table)[0][1] == f"{optimum[0]:.4g}"
        # the decision regions, not the landscape, and the points by class once read
        assert screen.regions.display and not screen.landscape.display
        await wait_for(pilot, lambda: screen.regions.plot.points is not None, what="the points")
        await drawn(pilot)
        screen.regions.replot()
        picture = str(screen.regions.plot.render())
        assert all(marker in picture for marker in CLASS_MARKERS[:3])
        assert "petal" in picture and "sepal" in picture
        screen.regions.query_one(".y-axis", Select).value = 2
        await wait_for(pilot, lambda: screen.regions.plot.axes == (0, 2), what="the features chosen")
        assert "stem" in str(screen.regions.plot.render())


async def test_the_learn_view_writes_out_a_cross_entropy_step_in_both_languages(tmp_path):
    app = classifier_app(three_class_csv(tmp_path), algorithm="momentum")
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("v", "v")
        await wait_for(pilot, lambda: app.screen.views.active == "tab-learn", what="the Learn view")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.ledger is not None, what="the step written out")
        await drawn(pilot)
        ledger = str(app.query_one("#ledger").render())
        written = ("z[setosa]", "p(y)", "first row: softmax(z) = (", "−log p(y)", "mean(−log p(y))", "(p − onehot(y))/n",
                   "w[setosa,petal]", "b[virginica]")
        for words in written:
            assert words in ledger, words
        app.query_one("#select-lang", Select).value = "zh"
        await wait_for(pilot, lambda: "链式法则" in str(app.query_one("#ledger").render()), what="the Chinese ledger")
        assert "损失 = mean(−log p(y))" in str(app.query_one("#ledger").render())


async def test_a_race_on_separable_classes_races_to_every_row_right():
    settings = {"loss": "cross-entropy", "data": {"classes": 3, "separation": 6, "noise": 0.3, "dims": 2}}
    app = TrainerApp(RunConfig.model_validate(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await panels(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.in_race_tab, what="the race tab")
        app.query_one("#race-entries", Input).value = "bgd,adam"
        await pilot.pause()
        await pilot.press("w", "s")  # the race's map: the paths over two of the k·(d+1) parameters
        race = app.controller.race_view
        await wait_for(pilot, lambda: race.state is RunState.DONE, timeout=120, what="the race to end")
        await drawn(pilot)
        status = str(app.screen.status_bar.render())
        assert "2 all rows right" in status
        table = app.query_one("#race-table", DataTable)
        assert str(table.columns[list(table.columns)[5]].label) == "to all rows right"
        assert all(" steps" in row[5] for row in cells(table))
        assert "separable" in str(app.query_one("#race-legend").render())
        landscape = app.screen.race_panel.query_one("#race-landscape")
        landscape.replot()
        assert "no exact surface" in str(landscape.query_one(".note").render())
        assert "b[2]" in str(landscape.plot.render())  # the last class's bias: the map's y axis
        await pilot.press("v", "v")  # the Run view: nothing ran there, the form's classifier gets the regions
        await wait_for(pilot, lambda: app.screen.regions.display, what="the regions shown")
        assert not notified(app, "Error")


async def test_one_feature_of_separable_classes_draws_intervals_and_says_there_is_no_optimum():
    settings = {"loss": "cross-entropy", "optimizer": {"algorithm": "adam", "epochs": 20},
                "data": {"classes": 3, "separation": 6, "noise": 0.3, "dims": 1, "samples": 300}}
    app = TrainerApp(RunConfig.model_validate(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        screen = app.screen
        await pilot.press("w")
        await wait_for(pilot, lambda: screen.regions.display, what="the regions shown for the form's classifier")
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE, timeout=120)
        await wait_for(pilot, lambda: screen.regions.plot.points is not None, what="the points")
        await drawn(pilot)
        assert app.controller.view.separable
        assert "separable: no finite optimum" in str(screen.inspector.query_one("#distance").render())
        assert screen.regions.plot.axes == (0, None) and screen.regions.query_one(".y-axis", Select).disabled
        screen.regions.replot()
        picture = str(screen.regions.plot.render())
        assert "class" in picture and all(marker in picture for marker in CLASS_MARKERS[:3])
        await pilot.press("c", "c", "c", "c")  # value → grad → m → v → optimum: none to show
        await wait_for(pilot, lambda: screen.inspector.cells == "optimum", what="the optimum cells")
        assert all(cell == "—" for row in cells(screen.inspector.query_one(DataTable)) for cell in row[1:])


async def test_random_keys_and_resizes_never_break_a_classifier():
    """The monkey's keys (and c) on a synthetic classification: no exception anywhere, from the
    form to the race, the map and the Learn view, at sizes from 60x20 to 160x50."""
    from tests.fuzz.test_app_monkey import KEYS

    chance = random.Random(12)
    settings = {"loss": "cross-entropy", "optimizer": {"algorithm": "adam", "epochs": 40}, "data": {"dims": 3, "samples": 300}}
    app = TrainerApp(RunConfig.model_validate(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        for count in range(150):
            if chance.random() < 0.05:
                await pilot.resize_terminal(chance.randint(60, 160), chance.randint(20, 50))
            else:
                await pilot.press(chance.choice([*KEYS, "c", "c", "w", "v"]))
            if count % 10 == 0:
                await pilot.pause()
        await pilot.pause()
        while len(app.screen_stack) > 1:
            app.pop_screen()
            await pilot.pause()
        app.screen.set_focus(None)
        before = app.screen.views.active
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.views.active != before, what="the app to answer v")
        assert app.is_running and app.controller.view.state is not RunState.ERROR
