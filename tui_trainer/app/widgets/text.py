"""Updating a Static's text without needless layout passes.

A layout pass re-arranges and repaints every widget on screen, so a live run that asks for one on
every redraw spends much of the app's time there. Text that cannot change the widget's size (no
new line, every line fitting the width before and after) only needs its own repaint.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static


def show_text(static: Static, text: str, fixed_size: bool = False) -> None:
    """Set `static`'s text: nothing when unchanged, a layout pass only when its height could change
    (never for a widget whose CSS fixes its size, such as the one-line status bar)."""
    old = static.content
    if old == text:
        return
    static.update(text, layout=not (fixed_size or _same_shape(old, text, static.size.width)))


def _same_shape(old: object, new: str, width: int) -> bool:
    # raw lengths count markup too: an overestimate, so at worst a layout pass too many
    def fits(text: str) -> bool:
        return all(cell_len(line) <= width for line in text.split("\n"))

    return isinstance(old, str) and width > 0 and old.count("\n") == new.count("\n") and fits(old) and fits(new)


def same_cell(new: object, old: object) -> bool:
    """Whether a table cell would look the same: rich's Text compares its characters and spans
    but not its own style (a race entry's ● in a new theme's colour equals the old one)."""
    if isinstance(new, Text) and isinstance(old, Text):
        return new.plain == old.plain and new.style == old.style and new.spans == old.spans
    return new == old
