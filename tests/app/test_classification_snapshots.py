"""Classification screens compared with stored SVG snapshots, as tests/app/test_snapshots.py does
for regression (regenerate with `pytest tests/app/test_classification_snapshots.py --snapshot-update`,
then look at them: tests/app/__snapshots__/test_classification_snapshots/)."""

import pytest

from tui_trainer.app.app import TrainerApp
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState

from .helpers import drawn, wait_for, wait_for_state
from .test_classification import three_class_csv
from .test_snapshots import SIZES, pin_machine_details, ready

pytestmark = pytest.mark.timeout(180)


def classifier(tmp_path, algorithm="adam", epochs=60) -> TrainerApp:
    data = {"source": str(three_class_csv(tmp_path))}
    settings = {"loss": "cross-entropy", "optimizer": {"algorithm": algorithm, "epochs": epochs}, "data": data}
    return TrainerApp(RunConfig.model_validate(settings))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_a_finished_classifier_beside_its_decision_regions(snap_compare, size, tmp_path):
    async def run_before(pilot) -> None:
        app = pilot.app
        await ready(pilot)
        await pilot.press("w", "s")
        await wait_for_state(pilot, app, RunState.DONE, timeout=120)
        await wait_for(pilot, lambda: app.screen.regions.plot.points is not None, what="the points")
        await drawn(pilot)
        pin_machine_details(app)
        app.screen.regions.replot()
        await pilot.pause()

    assert snap_compare(classifier(tmp_path), terminal_size=size, run_before=run_before)


def test_the_weight_matrix_showing_adams_second_moment(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        app = pilot.app
        await ready(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE, timeout=120)
        await drawn(pilot)
        await pilot.press("c", "c", "c")  # value → grad → m → v
        await wait_for(pilot, lambda: app.screen.inspector.cells == "v", what="the v cells")
        pin_machine_details(app)
        await pilot.pause()

    assert snap_compare(classifier(tmp_path), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_ledger_of_a_cross_entropy_step(snap_compare, lang, tmp_path):
    async def run_before(pilot) -> None:
        app = pilot.app
        await ready(pilot)
        app.screen.views.active = "tab-learn"
        await wait_for(pilot, lambda: app.controller.ledger_wanted, what="the ledger asked for")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.controller.view.ledger is not None, what="the step written out")
        await drawn(pilot)
        pin_machine_details(app)
        await pilot.pause()

    settings = {"loss": "cross-entropy", "optimizer": {"algorithm": "momentum"}, "data": {"source": str(three_class_csv(tmp_path))}}
    app = TrainerApp(RunConfig.model_validate(settings), lang=lang)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_the_data_tab_of_a_synthetic_classification(snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        await ready(pilot)
        app.screen.form.query_one("#settings-tabs").active = "tab-data"
        await wait_for(pilot, lambda: app.screen.form.fields()["data.classes"].region.width > 0, what="the class fields")
        app.screen.form.fields()["data.separation"].value = "0"
        await wait_for(pilot, lambda: app.screen.form.fields()["data.separation"].has_class("-invalid"), what="the bad value marked")
        pin_machine_details(app)
        await pilot.pause()

    app = TrainerApp(RunConfig.model_validate({"loss": "cross-entropy", "data": {"classes": 4}}))
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
