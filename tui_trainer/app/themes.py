"""Theme files: `themes/*.toml`, validated with pydantic and turned into Textual themes.

A broken file is reported (file and field named) and skipped; it never stops the app.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from textual.color import Color, ColorParseError
from textual.theme import Theme

from ..core.errors import DataError
from ..core.files import readable_file
from ..core.validation import explain

THEME_MAX_BYTES = 1 << 20  # a theme is a few hundred bytes; anything past a megabyte is not one


def _color(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{value!r} is not a colour (try '#1e90ff', 'rgb(30,144,255)' or 'ansi_blue')") from None
    return value


ColorText = Annotated[str, AfterValidator(_color)]

_TEXT_STYLE_WORDS = {
    "none", "not", "bold", "b", "dim", "italic", "i", "underline", "u", "uu", "overline", "o", "strike", "reverse", "blink",
}


def _variables(values: dict[str, str]) -> dict[str, str]:
    """Textual's design variables are colours, except the `*-text-style` ones: check each now,
    because a bad one would otherwise only surface as a stylesheet error inside the app."""
    for name, value in values.items():
        if name.endswith("text-style"):
            unknown = [word for word in value.split() if word not in _TEXT_STYLE_WORDS]
            if unknown or not value.split():
                raise ValueError(f"{name}: {value!r} is not a text style (use words from: {', '.join(sorted(_TEXT_STYLE_WORDS))})")
        else:
            try:
                _color(value)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
    return values


class ChartColors(BaseModel):
    """Colours of the chart's lines; unset ones follow the theme's own colours."""

    model_config = ConfigDict(extra="forbid")

    train: ColorText | None = Field(default=None, description="Per-step training loss (default: the theme's primary).")
    validation: ColorText | None = Field(default=None, description="Per-epoch validation loss (default: warning).")
    optimum: ColorText | None = Field(default=None, description="The closed-form optimal loss line (default: success).")
    series: list[ColorText] = Field(default_factory=list, description="More colours for overlaid curves, in order.")


class ThemeFile(BaseModel):
    """One theme file. Colours are anything Textual parses: #rrggbb, rgb(), names, ansi_*."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Lower-case words joined by dashes; shown in the theme picker.")
    dark: bool = True
    ansi: bool = Field(default=False, description="Use the terminal's own 16 colours (for terminals without true colour).")
    primary: ColorText
    secondary: ColorText | None = None
    accent: ColorText | None = None
    warning: ColorText | None = None
    error: ColorText | None = None
    success: ColorText | None = None
    foreground: ColorText | None = None
    background: ColorText | None = None
    surface: ColorText | None = None
    panel: ColorText | None = None
    boost: ColorText | None = None
    chart: ChartColors = Field(default_factory=ChartColors)
    variables: Annotated[dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")], str], AfterValidator(_variables)] = Field(
        default_factory=dict, description="Extra Textual design variables, e.g. `input-cursor-background`."
    )

    def to_theme(self) -> Theme:
        colours = self.model_dump(exclude={"name", "dark", "ansi", "chart", "variables"}, exclude_none=True)
        variables = dict(self.variables)
        if self.ansi:  # Textual's own stylesheet refers to these in ANSI mode
            variables.setdefault("ansi-background", "ansi_black" if self.dark else "ansi_white")
            variables.setdefault("ansi-foreground", "ansi_white" if self.dark else "ansi_black")
        return Theme(name=self.name, dark=self.dark, ansi=self.ansi, variables=variables, **colours)


@dataclass(frozen=True)
class LoadedTheme:
    theme: Theme
    chart: ChartColors


def bundled_theme_dir() -> Path:
    """The themes that ship with tui-trainer: inside the installed package, or in a checkout."""
    packaged = Path(str(resources.files("tui_trainer"))) / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "themes"


def user_theme_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "tui-trainer" / "themes"


def load_themes(folders: list[Path]) -> tuple[list[LoadedTheme], list[str]]:
    """Every valid theme in `folders` (later folders win on a name clash), and a line per bad file."""
    loaded: dict[str, LoadedTheme] = {}
    problems: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            problem, theme = _load_theme(path)
            if theme is None:
                problems.append(f"theme {path.name}: {problem}")
            else:
                loaded[theme.theme.name] = theme
    return list(loaded.values()), problems


def _load_theme(path: Path) -> tuple[str, LoadedTheme | None]:
    """One theme file, or what is wrong with it. Only a regular file of sane size is opened: a
    FIFO would block, a link to /dev/zero never ends."""
    try:
        readable_file(str(path))
        if path.stat().st_size > THEME_MAX_BYTES:
            return f"is {path.stat().st_size} bytes, too big for a theme (at most {THEME_MAX_BYTES})", None
        with open(path, "rb") as file:  # read at most the limit: the file may grow meanwhile
            raw = file.read(THEME_MAX_BYTES + 1)
        if len(raw) > THEME_MAX_BYTES:
            return f"is bigger than {THEME_MAX_BYTES} bytes, too big for a theme", None
        theme_file = ThemeFile.model_validate(tomllib.loads(raw.decode("utf-8")))
    except DataError as error:  # not a regular file: the message names the file and its kind
        return str(error).removeprefix(f"{path}: "), None
    except (OSError, UnicodeDecodeError) as error:
        return f"cannot be read ({error})", None
    except tomllib.TOMLDecodeError as error:
        return f"is not valid TOML ({error})", None
    except RecursionError:
        return "is not valid TOML (nested too deeply)", None
    except ValidationError as error:
        return "; ".join(explain(error, model=ThemeFile)), None
    return "", LoadedTheme(theme_file.to_theme(), theme_file.chart)
