"""The domain packages run without Textual, and importing the app does not import heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN_MODULES = [
    "hftui.hub.settings",
    "hftui.hub.connectivity",
    "hftui.hub.cache",
    "hftui.hub.cards",
    "hftui.hub.plain_text",
    "hftui.hub.local_hub",
    "hftui.hub.licenses",
    "hftui.hub.model_card",
    "hftui.hub.index",
    "hftui.hub.query",
    "hftui.hub.errors",
    "hftui.hub.repo_files",
    "hftui.hub.fit",
    "hftui.hub.download",
    "hftui.hub.models",
    "hftui.hub.seen",
    "hftui.hub.sync",
    "hftui.data.local",
    "hftui.analyze.device",
    "hftui.analyze.tasks",
    "hftui.train.runs",
    "hftui.demo.seed",
    "hftui.demo.tiny_models",
    "hftui.demo.datasets",
]


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_does_not_import_textual(module: str) -> None:
    loaded = _loaded_after_import(module)
    assert "textual" not in loaded
    assert "torch" not in loaded and "transformers" not in loaded


def test_app_import_is_light() -> None:
    loaded = _loaded_after_import("hftui.app")
    for heavy in ("torch", "transformers", "datasets", "peft"):
        assert heavy not in loaded, heavy
