"""Image cells drawn with half blocks, and the preview's full-value view for every kind of cell."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from textual.widgets import Static

from hftui.app import HfTuiApp
from hftui.data.cells import full_value
from hftui.data.halfblocks import UPPER_HALF, half_blocks
from hftui.data.sampler import SampleSource
from hftui.hub.settings import HubSettings, read_token_status
from hftui.ui.browse.dataset_preview import DatasetPreviewScreen
from tests.pilot import screen_text, wait_until

RED, BLUE = (255, 0, 0), (0, 0, 255)


def two_colours(width: int = 8, height: int = 8, red_rows: int = 3) -> Image.Image:
    """Red on top (`red_rows` pixel rows), blue below."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width, red_rows))
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_pixels_pair_up_upper_over_lower() -> None:
    picture = half_blocks(two_colours())
    assert picture is not None
    assert (picture.width, picture.height) == (8, 4)
    assert picture.rows[0][0] == (RED, RED)
    assert picture.rows[1][0] == (RED, BLUE)  # pixel rows 2 (red) and 3 (blue) share a cell
    assert picture.rows[3][7] == (BLUE, BLUE)
    assert picture.caption == "image 8x8 RGB"


def test_odd_height_leaves_the_last_lower_half_empty() -> None:
    picture = half_blocks(Image.new("L", (3, 5), 255))
    assert picture is not None and picture.height == 3
    assert picture.rows[-1] == (((255, 255, 255), None),) * 3


def test_large_images_fit_the_box_and_keep_their_aspect() -> None:
    image = Image.new("RGB", (640, 480))
    picture = half_blocks(image, max_width=40, max_height=20)
    assert picture is not None
    assert picture.width == 40 and picture.height == 15  # 40x30 pixels, two per cell vertically
    assert image.size == (640, 480)  # the row's own image is not shrunk in place
    tall = half_blocks(Image.new("RGB", (100, 1000)), max_width=40, max_height=20)
    assert tall is not None and tall.height == 20 and tall.width == 4
    assert tall.caption == "image 100x1000 RGB"


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "1", "CMYK", "I;16", "F"])
def test_every_image_mode_becomes_rgb(mode: str) -> None:
    picture = half_blocks(Image.new(mode, (6, 4)))
    assert picture is not None and picture.caption == f"image 6x4 {mode}"
    assert all(len(colour) == 3 for row in picture.rows for pair in row for colour in pair if colour)


def test_transparent_pixels_read_as_dark() -> None:
    picture = half_blocks(Image.new("RGBA", (2, 2), (255, 255, 255, 0)))
    assert picture is not None and picture.rows[0][0] == ((0, 0, 0), (0, 0, 0))


def test_encoded_images_and_non_images() -> None:
    picture = half_blocks({"bytes": png(two_colours()), "path": "cat.png"})
    assert picture is not None and picture.rows[1][0] == (RED, BLUE)
    assert half_blocks({"bytes": b"not an image", "path": None}) is None
    assert half_blocks({"bytes": None, "path": "/etc/passwd"}) is None  # paths are never opened
    assert half_blocks("text") is None and half_blocks(None) is None and half_blocks(7) is None


def test_full_value_of_every_kind() -> None:
    image = two_colours()
    label = {"_type": "ClassLabel", "names": ["neg", "pos"]}
    cases = {
        "∅": full_value(None),
        "x" * 5000: full_value("x" * 5000),  # long text, whole
        "1 (pos)": full_value(1, label),
        "image 8x8 RGB": full_value(image),
        "image 8x8 RGB (cat.png)": full_value({"bytes": png(image), "path": "cat.png"}),
        "audio 0.50 s @ 16000 Hz (a.wav)": full_value(
            {"array": np.zeros(8000), "sampling_rate": 16000, "path": "a.wav"}
        ),
        "audio 1.00 s @ 8000 Hz, 2 channels": full_value({"array": np.zeros((2, 8000)), "sampling_rate": 8000}),
        "<3 bytes>": full_value(b"abc"),
        "2.5": full_value(2.5),
    }
    for expected, shown in cases.items():
        assert shown == expected
    nested = full_value({"tokens": ["a", "b"], "spans": [{"start": 0, "image": image}]})
    assert json.loads(nested) == {"tokens": ["a", "b"], "spans": [{"start": 0, "image": "image 8x8 RGB"}]}
    assert json.loads(full_value(np.arange(4).reshape(2, 2))) == [[0, 1], [2, 3]]


def make_app(tmp_path: Path) -> HfTuiApp:
    cache = tmp_path / "hub"
    return HfTuiApp(HubSettings("http://127.0.0.1:9", cache.parent, cache, True, read_token_status()))


def image_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    two_colours().save(folder / "a.png")
    Image.new("L", (30, 10), 128).save(folder / "b.png")
    return folder


async def open_first_row(app: HfTuiApp, pilot, folder: Path) -> DatasetPreviewScreen:
    screen = DatasetPreviewScreen(SampleSource("local", str(folder)))
    app.push_screen(screen)
    await wait_until(pilot, lambda: not screen.streaming and len(screen.rows) == 2, timeout=30)
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.query_one("#preview-detail").display)
    return screen


async def test_enter_on_an_image_row_draws_the_picture(tmp_path: Path) -> None:
    folder = image_folder(tmp_path / "images")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_row(app, pilot, folder)
        assert app.focused is screen.query_one("#preview-detail")
        text, segments = screen_text(app)
        assert "image 8x8 RGB" in text
        blocks = [segment for segment in segments if UPPER_HALF in segment.text]
        assert blocks, "no picture drawn"
        pairs = {
            (segment.style.color.triplet, segment.style.bgcolor.triplet if segment.style.bgcolor else None)
            for segment in blocks
            if segment.style and segment.style.color and segment.style.color.triplet
        }
        assert (RED, BLUE) in pairs and (BLUE, BLUE) in pairs
        await pilot.press("escape")  # closes the view, back on the table
        assert not screen.query_one("#preview-detail").display
        assert app.focused is screen.query_one("#preview-table")


async def test_no_color_shows_size_and_mode_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    folder = image_folder(tmp_path / "images")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_row(app, pilot, folder)
        shown = str(screen.query_one("#preview-detail-text", Static).render())
        assert "image 8x8 RGB" in shown
        assert UPPER_HALF not in shown
