"""The form in the app against the command line: the same choices build the same run."""

import pytest
from textual.widgets import Input, Select, Static, Switch

from tui_trainer.app.app import TrainerApp
from tui_trainer.cli import build_parser, config_from_args

from .helpers import panels, wait_for

pytestmark = pytest.mark.timeout(120)


def cli_config(*argv: str):
    return config_from_args(build_parser().parse_args(list(argv)))


async def test_a_csv_picked_in_the_form_builds_the_run_the_cli_builds(tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,y\n1,10,2\n2,30,4\n3,20,6.5\n4,50,8\n")
    app = TrainerApp()  # synthetic data, unscaled: the switch is off
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        form = app.screen.form
        switch = app.query_one("#switch-standardize", Switch)
        assert switch.value is False
        app.query_one("#select-source", Select).value = "csv"
        app.query_one("#field-data--source", Input).value = str(csv)
        await wait_for(pilot, lambda: form.config is not None and not form.config.data.is_synthetic, what="the CSV config")
        assert switch.value is True  # the switch followed CSV's default
        assert form.config == cli_config("--data", str(csv))
        assert form.config.data.standardized
        # a choice the person makes stays when the source changes
        switch.value = False
        await wait_for(pilot, lambda: form.config is not None and not form.config.data.standardized, what="the switch off")
        assert form.config == cli_config("--data", str(csv), "--no-standardize")
        app.query_one("#select-source", Select).value = "synthetic"
        await wait_for(pilot, lambda: form.config is not None and form.config.data.is_synthetic, what="synthetic again")
        app.query_one("#select-source", Select).value = "csv"
        await wait_for(pilot, lambda: form.config is not None and not form.config.data.is_synthetic, what="CSV again")
        assert switch.value is False and form.config == cli_config("--data", str(csv), "--no-standardize")


async def test_a_csv_problem_is_said_once(tmp_path):
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        app.query_one("#select-source", Select).value = "csv"
        app.query_one("#field-data--source", Input).value = str(tmp_path / "missing.csv")
        status = app.query_one("#csv-status", Static)
        await wait_for(pilot, lambda: status.has_class("-problem"), what="the problem")
        await pilot.pause()
        row = app.query_one("#field-data--source-row")
        assert row.has_class("-invalid")
        said = str(status.render()) + str(row.query_one(".problem", Static).render())
        assert said.count("no such file") == 1
