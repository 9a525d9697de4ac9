"""`python -m hftui.localhub`: see `hftui.localhub.cli`."""

from __future__ import annotations

import sys

from hftui.localhub.cli import main

if __name__ == "__main__":  # importing this module (as the import-hygiene test does) must not start a hub
    sys.exit(main())
