"""Catalogue: each bad Hub answer, served by the LocalHub's faults, on each surface that asks the Hub.

Surfaces: model search, dataset search, sync, the model page, the dataset page and download planning. Each
case asserts the `HubProblem` the user reads (its kind and wording), that no token leaks into it, and that
what the local index already knew is still there afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from hftui.hub.catalog.dataset_details import load_dataset_details
from hftui.hub.catalog.datasets import DatasetSearch
from hftui.hub.catalog.models import ModelSearch, load_model_details
from hftui.hub.catalog.query import DatasetQuery, ModelQuery
from hftui.hub.catalog.seen import SeenStore
from hftui.hub.catalog.sync import sync_datasets, sync_models
from hftui.hub.download import plan_download
from hftui.hub.errors import HubProblem, explain_hub_error
from hftui.hub.index import RepoIndex
from hftui.localhub import LocalHub
from tests.hubfixtures import CSV_DATASET, HUB_TOKEN, SMALL_GPT, TINY_DATASET, TINY_MODEL


@dataclass(frozen=True)
class Answer:
    """One bad answer: how to make the LocalHub give it, and the problem kind the user must be told."""

    name: str
    apply: Callable[[LocalHub, str], None]
    kind: str
    words: str


def _fail(status: int, **options: object) -> Callable[[LocalHub, str], None]:
    # The message carries the token, as a proxy echoing the request would: it must never reach the user.
    return lambda hub, pattern: hub.fail(pattern, status, message=f"denied for Bearer {HUB_TOKEN}", **options)  # type: ignore[arg-type]


def _garble(body: bytes, content_type: str) -> Callable[[LocalHub, str], None]:
    return lambda hub, pattern: hub.garble(pattern, body, content_type=content_type)


HTML_PAGE = b"<!doctype html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
ANSWERS = [
    Answer("401", _fail(401), "auth", "token"),
    Answer("403", _fail(403), "forbidden", "refused"),
    Answer("404", _fail(404, error_code="RepoNotFound"), "not_found", "not found"),
    Answer("429", _fail(429, retry_after=7), "rate_limited", "Try again in 7 s"),
    Answer("500", _fail(500), "server", "HTTP 500"),
    Answer("503", _fail(503), "server", "HTTP 503"),
    Answer("html", _garble(HTML_PAGE, "text/html; charset=utf-8"), "bad_answer", "not JSON"),
    Answer(
        "truncated-json",
        _garble(b'[{"id": "hftui-test/tiny-bert", "downlo', "application/json"),
        "bad_answer",
        "not JSON",
    ),
]


@pytest.fixture(autouse=True)
def no_backoff_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub retries listings on 429/5xx, sleeping up to 8 s each time; the outcome is the same."""
    import types

    import huggingface_hub.utils._http as hf_http

    quick = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    quick.sleep = lambda seconds: None
    monkeypatch.setattr(hf_http, "time", quick)


@pytest.fixture
def seeded(local_hub: LocalHub, tmp_path: Path) -> tuple[HfApi, RepoIndex]:
    """An API on the LocalHub (with a token) and an index that already knows every repo of the hub."""
    api = HfApi(endpoint=local_hub.url, token=HUB_TOKEN)
    index = RepoIndex(tmp_path / "index" / "models.sqlite")
    sync_models(ModelQuery(), api=api, index=index, limit=None)
    sync_datasets(DatasetQuery(), api=api, index=index, limit=None)
    return api, index


def _known(index: RepoIndex) -> tuple[int, int, bool, bool]:
    return (
        len(index),
        index.dataset_count(),
        index.get(TINY_MODEL) is not None,
        index.get_dataset(TINY_DATASET) is not None,
    )


def _check(problem: HubProblem | None, answer: Answer) -> HubProblem:
    assert problem is not None
    assert problem.kind == answer.kind, problem
    assert answer.words.lower() in problem.message.lower(), problem.message
    assert HUB_TOKEN not in problem.message and "hf_hftui" not in problem.message
    assert "Traceback" not in problem.message
    return problem


def _raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except Exception as error:  # whatever the surface raises is what the screen explains
        return error
    raise AssertionError("the call did not fail")


def _search_kinds() -> list[Answer]:
    # A search lists the Hub, where a missing repo cannot happen; the Hub answers 404 there only for a bad path.
    return [answer for answer in ANSWERS if answer.name != "404"]


@pytest.mark.parametrize("answer", _search_kinds(), ids=lambda a: a.name)
@pytest.mark.parametrize("kind", ["models", "datasets"])
def test_search_failure_is_explained_and_the_index_kept(
    local_hub: LocalHub, seeded: tuple[HfApi, RepoIndex], answer: Answer, kind: str
) -> None:
    api, index = seeded
    before = _known(index)
    answer.apply(local_hub, rf"^/api/{kind}$")
    search = (
        ModelSearch(ModelQuery(), index=index, api=api)
        if kind == "models"
        else DatasetSearch(DatasetQuery(), index=index, api=api)
    )
    error = _raised(search.next_page)
    _check(explain_hub_error(error, endpoint=api.endpoint), answer)
    assert _known(index) == before
    local_hub.clear_faults()
    offline = (
        ModelSearch(ModelQuery(), index=index, api=None)
        if kind == "models"
        else DatasetSearch(DatasetQuery(), index=index, api=None)
    )
    assert offline.next_page().records, "the index still answers the search"


@pytest.mark.parametrize("answer", _search_kinds(), ids=lambda a: a.name)
@pytest.mark.parametrize("kind", ["models", "datasets"])
def test_sync_failure_is_explained_and_the_index_kept(
    local_hub: LocalHub, seeded: tuple[HfApi, RepoIndex], answer: Answer, kind: str
) -> None:
    api, index = seeded
    before = _known(index)
    answer.apply(local_hub, rf"^/api/{kind}$")
    sync = sync_models if kind == "models" else sync_datasets
    query = ModelQuery() if kind == "models" else DatasetQuery()
    error = _raised(lambda: sync(query, api=api, index=index, limit=None))  # type: ignore[operator]
    _check(explain_hub_error(error, endpoint=api.endpoint), answer)
    assert _known(index) == before


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.name)
def test_model_page_failure_shows_the_local_view_and_why(
    local_hub: LocalHub, seeded: tuple[HfApi, RepoIndex], answer: Answer, tmp_path: Path
) -> None:
    api, index = seeded
    answer.apply(local_hub, rf"^/api/models/{TINY_MODEL}")
    details, problem = load_model_details(
        TINY_MODEL, api=api, cache_dir=tmp_path / "hf-cache", index=index, seen=SeenStore(tmp_path / "seen")
    )
    _check(problem, answer)
    assert details.repo_id == TINY_MODEL and details.record is not None, "the index's row is shown"
    assert details.source in ("index", "seen", "cache")
    assert index.get(TINY_MODEL) is not None


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.name)
def test_dataset_page_failure_shows_the_local_view_and_why(
    local_hub: LocalHub, seeded: tuple[HfApi, RepoIndex], answer: Answer, tmp_path: Path
) -> None:
    api, index = seeded
    answer.apply(local_hub, rf"^/api/datasets/{CSV_DATASET}")
    details, problem = load_dataset_details(
        CSV_DATASET, api=api, cache_dir=tmp_path / "hf-cache", seen=SeenStore(tmp_path / "seen"), index=index
    )
    _check(problem, answer)
    assert details.repo_id == CSV_DATASET
    assert index.get_dataset(CSV_DATASET) is not None


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.name)
def test_download_plan_failure_is_explained_and_nothing_written(
    local_hub: LocalHub, seeded: tuple[HfApi, RepoIndex], answer: Answer, tmp_path: Path
) -> None:
    api, _ = seeded
    answer.apply(local_hub, rf"^/api/models/{SMALL_GPT}")
    cache = tmp_path / "hf-cache"
    error = _raised(lambda: plan_download(api, SMALL_GPT, cache_dir=cache))
    _check(explain_hub_error(error, repo_id=SMALL_GPT, endpoint=api.endpoint), answer)
    assert not cache.exists() or not any(cache.rglob("*"))


@pytest.fixture
def short_hub_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A half-second read timeout for this test only; the process-wide client is put back afterwards."""
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    import hftui.hub.client as client

    monkeypatch.setenv("HFTUI_HUB_TIMEOUT", "0.5")
    yield
    set_client_factory(default_client_factory)
    monkeypatch.setattr(client, "_installed_for", None)  # the next hub_api() installs the timeouts in force again


@pytest.mark.usefixtures("short_hub_timeout")
def test_a_hub_that_stops_answering_is_a_timeout(local_hub: LocalHub, seeded: tuple[HfApi, RepoIndex]) -> None:
    """Failed before (held for as long as the Hub held the answer): hub_api's request limits end the wait."""
    from hftui.hub.client import hub_api

    _, index = seeded
    before = _known(index)
    local_hub.delay(r"^/api/models$", 3.0, times=20)  # every try past the timeout; the client retries a few times
    api = hub_api(local_hub.url, token=HUB_TOKEN)
    search = ModelSearch(ModelQuery(), index=index, api=api)
    error = _raised(search.next_page)
    problem = explain_hub_error(error, endpoint=api.endpoint)
    assert problem.kind == "timeout" and "did not answer in time" in problem.message
    assert _known(index) == before


def test_garbled_answers_are_told_apart() -> None:
    """Failed before: both read 'Something unexpected went wrong (JSONDecodeError: Expecting value ...)'."""
    import json

    def decode(text: str) -> BaseException:
        return _raised(lambda: json.loads(text))

    html = explain_hub_error(decode("<html><body>Sign in to the network</body></html>"), endpoint="https://hub.example")
    assert html.kind == "bad_answer" and html.message.startswith("The server at hub.example sent a web page")
    cut = explain_hub_error(decode('[{"id": "a/b", "dow'), endpoint="https://hub.example")
    assert cut.kind == "bad_answer" and "cut short or garbled (at character" in cut.message
