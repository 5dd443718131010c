"""pydantic's errors as plain lines a person can act on. Knows no particular model."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ValidationError


def explain(
    error: ValidationError, names: dict[str, str] | None = None, model: type[BaseModel] | None = None
) -> list[str]:
    """Turn a pydantic error into plain lines: `<name>: <what is wrong>`.

    `names` maps a field path such as `optimizer.lr` to what the person knows it as (a CLI flag,
    a form label); unmapped paths are shown as they are. With `model` (the validated class), a
    check across fields of a nested model is told apart from a field's own problem, and the field
    names inside its message are replaced by their `names` too.
    """
    names = names or {}
    lines = []
    for path, message, _ in _problems(error):
        if path and not _is_model_path(model, path):
            lines.append(f"{names.get(path, path)}: {message}")
            continue
        prefix = f"{path}." if path else ""
        for field_path, label in names.items():
            rest = field_path[len(prefix) :]
            if field_path.startswith(prefix) and "." not in rest:
                message = re.sub(rf"\b{re.escape(rest)}\b", label, message)
        lines.append(message)
    return lines


def _is_model_path(model: type[BaseModel] | None, path: str) -> bool:
    """Whether `path` leads to a nested model (its errors are checks across its fields)."""
    for part in path.split("."):
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return False
        model = field.annotation if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel) else None
    return model is not None


def field_errors(error: ValidationError) -> dict[str, str]:
    """The first problem of each field, by path (`optimizer.lr`); checks across fields are keyed
    by the model they belong to (`data`, or `` for the whole run)."""
    found: dict[str, str] = {}
    for path, message, _ in _problems(error):
        found.setdefault(path, message)
    return found


def _problems(error: ValidationError) -> Iterator[tuple[str, str, str]]:
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"] if not isinstance(part, int))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "enum":
            message = f"must be one of {item['ctx']['expected']}, got {item['input']!r}"
        elif item["type"] == "extra_forbidden":
            message = "is not a setting"
        yield path, message, item["type"]
