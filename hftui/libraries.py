"""The heavy ML libraries (transformers, datasets, torch), imported by one thread at a time.

When datasets is imported it looks into transformers if that is already in `sys.modules` (to register its
tokenizer types for hashing). If another thread is half-way through importing transformers, that lookup fails
with an AttributeError. This was seen when the training form's checks and its LoRA suggestion ran at once.
Workers call `import_serially` before their first use of these libraries; once a library is imported, a call
is a set lookup.
"""

from __future__ import annotations

import importlib
import threading

_IMPORT_LOCK = threading.Lock()
_IMPORTED: set[str] = set()


def import_serially(*names: str) -> None:
    """Import `names` (in order) unless this process already did so through here, one thread at a time."""
    if _IMPORTED.issuperset(names):
        return
    with _IMPORT_LOCK:
        for name in names:
            if name not in _IMPORTED:
                importlib.import_module(name)
                _IMPORTED.add(name)
