"""A built plotext figure painted straight from its cells.

plotext writes its figure as an ANSI string, which textual-plotext parses back into a Rich Text
that Textual turns into its own content and then into lines: at 10+ redraws a second that round
trip cost about as much as building the figure. The figure's cells (a character and its
foreground, style and background each) become Textual lines here directly. Each combination of
colours is painted once through that same ANSI path, and its style reused, so a cell looks exactly
as before (tests/app/test_plot_cells.py checks the two agree).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.strip import Strip
from textual.visual import Visual, visualize

if TYPE_CHECKING:
    from textual.css.styles import RulesMap
    from textual.style import Style
    from textual.visual import RenderOptions
    from textual.widget import Widget

Colors = tuple[object, object, object]  # plotext's (foreground, style, background) of one cell
# resolved styles, by the widget's own style and a cell's colours; a handful per theme
_STYLES: dict[tuple[Style, Colors], RichStyle | None] = {}
_STYLES_LIMIT = 4096  # themes switched back and forth for hours must not grow it without end


def cell_style(widget: Widget, base: Style, options: RenderOptions, colors: Colors) -> RichStyle | None:
    """The style a cell of these colours gets through plotext's ANSI and Textual's text rendering."""
    key = (base, colors)
    if key not in _STYLES:
        from plotext._utility import ansi_end, colors_to_ansi  # type: ignore[import-untyped]  # plotext ships no types

        if len(_STYLES) > _STYLES_LIMIT:
            _STYLES.clear()
        text = Text.from_ansi(colors_to_ansi(*colors) + "x" + ansi_end)
        strips = visualize(widget, text).render_strips(1, 1, base, options)
        _STYLES[key] = next(iter(strips[0]), Segment("")).style
    return _STYLES[key]


@lru_cache(maxsize=8192)
def at_offset(style: RichStyle | None, x: int, y: int) -> RichStyle:
    """The style with the cell's place in the widget, as Textual's text rendering gives each
    run (its text selection reads it); the same places come back frame after frame."""
    return (style or RichStyle()) + RichStyle.from_meta({"offset": (x, y)})


class PlotCells(Visual):
    """The cells of a built plotext matrix (plotext's `matrix_class`), as a Textual visual."""

    def __init__(self, widget: Widget, matrix) -> None:
        self.widget = widget
        self.matrix = matrix

    def __str__(self) -> str:
        """The figure's characters, top line first (as plotext's text would read)."""
        return "\n".join("".join(self.matrix.marker[row]) for row in reversed(range(self.matrix.rows)))

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        matrix = self.matrix
        rows = list(range(matrix.rows))[::-1]  # plotext counts rows from the bottom
        if height is not None:
            rows = rows[:height]
        return [self._row(row, y, style, options) for y, row in enumerate(rows)]

    def _row(self, row: int, y: int, base: Style, options: RenderOptions) -> Strip:
        """One line: a segment per run of cells in the same colours (plotext's ANSI has one too)."""
        matrix, widget = self.matrix, self.widget
        markers = matrix.marker[row]
        colors = list(zip(matrix.fullground[row], matrix.style[row], matrix.background[row], strict=True))
        segments = []
        start = 0
        for end in range(1, len(colors) + 1):
            if end == len(colors) or colors[end] != colors[start]:
                style = at_offset(cell_style(widget, base, options, colors[start]), start, y)
                segments.append(Segment("".join(markers[start:end]), style))
                start = end
        return Strip(segments)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.matrix.cols

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.matrix.rows
