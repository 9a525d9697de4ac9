"""Decoding images and audio: every accepted form, GIF first frames, EXIF, resampling, and clear errors."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from hftui.analyze.media import MediaError, load_audio, load_image, resample


def _png_bytes(color: tuple[int, int, int] = (10, 20, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _noise_png() -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_image_from_every_form(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(_png_bytes())
    for value in (path, str(path), path.read_bytes(), {"bytes": path.read_bytes(), "path": None}, {"path": str(path)}):
        image = load_image(value)
        assert image.mode == "RGB" and image.size == (6, 4)
        assert image.getpixel((0, 0)) == (10, 20, 30)
    grey = load_image(Image.new("L", (3, 3), 128))
    assert grey.mode == "RGB" and grey.getpixel((1, 1)) == (128, 128, 128)
    rgba = load_image(Image.new("RGBA", (2, 2), (255, 0, 0, 0)))
    assert rgba.mode == "RGB"
    already = Image.new("RGB", (2, 2))
    assert load_image(already) is already  # no copy for what is already right


def test_gif_gives_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), (255, 0, 0)), Image.new("RGB", (8, 8), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = load_image(path)
    assert image.mode == "RGB"
    red, _, blue = image.getpixel((4, 4))
    assert red > 200 and blue < 50


def test_exif_orientation_is_applied_unless_left_to_the_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    Image.new("RGB", (40, 20), (0, 128, 0)).save(path, exif=exif.tobytes())
    assert load_image(path).size == (20, 40)
    raw = load_image(path, normalize=False)
    assert raw.size == (40, 20)  # as stored: the pipeline applies EXIF and RGB itself


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is not an image at all", "not an image"),
        (_noise_png()[:4000], "damaged"),  # cut inside the pixel data
    ],
)
def test_bad_images_raise_media_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message):
        load_image(path)
    if content:
        with pytest.raises(MediaError, match=message):
            load_image({"bytes": content, "path": None})


def test_missing_or_odd_image_values(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(MediaError, match="not an image hftui can read"):
        load_image(42)
    with pytest.raises(MediaError, match="not an image hftui can read"):
        load_image({"bytes": None, "path": None})


def _tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_audio_files_become_mono_at_the_target_rate(tmp_path: Path) -> None:
    stereo = np.stack([_tone(8000), _tone(8000)], axis=1)
    wav = tmp_path / "a.wav"
    sf.write(wav, stereo, 8000)
    samples = load_audio(wav, 16000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 8000) <= 2
    expected = _tone(16000)
    # Away from the edges the resampled tone matches the tone sampled at 16 kHz.
    assert np.max(np.abs(samples[500:7500] - expected[500:7500])) < 0.02

    flac = tmp_path / "a.flac"
    sf.write(flac, _tone(16000), 16000)
    same_rate = load_audio(str(flac), 16000)
    assert np.allclose(same_rate, _tone(16000), atol=1e-3)
    assert len(load_audio({"path": str(flac), "bytes": None}, 16000)) == 8000
    assert len(load_audio(flac.read_bytes(), 16000)) == 8000


def test_audio_arrays_from_datasets(tmp_path: Path) -> None:
    samples = load_audio({"array": _tone(22050).tolist(), "sampling_rate": 22050}, 16000)
    assert abs(len(samples) - 8000) <= 2
    channels_first = np.stack([_tone(16000), np.zeros(8000, np.float32)])
    mono = load_audio({"array": channels_first, "sampling_rate": 16000}, 16000)
    assert mono.shape == (8000,) and np.allclose(mono, _tone(16000) / 2, atol=1e-6)

    class Samples:  # what a torchcodec AudioDecoder (datasets' Audio cells) gives
        data = type("Tensor", (), {"numpy": lambda self: np.stack([_tone(8000), _tone(8000)])})()
        sample_rate = 8000

    class Decoder:
        def get_all_samples(self) -> Samples:
            return Samples()

    assert abs(len(load_audio(Decoder(), 16000)) - 8000) <= 2
    with pytest.raises(MediaError, match="no valid sampling rate"):
        load_audio({"array": [0.0], "sampling_rate": None}, 16000)
    with pytest.raises(MediaError, match="no samples"):
        load_audio({"array": [], "sampling_rate": 16000}, 16000)
    with pytest.raises(MediaError, match="NaN"):
        load_audio({"array": [0.0, float("nan")], "sampling_rate": 16000}, 16000)


def test_zero_length_and_non_audio_wav(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        load_audio(empty, 16000)
    fake = tmp_path / "fake.wav"
    fake.write_text("RIFF? no, just words " * 20, encoding="utf-8")
    with pytest.raises(MediaError, match="not an audio file"):
        load_audio(fake, 16000)
    header_only = tmp_path / "silent.wav"
    sf.write(header_only, np.zeros(0, np.float32), 16000)
    with pytest.raises(MediaError, match="no samples"):
        load_audio(header_only, 16000)
    with pytest.raises(MediaError, match="does not exist"):
        load_audio(tmp_path / "gone.wav", 16000)


def test_resampling_without_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.signal", None)  # import fails: the numpy fallback runs
    samples = resample(_tone(8000), 8000, 16000)
    assert samples.dtype == np.float32 and len(samples) == 8000
    assert np.max(np.abs(samples[500:7500] - _tone(16000)[500:7500])) < 0.05
    down = resample(_tone(48000), 48000, 16000)
    assert len(down) == 8000
