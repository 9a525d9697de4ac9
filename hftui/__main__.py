"""`python -m hftui` runs the same command as the `hftui` script."""

from hftui.cli import main

raise SystemExit(main())
