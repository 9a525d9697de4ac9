"""The domain packages run without Textual, and importing the app does not import heavy libraries."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import hftui

DOMAIN_PACKAGES = ("hub", "data", "analyze", "train", "demo", "localhub")
HEAVY = ("textual", "torch", "transformers")
# Each module's imports are checked in one fresh interpreter per package, module by module, so a module
# that pulls in Textual or torch is named even when a sibling imported earlier is clean.
_PROBE = """
import importlib, json, sys
heavy = {heavy!r}
culprits = {{}}
for name in {modules!r}:
    before = {{m for m in heavy if m in sys.modules}}
    importlib.import_module(name)
    pulled = sorted(m for m in heavy if m in sys.modules and m not in before)
    if pulled:
        culprits[name] = pulled
print(json.dumps(culprits))
"""


def _modules(package: str) -> list[str]:
    """Every module of the package, those of its subpackages (hub/cards, hub/index, …) included; not a
    `__main__`, which runs its program when imported."""
    folder = Path(hftui.__file__).parent / package
    modules = pkgutil.walk_packages([str(folder)], prefix=f"hftui.{package}.")
    return [info.name for info in modules if not info.name.endswith(".__main__")]


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_modules_do_not_import_textual_or_torch(package: str) -> None:
    modules = _modules(package)
    assert modules, f"no modules found in hftui.{package}"
    code = _PROBE.format(heavy=HEAVY, modules=modules)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == {}


def test_app_import_is_light() -> None:
    loaded = _loaded_after_import("hftui.app")
    for heavy in ("torch", "transformers", "datasets", "peft"):
        assert heavy not in loaded, heavy
