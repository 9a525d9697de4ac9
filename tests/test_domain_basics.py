"""Plain-Python pieces of the foundation: masking, plain text, devices, humanising, cards, preferences."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftui.device import ComputeDevice, detect_device, parse_nvidia_smi
from hftui.hub.cards.text import parse_card, read_card
from hftui.hub.plain_text import printable
from hftui.hub.settings import HubSettings, mask_token, read_token_status
from hftui.humanize import human_count, human_duration, human_metric, human_size, relative_time
from hftui.paths import hftui_home
from hftui.preferences import Preferences, load_preferences, save_preferences
from hftui.train.gpu import parse_gpu_sample


def test_mask_token_shows_only_last_four() -> None:
    token = "hf_abcdefghijklmnopqrstuvwxyz1234"
    masked = mask_token(token)
    assert masked.endswith("1234")
    assert "abcdef" not in masked and len(masked) == 8
    assert mask_token("short") == "****"
    assert mask_token(None) == "none"


def test_token_status_from_env_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from huggingface_hub import constants

    token_file = tmp_path / "token"
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token_file))
    assert read_token_status().present is False

    token_file.write_text("hf_filetokenfiletoken9876")
    status = read_token_status()
    assert (status.present, status.source, status.masked) == (True, "token file", "****9876")

    monkeypatch.setenv("HF_TOKEN", "hf_envtokenenvtoken5555")
    status = read_token_status()
    assert (status.source, status.masked) == ("HF_TOKEN", "****5555")
    assert "envtoken" not in repr(HubSettings.from_environment())


def test_settings_follow_huggingface_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    settings = HubSettings.from_environment()
    assert settings.endpoint == "http://127.0.0.1:9"
    assert settings.hub_cache == Path(constants.HF_HUB_CACHE)
    assert settings.offline_forced is False
    assert HubSettings.from_environment(force_offline=True).offline_forced is True
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert HubSettings.from_environment().offline_forced is True


def test_hftui_home_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HFTUI_HOME", str(tmp_path / "explicit"))
    assert hftui_home() == tmp_path / "explicit"
    monkeypatch.delenv("HFTUI_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hftui_home() == tmp_path / "xdg" / "hftui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert hftui_home() == tmp_path / "home" / ".cache" / "hftui"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("a\rb\x07", "a\\x0db\\x07"),
        ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
        ("[bold red]x[/]", "[bold red]x[/]"),
        ("line\nnext", "line\nnext"),
    ],
)
def test_printable_escapes_terminal_controls(raw: str, expected: str) -> None:
    assert printable(raw) == expected


def test_printable_single_line() -> None:
    assert printable("a\nb\tc", single_line=True) == "a\\nb\\tc"


def test_parse_nvidia_smi() -> None:
    output = "NVIDIA H100 80GB HBM3, 81559, 1024, 9.0\nNVIDIA H100 80GB HBM3, 81559, 0, 9.0\n"
    devices = parse_nvidia_smi(output)
    assert len(devices) == 2
    assert devices[0].name == "NVIDIA H100 80GB HBM3"
    assert devices[0].total_memory == 81559 * 1024**2
    assert devices[0].used_memory == 1024 * 1024**2
    assert devices[0].capability == "9.0"
    assert "CUDA NVIDIA H100" in devices[0].label and "GiB" in devices[0].label
    assert parse_nvidia_smi("") == []


def test_parse_gpu_sample() -> None:
    output = "0, 87, 40960, 81559, 61, 312.5\n1, [N/A], 0, 81559, [Not Supported], [N/A]\n"
    first, second = parse_gpu_sample(output)
    assert first == {
        "index": 0,
        "utilization": 87.0,
        "memory_used": 40960 * 1024**2,
        "memory_total": 81559 * 1024**2,
        "temperature": 61.0,
        "power_w": 312.5,
    }
    assert second["utilization"] is None and second["temperature"] is None and second["memory_used"] == 0
    assert parse_gpu_sample("No devices were found\n") == []


def test_detect_device_without_torch() -> None:

    device = detect_device()
    assert device.kind in {"cuda", "mps", "cpu"}
    assert device.label
    assert ComputeDevice("cpu", "x", 8 * 1024**3, count=4).label == "CPU 4 cores, 8 GiB"


def test_humanize() -> None:
    assert human_count(1234) == "1.2k"
    assert human_count(1_234_567) == "1.2M"
    assert human_count(999) == "999"
    assert human_count(None) == "-"
    assert human_size(512) == "512 B"
    assert human_size(4_200_000) == "4.2 MB"
    assert relative_time(1000.0, now=1000.0 + 3 * 86400) == "3 days ago"
    assert relative_time(1000.0, now=1030.0) == "just now"
    assert relative_time(None) == "never"
    assert [human_duration(s) for s in (None, float("nan"), 0.4, 45, 185, 7620)] == [
        "-",
        "-",
        "<1s",
        "45s",
        "3m05s",
        "2h07m",
    ]
    assert [human_metric(v) for v in (None, float("inf"), True, 0.123456, 3)] == ["-", "-", "-", "0.1235", "3"]


def test_parse_card_variants() -> None:
    good = parse_card("---\nlicense: mit\npipeline_tag: text-classification\n---\n# Title\n")
    assert good.metadata["license"] == "mit" and good.body.strip() == "# Title" and good.problem is None
    broken = parse_card("---\nlicense: [\n---\nBody text\n")
    assert broken.metadata == {} and "Body text" in broken.body and "YAML" in (broken.problem or "")
    bare = parse_card("Just text")
    assert bare.body == "Just text" and "no YAML" in (bare.problem or "")


def test_read_card_missing_and_non_utf8(tmp_path: Path) -> None:
    assert "no model card" in (read_card(tmp_path / "README.md").problem or "")
    card = tmp_path / "README.md"
    card.write_bytes(b"---\nlicense: mit\n---\nCaf\xe9\n")
    parsed = read_card(card)
    assert parsed.metadata["license"] == "mit"
    assert "UTF-8" in (parsed.problem or "")


def test_realworld_card_fixtures_parse(realworld: Path) -> None:
    for path in sorted((realworld / "card_fixtures").glob("*.md")):
        card = read_card(path)
        assert isinstance(card.metadata, dict), path.name


def test_preferences_roundtrip_and_corruption(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    assert load_preferences(target) == Preferences()
    save_preferences(Preferences(theme="textual-light", keymap={"open.models": "M"}), target)
    assert load_preferences(target).theme == "textual-light"
    assert load_preferences(target).keymap == {"open.models": "M"}
    target.write_text("{not json")
    assert load_preferences(target) == Preferences()
    target.write_text("[1, 2]")
    assert load_preferences(target) == Preferences()
