"""`hftui demo` seeds a genuine HF cache through the real client, idempotently, and the app shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hftui.app import HfTuiApp
from hftui.demo.seed import MINILM_REPO_ID, SENTIMENT_REPO_ID, minilm_folder
from hftui.demo.tiny_models import TINY_MODELS
from hftui.hub.cache import scan_local_cache
from hftui.hub.settings import HubSettings, read_token_status
from hftui.ui.widgets.repo_table import RepoTable
from tests.pilot import settle, wait_until

pytestmark = pytest.mark.slow


def seed_in_subprocess(home: Path) -> str:
    """Run `hftui demo --seed-only` as a user would, with no HF_* variables; return its stdout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env["HFTUI_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "hftui", "demo", "--seed-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed the demo once through the real command line, in its own process."""
    home = tmp_path_factory.mktemp("demo-home")
    assert "seeded in" in seed_in_subprocess(home)
    return home


def test_seeded_cache_is_genuine(demo_home: Path) -> None:
    cache = demo_home / "demo" / "hf-home" / "hub"
    scan = scan_local_cache(cache)
    models = {repo.repo_id: repo for repo in scan.of_type("model")}
    for spec in TINY_MODELS.values():
        repo = models[spec.repo_id]
        assert repo.pipeline_tag == spec.task
        assert repo.revisions and "main" in repo.revisions[0].refs
        assert (repo.snapshot_path / "model.safetensors").is_symlink()  # blobs + snapshot links
    if minilm_folder() is not None:
        assert models[MINILM_REPO_ID].pipeline_tag == "sentence-similarity"
    assert [repo.repo_id for repo in scan.of_type("dataset")] == [SENTIMENT_REPO_ID]
    assert (demo_home / "demo" / "datasets" / "demo-sentiment" / "data" / "train.jsonl").is_file()
    assert len(list((demo_home / "demo" / "datasets" / "demo-colours" / "train").rglob("*.png"))) == 12


def test_reseeding_is_a_no_op(demo_home: Path) -> None:
    cache = demo_home / "demo" / "hf-home" / "hub"
    before = sorted((path, path.stat().st_mtime_ns) for path in cache.rglob("*") if path.is_file())
    assert "already seeded" in seed_in_subprocess(demo_home)
    after = sorted((path, path.stat().st_mtime_ns) for path in cache.rglob("*") if path.is_file())
    assert before == after


def test_demo_model_loads_offline_from_the_cache(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants, snapshot_download
    from transformers import pipeline

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = demo_home / "demo" / "hf-home" / "hub"
    spec = TINY_MODELS["text-classification"]
    folder = snapshot_download(spec.repo_id, cache_dir=cache, local_files_only=True)
    classify = pipeline(spec.task, model=folder)
    assert classify("a great film")[0]["label"] in {"NEGATIVE", "POSITIVE"}


async def test_demo_app_is_not_empty(demo_home: Path) -> None:
    cache = demo_home / "demo" / "hf-home" / "hub"
    settings = HubSettings("http://127.0.0.1:9", cache.parent, cache, True, read_token_status())
    app = HfTuiApp(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#models-table", RepoTable)
        # The index opening and the reachability probe may each restart the search: wait, not two rounds.
        await wait_until(pilot, lambda: table.row_count >= len(TINY_MODELS))
