"""Theme files: the shipped ones load, broken ones are reported and skipped, wheels carry them."""

import subprocess
import sys
import zipfile
from pathlib import Path

from tui_trainer.app.themes import bundled_theme_dir, load_themes

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_themes_load_a_dark_a_light_and_a_sixteen_colour_one():
    themes, problems = load_themes([bundled_theme_dir()])
    assert problems == []
    by_name = {loaded.theme.name: loaded.theme for loaded in themes}
    assert len(by_name) >= 3
    assert any(theme.dark and not theme.ansi for theme in by_name.values())
    assert any(not theme.dark for theme in by_name.values())
    assert any(theme.ansi for theme in by_name.values())


def test_broken_files_are_reported_by_name_and_skipped(tmp_path):
    (tmp_path / "good.toml").write_text('name = "good"\nprimary = "#123456"\n')
    (tmp_path / "colour.toml").write_text('name = "colour"\nprimary = "blurple"\n')
    (tmp_path / "syntax.toml").write_text('name = "syntax\nprimary = \n')
    (tmp_path / "unknown.toml").write_text('name = "unknown"\nprimary = "#000000"\nsparkle = true\n')
    (tmp_path / "nameless.toml").write_text('primary = "#000000"\n')
    (tmp_path / "Bad Name.toml").write_text('name = "Bad Name"\nprimary = "#000000"\n')
    (tmp_path / "variable.toml").write_text('name = "variable"\nprimary = "#000000"\n[variables]\nborder-blurred = "grey-ish"\n')
    (tmp_path / "style.toml").write_text('name = "style"\nprimary = "#000000"\n[variables]\ninput-cursor-text-style = "loud"\n')
    themes, problems = load_themes([tmp_path])
    assert [loaded.theme.name for loaded in themes] == ["good"]
    text = "\n".join(problems)
    assert "theme colour.toml: primary: 'blurple' is not a colour" in text
    assert "theme syntax.toml: is not valid TOML" in text
    assert "theme unknown.toml: sparkle: is not a setting" in text
    assert "theme nameless.toml: name: Field required" in text
    assert "theme Bad Name.toml: name: String should match pattern" in text
    assert "theme variable.toml: variables: border-blurred: 'grey-ish' is not a colour" in text
    assert "theme style.toml: variables: input-cursor-text-style: 'loud' is not a text style" in text
    assert len(problems) == 7


def test_a_later_folder_overrides_a_theme_of_the_same_name(tmp_path):
    (tmp_path / "mine.toml").write_text('name = "trainer-dark"\nprimary = "#ff0000"\n')
    themes, _ = load_themes([bundled_theme_dir(), tmp_path])
    dark = [loaded for loaded in themes if loaded.theme.name == "trainer-dark"]
    assert len(dark) == 1 and dark[0].theme.primary == "#ff0000"


def test_the_wheel_carries_the_themes(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("tui_trainer-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {path.name for path in (ROOT / "themes").glob("*.toml")}
    assert shipped and {f"tui_trainer/themes/{name}" for name in shipped} <= set(names)
