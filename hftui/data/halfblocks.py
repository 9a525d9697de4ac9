"""Shrink an image cell to a few terminal cells: each cell shows two pixels, one above the other.

The UI draws each cell as `▀` with the upper pixel as foreground and the lower as background, so a 40x20
cell box holds a 40x40 pixel thumbnail. This module only turns pixels into rows of colour pairs; it takes
what `datasets` yields (a PIL image, or `{"bytes", "path"}` when images are not decoded) and never raises.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RGB = tuple[int, int, int]

UPPER_HALF = "▀"
MAX_WIDTH = 40  # cells
MAX_HEIGHT = 20  # cells, so twice as many pixel rows


@dataclass(frozen=True)
class HalfBlockImage:
    """A thumbnail as rows of (upper, lower) colour pairs; `lower` is None on the last row of an odd height.

    `size` and `mode` are the original image's, for the text beside the picture.
    """

    rows: tuple[tuple[tuple[RGB, RGB | None], ...], ...]
    size: tuple[int, int]
    mode: str

    @property
    def width(self) -> int:
        """Width in terminal cells."""
        return len(self.rows[0]) if self.rows else 0

    @property
    def height(self) -> int:
        """Height in terminal cells."""
        return len(self.rows)

    @property
    def caption(self) -> str:
        """`image 640x480 RGB`: what is shown when colour is not available."""
        return f"image {self.size[0]}x{self.size[1]} {self.mode}"


def open_image(value: object) -> Any | None:
    """A PIL image from a decoded image or a `{"bytes", "path"}` cell; None when the value holds no readable image.

    Paths are not opened: a path in a streamed row names a file inside the remote archive, not one on disk.
    """
    if hasattr(value, "size") and hasattr(value, "mode") and hasattr(value, "getbands"):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("bytes"), bytes | bytearray):
        try:
            from PIL import Image

            return Image.open(io.BytesIO(value["bytes"]))
        except Exception:  # not an image PIL can read: the caller falls back to the description
            return None
    return None


def half_blocks(value: object, *, max_width: int = MAX_WIDTH, max_height: int = MAX_HEIGHT) -> HalfBlockImage | None:
    """Fit an image cell into `max_width` x `max_height` terminal cells, keeping its aspect ratio."""
    image = open_image(value)
    if image is None:
        return None
    try:
        size, mode = tuple(image.size), str(image.mode)
        # thumbnail() changes the image in place and a decoded cell belongs to the caller's row: shrink a copy.
        decoded_here = image is not value  # a named test: inline, `is` would narrow `image` to object for mypy
        thumb = image if decoded_here else image.copy()
        thumb.thumbnail((max(max_width, 1), max(max_height, 1) * 2))
        pixels = _rgb(thumb)
        width, height = pixels.size
        data = list(pixels.getdata())
    except Exception:  # truncated files, exotic modes, decompression-bomb guards: no picture, still a caption
        return None
    rows = []
    for top in range(0, height, 2):
        upper = data[top * width : (top + 1) * width]
        lower: list[RGB | None] = list(data[(top + 1) * width : (top + 2) * width]) if top + 1 < height else []
        lower += [None] * (width - len(lower))
        rows.append(tuple(zip(upper, lower, strict=True)))
    return HalfBlockImage(tuple(rows), (int(size[0]), int(size[1])), mode)


def _rgb(image: Any) -> Any:
    """The image as 8-bit RGB; transparency is laid over black so transparent pixels read as dark."""
    from PIL import Image

    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in {"I", "I;16", "I;16B", "I;16L", "F"}:
        # 16/32-bit greyscale: scale into 0..255, else convert() clips nearly everything to white.
        low, high = image.getextrema()
        span = (high - low) or 1
        return image.point(lambda value: (value - low) * 255 / span).convert("L").convert("RGB")
    return image.convert("RGB")
