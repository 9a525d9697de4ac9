"""Curves drawn in the terminal with braille dots: one line per named series, axis labels and a legend.

The cost of a frame is bounded by the widget's size, never by the number of points: `show` keeps the finite
points, each series is downsampled (min/max buckets, so spikes survive) to twice the plot's dot columns,
and the drawn lines are cached until the data, the size or the theme changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from hftui.hub.plain_text import printable
from hftui.train.series import downsample

Point = tuple[float, float]

SERIES_CLASSES = tuple(f"curve-plot--series-{i}" for i in range(6))
# Braille dot bits by (column, row) inside one 2 x 4 cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_BRAILLE = 0x2800
NO_DATA = "no data yet"
COMPONENTS = ("curve-plot--title", "curve-plot--axis", *SERIES_CLASSES)


def _label(value: float, log_y: bool) -> str:
    """A short axis number (the log axis is labelled with the value, not its logarithm)."""
    if log_y:
        value = 10.0**value
    if value == 0:
        return "0"
    return f"{value:.3g}"


def _x_label(value: float) -> str:
    """A step as an integer, anything else in a few digits."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e12 else f"{value:.4g}"


def _finite_points(points: Sequence[tuple[float, float]], log_y: bool) -> list[Point]:
    """The drawable points: finite x and y (and y > 0 on a log axis, drawn as its logarithm)."""
    out: list[Point] = []
    for x, y in points:
        try:
            fx, fy = float(x), float(y)
        except (TypeError, ValueError):
            continue
        if not (math.isfinite(fx) and math.isfinite(fy)):
            continue
        if log_y:
            if fy <= 0:
                continue
            fy = math.log10(fy)
        out.append((fx, fy))
    return out


class CurvePlot(Widget):
    """A small line plot of named series (braille dots, theme colours), with y min/max, x range and legend."""

    DEFAULT_CSS = """
    CurvePlot { height: 1fr; min-height: 5; }
    CurvePlot > .curve-plot--title { text-style: bold; }
    CurvePlot > .curve-plot--axis { color: $text-muted; }
    CurvePlot > .curve-plot--series-0 { color: $primary; }
    CurvePlot > .curve-plot--series-1 { color: $warning; }
    CurvePlot > .curve-plot--series-2 { color: $success; }
    CurvePlot > .curve-plot--series-3 { color: $accent; }
    CurvePlot > .curve-plot--series-4 { color: $error; }
    CurvePlot > .curve-plot--series-5 { color: $secondary; }
    """
    COMPONENT_CLASSES = set(COMPONENTS)

    def __init__(self, title: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.log_y = False
        self._series: dict[str, list[Point]] = {}
        self._latest: dict[str, float | None] = {}
        self._cache_key: tuple[object, ...] | None = None
        self._lines: list[Strip] = []
        self._version = 0
        # (x min, x max, y min, y max) of the finite points, and each series downsampled per plot width:
        # both computed once per `show`, so a redraw costs what the widget's size does.
        self._bounds = (0.0, 1.0, 0.0, 1.0)
        self._sampled: dict[int, dict[str, list[Point]]] = {}
        self._style_cache: tuple[object, tuple[Style, dict[str, Style]]] | None = None
        # How many points the last frame drew per series (tests check it is bounded by the width).
        self.drawn: dict[str, int] = {}

    def show(self, series: Mapping[str, Sequence[tuple[float, float]]], *, log_y: bool = False) -> None:
        """Replace what is drawn: one line per named series; an empty mapping draws "no data yet"."""
        self.log_y = log_y
        self._series = {str(name): _finite_points(points, log_y) for name, points in series.items()}
        self._latest = {}
        for name, points in series.items():
            finite = [float(y) for _, y in points if isinstance(y, int | float) and math.isfinite(y)]
            self._latest[str(name)] = finite[-1] if finite else None
        drawable = [pts for pts in self._series.values() if pts]
        if drawable:
            self._bounds = (
                min(min(p[0] for p in pts) for pts in drawable),
                max(max(p[0] for p in pts) for pts in drawable),
                min(min(p[1] for p in pts) for pts in drawable),
                max(max(p[1] for p in pts) for pts in drawable),
            )
        self._sampled.clear()
        self._version += 1
        self.refresh()

    @property
    def has_data(self) -> bool:
        """Whether any series has a point to draw."""
        return any(self._series.values())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache_key = None
        self._style_cache = None

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        key = (width, height, self._version, self.app.theme)
        if key != self._cache_key:
            self._lines = self._draw(width, height)
            self._cache_key = key
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(width, self.rich_style)

    def _styles(self) -> tuple[Style, dict[str, Style]]:
        """The base style and each component's, looked up once per frame (each lookup walks the DOM)."""
        theme = self.app.theme
        if self._style_cache is None or self._style_cache[0] != theme:
            base = self.rich_style
            styles = {name: base + self.get_component_rich_style(name, partial=True) for name in COMPONENTS}
            self._style_cache = (theme, (base, styles))
        return self._style_cache[1]

    @staticmethod
    def _text_line(parts: list[tuple[str, Style]], width: int, base: Style) -> Strip:
        segments = [Segment(text, style) for text, style in parts if text]
        return Strip(segments).crop_extend(0, width, base)

    def _legend(self, width: int, base: Style, styles: dict[str, Style]) -> Strip:
        parts: list[tuple[str, Style]] = []
        if self.title:
            parts.append((printable(self.title, single_line=True) + "  ", styles["curve-plot--title"]))
        for index, name in enumerate(self._series):
            latest = self._latest.get(name)
            value = f" {latest:.4g}" if latest is not None else ""
            parts.append(("━ ", styles[SERIES_CLASSES[index % len(SERIES_CLASSES)]]))
            # Series are named by run ids and TensorBoard tags: folder and file text, shown inert.
            parts.append((f"{printable(name, single_line=True)}{value}  ", base))
        return self._text_line(parts, width, base)

    def _draw(self, width: int, height: int) -> list[Strip]:
        """Every line of the widget at this size."""
        if width <= 0 or height <= 0:
            return []
        base, styles = self._styles()
        series_styles = [styles[name] for name in SERIES_CLASSES]
        lines = [self._legend(width, base, styles)]
        axis = styles["curve-plot--axis"]
        points = {name: pts for name, pts in self._series.items() if pts}
        if not points:
            self.drawn = {}
            message = NO_DATA.center(width)
            body = [self._text_line([(message, axis)], width, base)] if height > 1 else []
            lines += body
            while len(lines) < height:
                lines.append(Strip.blank(width, base))
            return lines[:height]
        x_low, x_high, y_low, y_high = self._bounds
        x_first, x_last = x_low, x_high
        top_label, bottom_label = _label(y_high, self.log_y), _label(y_low, self.log_y)
        gutter = max(cell_len(top_label), cell_len(bottom_label)) + 1
        plot_width = max(1, width - gutter)
        # Legend above, x range below; a widget of 2 lines or fewer keeps just the plot rows it has.
        plot_height = max(1, height - 2)
        if x_high == x_low:
            x_low, x_high = x_low - 0.5, x_high + 0.5
        if y_high == y_low:
            y_low, y_high = y_low - 0.5, y_high + 0.5
        dot_cols, dot_rows = plot_width * 2, plot_height * 4
        cells = [[0] * plot_width for _ in range(plot_height)]
        owner: list[list[int | None]] = [[None] * plot_width for _ in range(plot_height)]
        self.drawn = {}
        per_width = self._sampled.get(dot_cols)
        if per_width is None:
            per_width = {name: downsample(pts, dot_cols * 2) for name, pts in points.items()}
            self._sampled[dot_cols] = per_width
        for index, name in enumerate(points):
            sampled = per_width[name]
            self.drawn[name] = len(sampled)
            previous: tuple[int, int] | None = None
            for x, y in sampled:
                col = round((x - x_low) / (x_high - x_low) * (dot_cols - 1))
                row = round((y_high - y) / (y_high - y_low) * (dot_rows - 1))
                col = min(max(col, 0), dot_cols - 1)
                row = min(max(row, 0), dot_rows - 1)
                for dc, dr in _segment(previous, (col, row)):
                    cell_row, cell_col = dr // 4, dc // 2
                    cells[cell_row][cell_col] |= _DOTS[dc % 2][dr % 4]
                    owner[cell_row][cell_col] = index
                previous = (col, row)
        for row in range(plot_height):
            if row == 0:
                label = top_label
            elif row == plot_height - 1:
                label = bottom_label
            else:
                label = ""
            segments = [Segment(label.rjust(gutter - 1) + "┤" if label else " " * (gutter - 1) + "│", axis)]
            # Runs of cells of one series (or blank) become one segment each.
            run: list[str] = []
            run_owner: int | None = -1
            for bits, who in zip(cells[row], owner[row], strict=True):
                who = who if bits else None
                if who != run_owner and run:
                    style = base if run_owner is None else series_styles[run_owner % len(series_styles)]
                    segments.append(Segment("".join(run), style))
                    run = []
                run_owner = who
                run.append(chr(_BRAILLE + bits) if bits else " ")
            if run:
                style = base if run_owner is None else series_styles[run_owner % len(series_styles)]
                segments.append(Segment("".join(run), style))
            lines.append(Strip(segments).crop_extend(0, width, base))
        if height >= 3:
            left, right = _x_label(x_first), _x_label(x_last)
            span = max(0, plot_width - cell_len(left) - cell_len(right))
            lines.append(self._text_line([(" " * gutter + left + " " * span + right, axis)], width, base))
        while len(lines) < height:
            lines.append(Strip.blank(width, base))
        return lines[:height]


def _segment(start: tuple[int, int] | None, end: tuple[int, int]) -> list[tuple[int, int]]:
    """The dots from `start` to `end` (Bresenham), so a line stays joined between distant points."""
    if start is None:
        return [end]
    x0, y0 = start
    x1, y1 = end
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    out = []
    while True:
        out.append((x0, y0))
        if x0 == x1 and y0 == y1:
            return out
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy
