"""Files that can block or never end, and a theme that crashes the parser: the app says so, keeps
answering, and `q` quits; an app that dies never exits 0."""

import os
import subprocess
import sys

import pytest

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.themes import load_themes
from tui_trainer.core.config import RunConfig

from .helpers import notified, panels, wait_for

pytestmark = pytest.mark.timeout(120)


def hostile_themes(folder):
    os.mkfifo(folder / "fifo.toml")
    (folder / "zero.toml").symlink_to("/dev/zero")
    (folder / "deep.toml").write_text("x = " + "[" * 500 + "]" * 500 + "\n")
    (folder / "good.toml").write_text('name = "good"\nprimary = "#123456"\n')


def test_special_and_deeply_nested_theme_files_are_skipped_with_a_line_each(tmp_path):
    hostile_themes(tmp_path)
    themes, problems = load_themes([tmp_path])
    assert [loaded.theme.name for loaded in themes] == ["good"]
    text = "\n".join(problems)
    assert "theme fifo.toml: is a FIFO (named pipe), not a regular file" in text
    assert "theme zero.toml: is a device, not a regular file" in text
    assert "theme deep.toml: is not valid TOML (nested too deeply)" in text
    assert len(problems) == 3


async def test_the_app_starts_past_hostile_theme_files_and_on_a_fifo_of_data_and_q_quits(tmp_path):
    themes = tmp_path / "themes"
    themes.mkdir()
    hostile_themes(themes)
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    app = TrainerApp(RunConfig.model_validate({"data": {"source": str(fifo)}}), theme_folders=[themes])
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await wait_for(pilot, lambda: notified(app, "nested too deeply"), what="the deep theme reported")
        assert notified(app, "Theme skipped") == 3
        await pilot.press("s")
        await wait_for(pilot, lambda: notified(app, "Cannot start") or app.controller.view.message, what="the FIFO refused")
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="q to quit")


def test_an_app_that_dies_does_not_exit_0(tmp_path):
    script = (
        "import sys\n"
        "from tui_trainer import cli\n"
        "from tui_trainer.app.app import TrainerApp\n"
        "def boom(self, *a, **k): raise RuntimeError('boom')\n"
        "TrainerApp.run = boom\n"
        "sys.exit(cli._open_app(None))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == ["tui-trainer: the app stopped: RuntimeError: boom"]
