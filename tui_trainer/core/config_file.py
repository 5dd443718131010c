"""Run settings as a TOML file: read one (`--config`), write one (a run folder, `tui-trainer config`).

The file mirrors `RunConfig` itself: the run's own settings at the top, then one table per nested
model (`[optimizer]`, `[data]`, `[experiments]`, and whatever the models grow next). Nothing here
lists a field by hand: the writer walks the pydantic models, and the reader hands the tables to
them, so a new setting is in the files the moment it is in the models.

Standard library and pydantic only (no torch): the app reads a config file before its first frame.
"""

from __future__ import annotations

import re
import tomllib
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from .config import RunConfig
from .errors import ConfigError
from .files import FileProblem, readable_file
from .validation import explain

MAX_BYTES = 1 << 20  # a settings file is a few KB; more is not one


def read_config_file(name: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The settings in a TOML file, as the nested dict `RunConfig` takes (unchecked), and the line
    of each key. A file that cannot be read or is not TOML raises ConfigError in one line (with
    TOML's own line and column)."""
    try:
        path = readable_file(name)
    except FileProblem as problem:
        raise ConfigError(f"--config {problem}") from None
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(f"--config {name}: is over {MAX_BYTES >> 20} MB, too big to be a settings file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"--config {name}: is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"--config {name}: cannot be read ({error.strerror or error})") from None
    try:
        return tomllib.loads(text), key_lines(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"--config {name}: not valid TOML: {error}") from None


def key_lines(text: str) -> dict[str, int]:
    """The line (1-based) where each `key = value` of a TOML text is, by dotted path
    (`optimizer.lr`), so that an error can point at it. Plain and quoted keys of tables and
    dotted keys; anything fancier is simply not found (the message then names only the key)."""
    found: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([A-Za-z0-9_.\-\" ]+?)\s*\]", stripped)
        if header and not stripped.startswith("[["):
            table = _dotted(header.group(1))
            found.setdefault(table, number)
            continue
        key = re.match(r'^([A-Za-z0-9_\-."\' ]+?)\s*=', stripped)
        if key:
            path = _dotted(key.group(1))
            found.setdefault(f"{table}.{path}" if table else path, number)
    return found


def _dotted(key: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in key.split("."))


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`base` with `override` on top, table by table (a flag replaces one key of the file)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"optimizer": {"lr": 0.1}} -> {"optimizer.lr": 0.1}."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def run_config(file: str | None, flags: dict[str, Any], flag_names: dict[str, str]) -> RunConfig:
    """The run's settings: the file's (if any), with the flags' on top, checked as a whole. A bad
    value raises ConfigError in one line naming it: by its flag when a flag gave it, else by its
    key in the file and the key's line there."""
    from_file, lines = read_config_file(file) if file is not None else ({}, {})
    given = flatten(flags)
    names = {path: name for path, name in flag_names.items() if path in given}
    for path in [*flatten(from_file), *_tables(from_file)]:
        if path not in names:
            line = lines.get(path)
            names[path] = f"--config {file}, line {line}: {path}" if line else f"--config {file}: {path}"
    merged = merge(from_file, flags)
    _check_tables(RunConfig, merged, "", names)
    try:
        return RunConfig.model_validate(merged)
    except ValidationError as error:
        raise ConfigError("; ".join(explain(error, names, RunConfig))) from None


def _check_tables(model: type[BaseModel], values: dict[str, Any], prefix: str, names: dict[str, str]) -> None:
    """A nested model's key must hold a table: say so by name (pydantic's words would not)."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and name in values:
            path = f"{prefix}{name}"
            if not isinstance(values[name], dict):
                raise ConfigError(f"{names.get(path, path)}: must be a table ([{path}]) of settings, got {values[name]!r}")
            _check_tables(annotation, values[name], f"{path}.", names)


def _tables(values: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key, value in values.items():
        if isinstance(value, dict):
            found.append(f"{prefix}{key}")
            found += _tables(value, f"{prefix}{key}.")
    return found


# --- writing -------------------------------------------------------------------------------


def dump_config(run: RunConfig, title: str = "tui-trainer run settings") -> str:
    """Every setting of `run` as commented TOML that `--config` reads back to the same run.

    A setting that was given or differs from its default is written as a value; one left at its
    default is written commented out, with that default, so the file shows every setting (and a
    CSV run's file does not set synthetic-only settings, which the data model would refuse).
    Settings with no value (None: a hyperparameter this algorithm does not use) are commented.
    """
    lines = [
        f"# {title}",
        "# Load with: tui-trainer train --config FILE (flags given as well override the file).",
        "# A line commented out shows a setting at its default: remove the # to change it.",
        "",
    ]
    lines += _model_lines(run, "")
    return "\n".join(lines).rstrip("\n") + "\n"


def _model_lines(model: BaseModel, table: str) -> list[str]:
    fields = type(model).model_fields
    values = model.model_dump(mode="json")
    plain, nested = [], []
    for name, field in fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            nested.append((name, value, field.description or (type(value).__doc__ or "").strip().splitlines()[0]))
            continue
        comment = [f"# {line}" for line in (field.description or "").splitlines()]
        default = field.get_default(call_default_factory=True) if not field.is_required() else None
        shown = values[name]
        if shown is None:
            plain += [*comment, f"# {name} =   (not set)", ""]
        elif name in model.model_fields_set or _differs(value, default):
            plain += [*comment, f"{name} = {toml_value(shown)}", ""]
        else:
            plain += [*comment, f"# {name} = {toml_value(shown)}", ""]
    out = plain
    for name, value, description in nested:
        path = f"{table}.{name}" if table else name
        out += [f"# {description}" if description else f"# {path}", f"[{path}]", ""]
        out += _model_lines(value, path)
    return out


def _differs(value: Any, default: Any) -> bool:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(default, Enum):
        default = default.value
    return bool(value != default)


def toml_value(value: Any) -> str:
    """A JSON-mode value (str, int, float, bool, list) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if text in ("inf", "-inf", "nan"):
            return text  # TOML has them too; the settings refuse them, naming the key
        return text
    if isinstance(value, str):
        return '"' + "".join(_escaped(c) for c in value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char
