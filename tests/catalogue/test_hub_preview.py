"""Catalogue: the Dataset preview streaming rows from the Hub while the Hub answers badly.

The preview reports a `SampleError` in hftui's words (the Hub problem's message where there is one); it never
shows another exception and never a token.
"""

from __future__ import annotations

import time
import types

import pytest

from hftui.data.sampler import SampleError, SampleOptions, SampleSource, stream_sample
from hftui.localhub import LocalHub
from tests.hubfixtures import CSV_DATASET, HUB_TOKEN, TINY_DATASET


@pytest.fixture(autouse=True)
def no_backoff_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub retries 429/5xx, sleeping up to 8 s each time; the outcome is the same without waiting."""
    import huggingface_hub.utils._http as hf_http

    quick = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    quick.sleep = lambda seconds: None
    monkeypatch.setattr(hf_http, "time", quick)
    # datasets retries a streamed read that broke off 20 times, 5 s apart: 100 s before the preview says so.
    import datasets.config

    monkeypatch.setattr(datasets.config, "STREAMING_READ_RETRY_INTERVAL", 0)


@pytest.fixture(autouse=True)
def own_hf_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache of this test's own: what a failing stream leaves there (a README, refs) must not make a later test
    in this worker find the dataset 'cached'."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def _preview(repo_id: str) -> list[dict[str, object]] | SampleError:
    try:
        rows: list[dict[str, object]] = []
        for batch in stream_sample(SampleSource("hub", repo_id), SampleOptions(n=3, batch_size=3)):
            rows.extend(batch.rows)
        return rows
    except SampleError as error:
        return error


FAULTS = {
    "401": (401, {"auth", "not_found"}),
    "403": (403, {"forbidden", "not_found", "gated"}),
    "404": (404, {"not_found"}),
    "429": (429, {"rate_limited", "not_found"}),
    "500": (500, {"server", "not_found"}),
    "503": (503, {"server", "not_found"}),
}


@pytest.mark.parametrize("name", FAULTS, ids=str)
@pytest.mark.parametrize("repo_id", [TINY_DATASET, CSV_DATASET])
def test_preview_with_a_failing_hub_is_a_sample_error(
    local_hub: LocalHub, hub_endpoint: str, name: str, repo_id: str
) -> None:
    status, kinds = FAULTS[name]
    local_hub.fail(r"^/(api/)?datasets/", status, message=f"denied for Bearer {HUB_TOKEN}")
    outcome = _preview(repo_id)
    assert isinstance(outcome, SampleError), outcome
    assert outcome.kind in kinds, (outcome.kind, outcome.message)
    assert HUB_TOKEN not in outcome.message and "Traceback" not in outcome.message


@pytest.mark.parametrize("after", [0, 5])
def test_preview_of_a_file_cut_short_is_rows_or_a_sample_error(
    local_hub: LocalHub, hub_endpoint: str, after: int
) -> None:
    local_hub.cut(r"/resolve/.*data\.csv", after, times=None)
    outcome = _preview(CSV_DATASET)
    if isinstance(outcome, SampleError):
        assert outcome.message and "Traceback" not in outcome.message
        assert outcome.kind in ("network", "bad_file", "server", "timeout"), (outcome.kind, outcome.message)
    else:
        assert all(isinstance(row, dict) for row in outcome)


def test_preview_answered_with_html_is_a_sample_error(local_hub: LocalHub, hub_endpoint: str) -> None:
    local_hub.garble(r"^/api/datasets/", b"<html><body>Sign in</body></html>")
    outcome = _preview(CSV_DATASET)
    assert isinstance(outcome, SampleError)
    assert "JSONDecodeError" not in outcome.message, outcome.message
