"""Catalogue: hostile text in Hub strings (markup, OSC 52 clipboard writes, OSC 8 links, screen clears, C1
CSI, bidi overrides, NUL, non-UTF-8 bytes) shown by hftui: as literal text on screen, in tables and in JSON.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from hftui.hub.plain_text import printable
from hftui.localhub import LocalHub

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
OSC8 = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b2J"
BIDI = "\u202eexe.txt"
HOSTILE = {
    "markup": "[bold red]boom[/] [link=https://evil.example]x[/link]",
    "osc52": OSC52,
    "osc8": OSC8,
    "clear": CLEAR,
    "c1-csi": C1_CSI,
    "bidi": BIDI,
    "nul": "a\x00b",
    "bell-cr": "ok\x07\rhidden",
    "non-utf8": b"caf\xe9 \xff".decode("utf-8", errors="surrogateescape"),
}
TERMINAL_ACTS_ON = ("\x1b", "\x07", "\x9b", "\x00", "\r", "\u202e")


def _no_controls(text: str) -> None:
    for char in TERMINAL_ACTS_ON:
        assert char not in text, f"{char!r} reaches the terminal in {text!r}"


@pytest.mark.parametrize("name", HOSTILE, ids=str)
@pytest.mark.parametrize("single_line", [False, True])
def test_printable_shows_controls_as_escapes(name: str, single_line: bool) -> None:
    shown = printable(HOSTILE[name], single_line=single_line)
    _no_controls(shown)
    if name == "markup":
        assert shown == HOSTILE[name], "markup stays as typed; the UI never parses it"
    if single_line:
        assert "\n" not in shown
    shown.encode("utf-8")  # failed before for 'non-utf8': a lone surrogate cannot be written to a terminal
    if name == "non-utf8":
        assert shown == "caf\\xe9 \\xff", "an undecodable byte of a file name is shown as that byte"


@pytest.mark.parametrize("name", HOSTILE, ids=str)
def test_plain_and_plain_cell_render_literally(name: str) -> None:
    from hftui.ui.untrusted import plain, plain_cell

    content = plain(HOSTILE[name])
    cell = plain_cell(HOSTILE[name])
    _no_controls(content.plain)
    _no_controls(cell.plain)
    assert not cell.spans and not list(content.spans), "no style or link comes from the text"
    console = Console(file=io.StringIO(), force_terminal=True, width=200, record=True)
    console.print(cell)
    rendered = console.export_text(styles=False)
    _no_controls(rendered)
    if name == "markup":
        assert "[bold red]boom[/]" in rendered


def test_bytes_and_objects_are_shown_not_decoded_by_the_terminal() -> None:
    _no_controls(printable(b"\x1b[2J"))
    _no_controls(printable(["\x1b]52;c;x\x07"]))


EVIL_MODEL = "evil-org/escapes-model"
EVIL_DATASET = "evil-org/escapes-data"
EVIL_CARD = (
    f"---\nlicense: {json.dumps(C1_CSI + 'mit')}\npipeline_tag: {json.dumps(OSC52)}\n"
    f"library_name: {json.dumps('[bold]lib[/bold]' + CLEAR)}\ntags:\n"
    + "".join(f"- {json.dumps(value)}\n" for value in (OSC52, OSC8, CLEAR, C1_CSI, "[bold]tag[/bold]", "a\\u0000b"))
    + "---\n# Model "
    + OSC52
    + "\n\n"
    + CLEAR
    + "[link=https://evil.example]card[/link]\n"
)


def build_evil_hub() -> LocalHub:
    hub = LocalHub()
    hub.add_model(
        EVIL_MODEL,
        files={"README.md": EVIL_CARD.encode(), f"weights{OSC52}.bin": b"x", "config.json": b"{}"},
        downloads=7,
    )
    hub.add_dataset(
        EVIL_DATASET,
        files={
            "README.md": EVIL_CARD.replace("pipeline_tag:", "pretty_name:").encode(),
            "data.csv": f"text\n{CLEAR}\n".encode(),
        },
        downloads=3,
    )
    return hub


@pytest.fixture(scope="module")
def evil_hub() -> Iterator[str]:
    hub = build_evil_hub()
    url = hub.start()
    try:
        yield url
    finally:
        hub.stop()


def _run_cli(*args: str, hub_url: str, home: Path) -> subprocess.CompletedProcess[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env.update(HF_ENDPOINT=hub_url, HF_HOME=str(home / "hf"), HFTUI_HOME=str(home / "hftui"), COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "hftui", *args], env=env, capture_output=True, timeout=120)


def _raw_controls(data: bytes) -> list[bytes]:
    found = [c for c in (b"\x1b", b"\x07", b"\x00", b"\r") if c in data]
    if "\x9b".encode() in data:
        found.append("\x9b".encode())
    return found


@pytest.mark.parametrize("kind", ["models", "datasets"])
def test_json_lines_stay_valid_with_no_raw_escapes(evil_hub: str, tmp_path: Path, kind: str) -> None:
    result = _run_cli(kind, "--search", "escapes", "--json", hub_url=evil_hub, home=tmp_path)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert _raw_controls(result.stdout) == []
    rows = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [row["repo_id"] for row in rows] == [EVIL_MODEL if kind == "models" else EVIL_DATASET]
    assert OSC52 in rows[0]["tags"], "the value itself is kept, escaped by JSON"


@pytest.mark.parametrize("kind", ["models", "datasets"])
def test_table_output_passes_no_escapes_to_the_terminal(evil_hub: str, tmp_path: Path, kind: str) -> None:
    result = _run_cli(kind, "--search", "escapes", hub_url=evil_hub, home=tmp_path)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert _raw_controls(result.stdout) == []
    assert _raw_controls(result.stderr) == []
    assert b"escapes" in result.stdout
    if kind == "models":  # the task and library columns carry the hostile values
        assert b"\\x1b]52;c;" in result.stdout, "the hostile value is shown as text"
