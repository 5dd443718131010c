"""`tui-trainer runs [ROOT]`: a table of the run folders under ROOT (default `runs/`).

Read from each folder's summary.json alone (no torch, so it answers at once): name, algorithm,
state, steps, final loss, and when the folder last changed. A run whose last summary was written
while it trained (it is training still, or was killed) shows as `unfinished`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .exits import EXIT_OK, fail

DEFAULT_ROOT = "runs"


def list_runs(root: str | None) -> int:
    path = Path(root or DEFAULT_ROOT).expanduser()
    if not path.is_dir():
        fail(f"{root or DEFAULT_ROOT}: no such folder" if not path.exists() else f"{root}: is not a folder")
    rows = [_row(folder, path) for folder in _folders(path)]
    if not rows:
        print(f"no run folders under {path} (tui-trainer train --save {path}/NAME makes one)")
        return EXIT_OK
    rows.sort(key=lambda row: row[-1])
    headers = ("name", "algorithm", "state", "steps", "final loss", "when")
    table = [headers, *[(*row[:-1], time.strftime("%Y-%m-%d %H:%M", time.localtime(row[-1]))) for row in rows]]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(headers))]
    right = {3, 4}
    for line in table:
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [str(cell).rjust(width) if i in right else str(cell).ljust(width) for i, (cell, width) in pairs]
        print("  ".join(cells).rstrip())
    return EXIT_OK


def _folders(root: Path) -> list[Path]:
    """The run folders in ROOT and below (a folder with a config.toml is one; its insides are not searched)."""
    found = []
    for config in sorted(root.rglob("config.toml")):
        folder = config.parent
        if not any(parent in found for parent in folder.parents):
            found.append(folder)
    return found


def _row(folder: Path, root: Path) -> tuple[str, str, str, str, str, float]:
    name = str(folder.relative_to(root)) if folder != root else folder.name
    when = max((f.stat().st_mtime for f in folder.iterdir() if f.is_file()), default=folder.stat().st_mtime)
    summary = _read(folder / "summary.json")
    if summary is None:
        return name, "?", "no checkpoint yet", "0", "n/a", when
    if "entries" in summary:  # a race
        entries = summary["entries"]
        losses = [e["final_loss"] for e in entries if e.get("final_loss") is not None]
        best = f"{min(losses):.6g}" if losses else "n/a"
        state = "STOPPED" if summary.get("interrupted") else "DONE"
        steps = sum(int(e.get("steps", 0)) for e in entries)
        return name, f"race of {len(entries)}", state, f"{steps:,}", best, when
    state = str(summary.get("state", "?"))
    if state in ("RUNNING", "PAUSED", "IDLE"):
        state = "unfinished"
    loss = summary.get("final_loss")
    shown = "n/a" if loss is None else f"{loss:.6g}"
    return name, str(summary.get("algorithm", "?")), state, f"{int(summary.get('steps', 0)):,}", shown, when


def _read(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
