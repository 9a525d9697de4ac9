"""`hftui datasets` and `hftui sync datasets` as a user runs them: a real process against the local Hub."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_dataset_index import N_DATASETS, build_dataset_hub
from tests.test_models_cli import run_cli


def test_datasets_search_json_table_and_offline_fallback(tmp_path: Path) -> None:
    hub = build_dataset_hub()
    url = hub.start()
    try:
        result = run_cli(
            "datasets",
            "--search",
            "news",
            "--filter",
            "task=translation",
            "--filter",
            "license=apache-2.0",
            "--json",
            hub_url=url,
            home=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert rows and all(
            "news" in row["repo_id"] and row["license"] == "apache-2.0" and row["task_categories"] == ["translation"]
            for row in rows
        )
        table = run_cli(
            "datasets", "--sort", "likes", "--limit", "5", "--filter", "modality=image", hub_url=url, home=tmp_path
        )
        assert table.returncode == 0, table.stderr
        assert "5 datasets from the Hub" in table.stdout and "image" in table.stdout
    finally:
        hub.stop()
    # The Hub is gone: --offline answers from the index the first runs wrote, without trying the network.
    offline = run_cli("datasets", "--offline", "--search", "news", "--json", hub_url=url, home=tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert {json.loads(line)["repo_id"] for line in offline.stdout.splitlines()} >= {row["repo_id"] for row in rows}


def test_bad_dataset_filter_or_sort_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("datasets", "--filter", "library=timm", hub_url="http://127.0.0.1:9", home=tmp_path)
    assert result.returncode == 2 and "unknown key 'library'" in result.stderr
    result = run_cli("datasets", "--sort", "created", hub_url="http://127.0.0.1:9", home=tmp_path)
    assert result.returncode == 2 and "unknown sort 'created'" in result.stderr


def test_sync_datasets_fills_the_index_for_offline_use(tmp_path: Path) -> None:
    hub = build_dataset_hub()
    url = hub.start()
    try:
        first = run_cli("sync", "datasets", "--limit", "25", hub_url=url, home=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "synced 25 datasets" in first.stderr and "the index holds 25" in first.stderr
        everything = run_cli("sync", "datasets", "--filter", "modality=audio", hub_url=url, home=tmp_path)
        assert everything.returncode == 0, everything.stderr
    finally:
        hub.stop()
    offline = run_cli(
        "datasets", "--offline", "--filter", "modality=audio", "--limit", "100", "--json", hub_url=url, home=tmp_path
    )
    assert len(offline.stdout.splitlines()) == N_DATASETS // 4
    refused = run_cli("sync", "datasets", "--offline", hub_url=url, home=tmp_path)
    assert refused.returncode == 1 and "offline" in refused.stderr
