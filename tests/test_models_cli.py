"""`hftui models` and `hftui sync models` as a user runs them: a real process against the local Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hftui.localhub import LocalHub
from tests.hubfixtures import SMALL_GPT, build_test_hub
from tests.test_models_screen import N_MODELS, build_browse_hub


def run_cli(*args: str, hub_url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env.update(HF_ENDPOINT=hub_url, HF_HOME=str(home / "hf"), HFTUI_HOME=str(home / "hftui"))
    return subprocess.run([sys.executable, "-m", "hftui", *args], env=env, capture_output=True, text=True, timeout=120)


def test_models_search_json_and_offline_fallback(tmp_path: Path) -> None:
    hub = build_browse_hub()
    url = hub.start()
    try:
        result = run_cli(
            "models",
            "--search",
            "bert",
            "--filter",
            "license=apache-2.0",
            "--json",
            hub_url=url,
            home=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert rows and all("bert" in row["repo_id"] and row["license"] == "apache-2.0" for row in rows)

        table = run_cli("models", "--sort", "likes", "--limit", "5", hub_url=url, home=tmp_path)
        assert table.returncode == 0 and "from the Hub" in table.stdout
    finally:
        hub.stop()
    # The Hub is gone: the same search answers from the index the first run wrote.
    offline = run_cli("models", "--search", "bert", "--json", hub_url=url, home=tmp_path)
    assert offline.returncode == 0
    assert "local index" in offline.stderr
    assert {json.loads(line)["repo_id"] for line in offline.stdout.splitlines()} >= {row["repo_id"] for row in rows}


def test_bad_filter_is_a_clear_usage_error(tmp_path: Path) -> None:
    result = run_cli("models", "--filter", "colour=blue", hub_url="http://127.0.0.1:9", home=tmp_path)
    assert result.returncode == 2
    assert "unknown key 'colour'" in result.stderr


def test_sync_models_fills_the_index_and_resumes(tmp_path: Path) -> None:
    hub: LocalHub = build_browse_hub()
    url = hub.start()
    try:
        first = run_cli("sync", "models", "--limit", "40", hub_url=url, home=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "synced 40 models" in first.stderr
        everything = run_cli("sync", "models", hub_url=url, home=tmp_path)
        assert everything.returncode == 0, everything.stderr
        assert f"the index holds {N_MODELS + 1}" in everything.stderr
    finally:
        hub.stop()
    offline = run_cli("--offline", "models", "--limit", "100", "--json", hub_url=url, home=tmp_path)
    assert len(offline.stdout.splitlines()) == N_MODELS + 1


def test_provider_filter_online_then_from_what_was_last_seen(tmp_path: Path) -> None:
    hub = build_test_hub(tmp_path / "hub")  # other-org/small-gpt is served by together and by [red]x[/red]
    url = hub.start()
    try:
        online = run_cli("models", "--filter", "provider=together", "--json", hub_url=url, home=tmp_path)
        assert online.returncode == 0, online.stderr
        served = {json.loads(line)["repo_id"] for line in online.stdout.splitlines()}
        assert served == {SMALL_GPT}, online.stdout
    finally:
        hub.stop()
    offline = run_cli("--offline", "models", "--filter", "provider=together", "--json", hub_url=url, home=tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert {json.loads(line)["repo_id"] for line in offline.stdout.splitlines()} == served
