"""core/ stays free of any UI library; the CLI starts without torch."""

import json
import subprocess
import sys

CORE_MODULES = [
    "tui_trainer.core.config",
    "tui_trainer.core.data",
    "tui_trainer.core.reference",
    "tui_trainer.core.events",
    "tui_trainer.core.control",
    "tui_trainer.core.device",
    "tui_trainer.core.model",
    "tui_trainer.core.stepper",
    "tui_trainer.core.algorithms",
    "tui_trainer.core.fused",
    "tui_trainer.core.trainer",
    "tui_trainer.core.race",
    "tui_trainer.core.schedules",
    "tui_trainer.core.landscape",
]


def loaded_after_importing(*modules: str) -> set[str]:
    code = "import json, sys\n" + "".join(f"import {m}\n" for m in modules) + "print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


def roots(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_core_imports_neither_textual_nor_rich():
    loaded = roots(loaded_after_importing(*CORE_MODULES))
    assert "torch" in loaded  # the check really imported the trainer
    assert not loaded & {"textual", "rich", "textual_plotext", "plotext"}


def test_the_settings_and_data_modules_do_not_import_torch():
    """The app validates forms and CSV paths with these before torch is loaded."""
    loaded = roots(
        loaded_after_importing("tui_trainer.core.config", "tui_trainer.core.data", "tui_trainer.core.landscape", "tui_trainer.cli")
    )
    assert "torch" not in loaded and "pydantic" in loaded


def test_the_app_opens_without_importing_torch():
    """The first frame must not wait for `import torch`: only the trainer process loads it."""
    loaded = roots(loaded_after_importing("tui_trainer.app.app"))
    assert "textual" in loaded and "torch" not in loaded


def test_opening_the_app_loads_nothing_heavy_before_the_first_frame():
    """`tui-trainer` with no flags: the settings models, numpy and plotext load after the first
    frame (the benchmark's case 4 measures what that buys)."""
    loaded = roots(loaded_after_importing("tui_trainer.cli", "tui_trainer.app.app"))
    assert not loaded & {"torch", "numpy", "pydantic", "plotext", "textual_plotext"}
