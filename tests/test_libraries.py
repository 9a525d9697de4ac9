"""import_serially: two threads never import the heavy libraries at the same time."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from hftui import libraries


def test_a_second_thread_waits_for_the_first_import_to_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two slow modules: the second checks the first is complete, as datasets looks into transformers.
    (tmp_path / "slow_first.py").write_text(
        "import threading, time\nSTARTED = threading.Event()\nSTARTED.set()\ntime.sleep(0.3)\nREADY = True\n"
    )
    (tmp_path / "looks_into_first.py").write_text(
        "import sys\n"
        "first = sys.modules.get('slow_first')\n"
        "SAW_READY = first is None or getattr(first, 'READY', False)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(libraries, "_IMPORTED", set())
    for name in ("slow_first", "looks_into_first"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    first = threading.Thread(target=libraries.import_serially, args=("slow_first",))
    first.start()
    while "slow_first" not in sys.modules:  # the first import is under way
        pass
    libraries.import_serially("looks_into_first")
    first.join()
    assert sys.modules["looks_into_first"].SAW_READY is True
    assert libraries._IMPORTED == {"slow_first", "looks_into_first"}
