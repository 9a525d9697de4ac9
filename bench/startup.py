"""Time from process start to the first painted frame, and resident memory then, for `hftui --offline`.

Each run starts the app in a real pseudo-terminal (80x24), reads its output until the first frame's text
appears, then samples the process's RSS and whether torch is mapped into it, and kills it. A minimal
Textual app measured the same way in the same run is the baseline. Prints medians over several runs.

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
BASELINE_APP = """
from textual.app import App
from textual.widgets import Footer, Static
class Baseline(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("Baseline first frame")
        yield Footer()
Baseline().run()
"""


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _torch_loaded(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def measure(command: list[str], marker: bytes, env: dict[str, str], timeout: float = 30.0) -> tuple[float, int, bool]:
    """Start `command` on a pty, wait for `marker` on screen; return (seconds, rss bytes, torch mapped)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen += chunk
                if marker in ANSI.sub(b"", seen):
                    elapsed = time.perf_counter() - started
                    return elapsed, _rss_bytes(process.pid), _torch_loaded(process.pid)
            if process.poll() is not None:
                break
        raise RuntimeError(f"no first frame from {command}: {ANSI.sub(b'', seen)[-400:]!r}")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        os.close(master)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hftui-bench-") as scratch:
        env = dict(
            os.environ,
            TERM="xterm-256color",
            HF_HOME=f"{scratch}/hf",
            HFTUI_HOME=f"{scratch}/hftui",
            COLUMNS="80",
            LINES="24",
        )
        env.pop("NO_COLOR", None)
        # A user's second start reads byte-compiled modules (pip writes them on install; an editable install
        # on first run). Where PYTHONDONTWRITEBYTECODE is set, every start would recompile hftui's sources.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        app = [sys.executable, "-m", "hftui", "--offline"]
        baseline = [sys.executable, "-c", BASELINE_APP]
        # One unmeasured run of each warms the OS file cache and writes __pycache__, as a user's second start finds.
        measure(app, b"OFFLINE (forced)", env)
        measure(baseline, b"Baseline first frame", env)
        results = {"hftui": [], "baseline": []}
        for _ in range(args.runs):
            results["hftui"].append(measure(app, b"OFFLINE (forced)", env))
            results["baseline"].append(measure(baseline, b"Baseline first frame", env))
    medians = {}
    for name, runs in results.items():
        seconds = statistics.median(run[0] for run in runs)
        rss = statistics.median(run[1] for run in runs) / 1024**2
        torch = any(run[2] for run in runs)
        medians[name] = (seconds, rss)
        print(
            f"{name:9s} first frame {seconds * 1000:7.0f} ms (median of {len(runs)}), "
            f"RSS {rss:6.1f} MB, torch loaded: {'yes' if torch else 'no'}"
        )
    ratio_time = medians["hftui"][0] / medians["baseline"][0]
    ratio_rss = medians["hftui"][1] / medians["baseline"][1]
    print(f"ratio vs bare Textual app: time x{ratio_time:.2f}, RSS x{ratio_rss:.2f}")
    seconds, rss = medians["hftui"]
    print(f"goal: under 1000 ms and 150 MB -> {'met' if seconds < 1.0 and rss < 150 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
