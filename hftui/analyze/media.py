"""Decoding analysis inputs: images to RGB PIL images, audio to mono float32 arrays at the model's rate.

Called inside a job, once per item, so a bad file becomes a `MediaError` (an error row) and not a crash.
PIL, numpy and soundfile are imported inside the functions: importing this module stays light.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from math import gcd
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


_EXIF_ORIENTATION = 0x0112


class MediaError(Exception):
    """An input that could not be decoded; the message says why in a sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _source_of(value: Any, kind: str) -> tuple[bytes | None, str | None]:
    """The bytes or the path an image or audio value carries (`{"bytes"|"path"}`, bytes, or a path)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), None
    if isinstance(value, (str, os.PathLike)):
        return None, os.fspath(value)
    if isinstance(value, Mapping):
        data = value.get("bytes")
        if isinstance(data, (bytes, bytearray, memoryview)) and len(data):
            return bytes(data), None
        path = value.get("path")
        if isinstance(path, (str, os.PathLike)) and os.fspath(path):
            return None, os.fspath(path)
        if data is not None:
            return bytes(data), None
    raise MediaError(f"is not {kind} hftui can read (got {type(value).__name__})")


def _check_file(path: str, kind: str) -> None:
    try:
        size = Path(path).stat().st_size
    except FileNotFoundError:
        raise MediaError(f"the {kind} file does not exist: {path}") from None
    except OSError as error:
        raise MediaError(f"the {kind} file cannot be read: {error.strerror or error}") from None
    if size == 0:
        raise MediaError(f"the {kind} file is empty (0 bytes)")


def load_image(value: Any, *, normalize: bool = True) -> Image.Image:
    """An RGB image from a path, bytes, `{"bytes"|"path"}` or a PIL image (a GIF gives its first frame).

    With `normalize=False` the decoded image comes back as stored (mode and EXIF orientation untouched): a
    transformers pipeline applies both itself, and doing it twice would copy every image twice more.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(value, Image.Image):
        image = value
    else:
        data, path = _source_of(value, "an image")
        if path is not None:
            _check_file(path, "image")
        elif not data:
            raise MediaError("the image is empty (0 bytes)")
        try:
            image = Image.open(io.BytesIO(data) if data is not None else path)
            image.load()  # open() is lazy: a truncated file fails only here
        except UnidentifiedImageError:
            raise MediaError("is not an image PIL can read (corrupt, or another format)") from None
        except Image.DecompressionBombError as error:
            raise MediaError(f"is too large to decode safely: {error}") from None
        except (OSError, SyntaxError, ValueError) as error:  # truncated data, bad chunks
            raise MediaError(f"is a damaged image: {error}") from None
    if not normalize:
        return image
    try:
        # Photos store their rotation in EXIF; pipelines apply it too, so results match theirs. Checked first
        # because exif_transpose copies even an upright image.
        if image.getexif().get(_EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image) or image
        if image.mode == "RGB":
            return image
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            return image.convert("RGBA").convert("RGB")
        return image.convert("RGB")
    except (OSError, ValueError) as error:
        raise MediaError(f"is a damaged image: {error}") from None


def load_audio(value: Any, sampling_rate: int) -> np.ndarray:
    """Mono float32 samples at `sampling_rate` from a path, bytes, `{"bytes"|"path"}` or `{"array", "sampling_rate"}`.

    Raises `MediaError` for an empty, unreadable or non-audio input.
    """
    import numpy as np

    if sampling_rate <= 0:
        raise ValueError(f"sampling_rate must be positive, not {sampling_rate}")
    if hasattr(value, "get_all_samples"):  # a torchcodec AudioDecoder, as datasets decodes Audio with torchcodec
        try:
            decoded = value.get_all_samples()
            value = {"array": decoded.data.numpy(), "sampling_rate": decoded.sample_rate}
        except Exception as error:
            raise MediaError(f"the audio could not be decoded: {error}") from None
    if isinstance(value, Mapping) and "array" in value and value.get("array") is not None:
        source_rate = value.get("sampling_rate")
        if not isinstance(source_rate, (int, float)) or source_rate <= 0:
            raise MediaError("the audio has no valid sampling rate")
        try:
            samples = np.asarray(value["array"], dtype=np.float32)
        except (TypeError, ValueError):
            raise MediaError("the audio array is not numeric") from None
        if samples.ndim == 2:
            # datasets gives (samples,), other tools (channels, samples) or (samples, channels): fewer is channels
            samples = samples.mean(axis=0 if samples.shape[0] < samples.shape[1] else 1)
        elif samples.ndim != 1:
            raise MediaError(f"the audio array has {samples.ndim} dimensions; expected 1 or 2")
        rate = int(source_rate)
    else:
        samples, rate = _read_audio_file(value)
    if samples.size == 0:
        raise MediaError("the audio has no samples")
    if not np.isfinite(samples).all():
        raise MediaError("the audio contains NaN or infinite samples")
    return resample(samples, rate, sampling_rate)


def _read_audio_file(value: Any) -> tuple[np.ndarray, int]:
    import soundfile

    data, path = _source_of(value, "audio")
    if path is not None:
        _check_file(path, "audio")
    elif not data:
        raise MediaError("the audio is empty (0 bytes)")
    try:
        samples, rate = soundfile.read(io.BytesIO(data) if data is not None else path, dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as error:
        raise MediaError(f"is not an audio file soundfile can read ({error.error_string})") from None
    except (RuntimeError, TypeError, ValueError, OSError) as error:
        raise MediaError(f"is not a readable audio file: {error}") from None
    if samples.shape[0] == 0:
        raise MediaError("the audio file has no samples")
    mono = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1)
    return mono, int(rate)


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """`samples` (mono float32) resampled from `source_rate` to `target_rate`.

    scipy's polyphase filter when scipy is installed (it is optional here), else linear interpolation, which
    aliases a little above the new Nyquist frequency but keeps speech recognisable.
    """
    import numpy as np

    if source_rate == target_rate:
        return np.ascontiguousarray(samples, dtype=np.float32)
    divisor = gcd(int(source_rate), int(target_rate))
    up, down = target_rate // divisor, source_rate // divisor
    try:
        from scipy.signal import resample_poly
    except ImportError:
        resample_poly = None
    if resample_poly is not None and max(up, down) <= 10_000:
        return np.asarray(resample_poly(samples, up, down), dtype=np.float32)
    count = max(1, round(len(samples) * target_rate / source_rate))
    positions = np.arange(count, dtype=np.float64) * (source_rate / target_rate)
    return np.interp(positions, np.arange(len(samples), dtype=np.float64), samples).astype(np.float32)
