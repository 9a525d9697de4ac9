"""CurvePlot rendered as text: where a line's dots land, labels and legend, bad points, bounded drawing."""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region

from hftui.ui.widgets.curve_plot import NO_DATA, CurvePlot

BRAILLE = range(0x2800, 0x2900)


class PlotApp(App[None]):
    """One CurvePlot filling the screen (however small)."""

    CSS = "CurvePlot { min-height: 1; }"

    def compose(self) -> ComposeResult:
        yield CurvePlot("Loss", id="plot")


def lines_of(plot: CurvePlot) -> list[str]:
    """The widget's lines as text."""
    width, height = plot.size
    return [strip.text for strip in plot.render_lines(Region(0, 0, width, height))]


def dots(line: str) -> list[int]:
    """The columns of a line holding braille dots (blank braille excluded)."""
    return [i for i, ch in enumerate(line) if ord(ch) in BRAILLE and ord(ch) != 0x2800]


async def drawn(series: dict, *, size: tuple[int, int] = (40, 12), log_y: bool = False) -> tuple[CurvePlot, list[str]]:
    """Show `series` in a plot of `size` and return the plot and its lines."""
    app = PlotApp()
    async with app.run_test(size=size) as pilot:
        plot = app.query_one(CurvePlot)
        plot.show(series, log_y=log_y)
        await pilot.pause()
        return plot, lines_of(plot)


async def test_empty_mapping_says_no_data() -> None:
    _, lines = await drawn({})
    text = "\n".join(lines)
    assert NO_DATA in text
    assert not any(dots(line) for line in lines)


async def test_rising_line_goes_from_bottom_left_to_top_right_with_labels_and_legend() -> None:
    _, lines = await drawn({"loss": [(float(x), float(x)) for x in range(0, 101)]})
    assert "Loss" in lines[0] and "loss 100" in lines[0]
    body = lines[1:-1]
    assert body[0].lstrip().startswith("100┤") and body[-1].lstrip().startswith("0┤")
    first_row, last_row = dots(body[0]), dots(body[-1])
    assert first_row and last_row
    # The top row's dots sit at the right, the bottom row's at the left.
    assert min(first_row) > max(last_row)
    assert max(first_row) == len(body[0].rstrip()) - 1
    # Every plot row has dots: the line is joined.
    assert all(dots(row) for row in body)
    x_axis = lines[-1].split()
    assert x_axis == ["0", "100"]


async def test_falling_line_goes_top_left_to_bottom_right() -> None:
    _, lines = await drawn({"loss": [(float(x), 10.0 - x) for x in range(11)]})
    body = lines[1:-1]
    assert max(dots(body[0])) < min(dots(body[-1]))


async def test_non_finite_points_are_skipped() -> None:
    points = [(0.0, 1.0), (1.0, math.nan), (2.0, math.inf), (3.0, 2.0), (math.nan, 5.0)]
    plot, lines = await drawn({"loss": points})
    assert plot.drawn == {"loss": 2}
    body = lines[1:-1]
    # The y range is that of the finite points: 1 to 2.
    assert body[0].lstrip().startswith("2┤") and body[-1].lstrip().startswith("1┤")
    assert "nan" not in "\n".join(lines) and "inf" not in "\n".join(lines)


async def test_one_point_and_flat_series_draw_without_error() -> None:
    _, lines = await drawn({"loss": [(5.0, 0.7)]})
    assert sum(len(dots(line)) for line in lines) == 1
    assert lines[-1].split() == ["5", "5"]
    _, lines = await drawn({"lr": [(float(x), 3.0) for x in range(50)]})
    rows_with_dots = [i for i, line in enumerate(lines) if dots(line)]
    # A flat series is one horizontal line in the middle of the plot.
    assert len(rows_with_dots) == 1 and 1 < rows_with_dots[0] < len(lines) - 2


async def test_huge_series_is_cut_to_the_width() -> None:
    points = [(float(x), math.sin(x / 1000)) for x in range(200_000)]
    plot, lines = await drawn({"loss": points}, size=(60, 10))
    assert plot.drawn["loss"] <= 4 * 60
    assert all(len(line) <= 60 for line in lines)
    assert lines[-1].split() == ["0", "199999"]


async def test_two_series_have_distinct_colours_and_a_legend_each() -> None:
    app = PlotApp()
    async with app.run_test(size=(50, 12)) as pilot:
        plot = app.query_one(CurvePlot)
        plot.show({"loss": [(0, 2.0), (10, 1.0)], "eval_loss": [(5, 1.5), (10, 1.2)]})
        await pilot.pause()
        strips = plot.render_lines(Region(0, 0, 50, 12))
        assert "loss 1 " in strips[0].text and "eval_loss 1.2" in strips[0].text
        colours = {
            segment.style.color
            for strip in strips[1:-1]
            for segment in strip
            if any(ord(ch) in BRAILLE for ch in segment.text) and segment.style
        }
        assert len(colours) == 2


async def test_log_y_labels_values_and_skips_non_positive() -> None:
    plot, lines = await drawn({"loss": [(0, 1000.0), (1, 0.0), (2, -1.0), (3, 0.1)]}, log_y=True)
    assert plot.drawn == {"loss": 2}
    body = lines[1:-1]
    assert body[0].lstrip().startswith("1e+03┤") and body[-1].lstrip().startswith("0.1┤")


@pytest.mark.parametrize("size", [(10, 3), (12, 1), (80, 5)])
async def test_small_sizes_render(size: tuple[int, int]) -> None:
    _, lines = await drawn({"loss": [(float(x), float(x % 7)) for x in range(30)]}, size=size)
    assert len(lines) == size[1]
    assert all(len(line) == size[0] for line in lines)


async def test_series_names_and_the_title_are_shown_inert() -> None:
    # Run ids and TensorBoard tags come from folder and file names: escapes must not reach the terminal.
    app = PlotApp()
    async with app.run_test(size=(60, 8)) as pilot:
        plot = app.query_one(CurvePlot)
        plot.title = "\x1b[2Jtitle"
        plot.show({"run\x1b]8;;http://x\x07": [(0.0, 1.0), (1.0, 2.0)]})
        await pilot.pause()
        text = "\n".join(lines_of(plot))
        assert "\x1b" not in text and "\x07" not in text
        assert "\\x1b[2Jtitle" in text and "run\\x1b]8;;http://x\\x07" in text
