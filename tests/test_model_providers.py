"""Which inference providers serve a model: read from the local Hub's `inferenceProviderMapping` through the real
client, kept in the index, shown offline as last seen, and filtered by (`ModelQuery.provider`) online and offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from huggingface_hub import HfApi

from hftui.hub.catalog.models import ModelDetails, ModelSearch, load_model_details
from hftui.hub.catalog.query import ModelQuery
from hftui.hub.catalog.seen import SeenStore
from hftui.hub.errors import HubProblem
from hftui.hub.index import ModelRecord, RepoIndex, record_from_model_info
from hftui.hub.inference_providers import InferenceProvider, providers_from_info
from hftui.localhub import LocalHub
from tests.hubfixtures import GATED_MODEL, SMALL_GPT, TINY_MODEL

SMALL_GPT_ENTRIES = (
    InferenceProvider("together", "other-org/Small-GPT-Turbo", "live", "text-generation"),
    InferenceProvider("[red]x[/red]", "small-gpt:[b]free[/b]", "staging", "conversational"),
)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[RepoIndex]:
    with RepoIndex(tmp_path / "index.sqlite") as opened:
        yield opened


def _details(
    repo_id: str, api: HfApi | None, index: RepoIndex, tmp_path: Path
) -> tuple[ModelDetails, HubProblem | None]:
    return load_model_details(
        repo_id, api=api, cache_dir=tmp_path / "hub", index=index, seen=SeenStore(tmp_path / "seen")
    )


def ids(index: RepoIndex, query: ModelQuery) -> list[str]:
    return sorted(record.repo_id for record in index.search(query))


# -- reading the mapping -------------------------------------------------------------------------------------


def test_providers_from_either_shape_the_client_parses() -> None:
    def entry(**fields: str) -> SimpleNamespace:
        return SimpleNamespace(**fields)

    info = SimpleNamespace(
        inference_provider_mapping=[
            entry(provider="together", provider_id="m", status="live", task="conversational"),
            entry(provider="together", provider_id="again", status="live", task="conversational"),
            entry(provider=" ", provider_id="nameless", status="live", task="x"),
            SimpleNamespace(provider="groq", provider_id=None, status="staging", task=None),
        ]
    )
    assert providers_from_info(info) == (
        InferenceProvider("together", "m", "live", "conversational"),
        InferenceProvider("groq", "", "staging", ""),
    )
    assert providers_from_info(SimpleNamespace(inference_provider_mapping=[])) == ()
    assert providers_from_info(SimpleNamespace(inference_provider_mapping=None)) is None
    assert InferenceProvider.from_json(SMALL_GPT_ENTRIES[1].to_json()) == SMALL_GPT_ENTRIES[1]
    assert InferenceProvider.from_json({"provider_id": "no name"}) is None
    assert InferenceProvider.from_json("together") is None


def test_a_listing_that_carries_the_mapping_is_written_through(local_hub: LocalHub, index: RepoIndex) -> None:
    api = HfApi(endpoint=local_hub.url)
    infos = list(api.list_models(expand=["inferenceProviderMapping", "downloads", "tags"]))
    record = record_from_model_info(next(info for info in infos if info.id == SMALL_GPT), seen_at=100.0)
    assert record.inference_providers == SMALL_GPT_ENTRIES and record.providers_seen_at == 100.0
    assert record.providers == ("together", "[red]x[/red]")
    index.upsert_model_infos(infos)
    assert index.get(SMALL_GPT).inference_providers == SMALL_GPT_ENTRIES  # type: ignore[union-attr]
    bert = index.get(TINY_MODEL)
    assert bert is not None and bert.inference_providers == () and bert.providers_seen_at is not None


# -- the index keeps what was last seen ----------------------------------------------------------------------


def test_the_index_replaces_providers_only_with_news(index: RepoIndex) -> None:
    index.set_inference_providers("a/model", SMALL_GPT_ENTRIES, seen_at=10.0)
    index.upsert([ModelRecord("a/model", downloads=5)])  # a listing that did not ask says nothing
    kept = index.get("a/model")
    assert kept is not None and kept.inference_providers == SMALL_GPT_ENTRIES and kept.providers_seen_at == 10.0
    assert kept.downloads == 5
    index.set_inference_providers("a/model", [SMALL_GPT_ENTRIES[0]], seen_at=20.0)
    assert index.get("a/model").providers == ("together",)  # type: ignore[union-attr]
    index.set_inference_providers("a/model", [], seen_at=30.0)  # no provider any more: news too
    gone = index.get("a/model")
    assert gone is not None and gone.inference_providers == () and gone.providers == ()
    assert gone.providers_seen_at == 30.0
    assert index.count(ModelQuery(provider="together")) == 0


def test_provider_filter_and_counts_offline(index: RepoIndex) -> None:
    index.upsert([ModelRecord("c/plain", downloads=1), ModelRecord("d/named", providers=("groq",), downloads=2)])
    index.set_inference_providers("a/model", SMALL_GPT_ENTRIES, seen_at=10.0)
    index.set_inference_providers("b/model", [InferenceProvider("together", "b", "live", "text-generation")])
    assert ids(index, ModelQuery(provider="together")) == ["a/model", "b/model"]
    assert ids(index, ModelQuery(provider="TOGETHER", text="b")) == ["b/model"]
    assert ids(index, ModelQuery(provider="[red]x[/red]")) == ["a/model"]  # markup is just a name here
    assert ids(index, ModelQuery(provider="groq")) == ["d/named"]
    assert index.count(ModelQuery(provider="nobody")) == 0
    expected = [("together", 2), ("[red]x[/red]", 1), ("groq", 1)]
    assert index.facet_counts("provider", ModelQuery()) == expected
    index.load_facet_columns()  # the in-memory columns count the same
    assert index.facet_counts("provider", ModelQuery(text="model")) == [("together", 2), ("[red]x[/red]", 1)]
    assert index.facet_counts("provider", ModelQuery(provider="groq")) == expected  # its own filter aside


# -- the model page's details --------------------------------------------------------------------------------


def test_the_model_page_reads_providers_and_shows_them_offline(
    local_hub: LocalHub, index: RepoIndex, tmp_path: Path
) -> None:
    api = HfApi(endpoint=local_hub.url)
    local_hub.request_log.clear()
    details, problem = _details(SMALL_GPT, api, index, tmp_path)
    assert problem is None and details.providers_fresh
    assert details.inference_providers == SMALL_GPT_ENTRIES and details.providers_seen_at is not None
    expanded = [r for r in local_hub.request_log if r.path == f"/api/models/{SMALL_GPT}" and "expand" in r.query]
    assert len(expanded) == 1 and "inferenceProviderMapping" in expanded[0].query  # one request for them

    served_by_none, _ = _details(TINY_MODEL, api, index, tmp_path)
    assert served_by_none.providers_fresh and served_by_none.inference_providers == ()
    assert served_by_none.providers_seen_at is not None  # "none" is known, not unknown

    offline, problem = _details(SMALL_GPT, None, index, tmp_path)
    assert problem is None and offline.source == "seen" and not offline.providers_fresh
    assert offline.inference_providers == SMALL_GPT_ENTRIES
    assert offline.providers_seen_at == details.providers_seen_at
    never, _ = _details(GATED_MODEL, None, index, tmp_path)
    assert never.inference_providers == () and never.providers_seen_at is None

    # The Hub drops a provider: the next online visit says so.
    hosted = local_hub.repo(SMALL_GPT)
    assert hosted is not None
    del hosted.inference_provider_mapping["[red]x[/red]"]
    again, _ = _details(SMALL_GPT, api, index, tmp_path)
    assert again.inference_providers == SMALL_GPT_ENTRIES[:1]


def test_a_failed_mapping_request_keeps_what_was_seen(local_hub: LocalHub, index: RepoIndex, tmp_path: Path) -> None:
    index.set_inference_providers(SMALL_GPT, SMALL_GPT_ENTRIES[:1], seen_at=1_000.0)

    class MappingRefused(HfApi):
        def model_info(self, repo_id: str, **options: Any) -> Any:
            if options.get("expand"):
                local_hub.fail(r"^/api/models/", 403, message="Forbidden")
            try:
                return super().model_info(repo_id, **options)
            finally:
                local_hub.clear_faults()

    details, problem = _details(SMALL_GPT, MappingRefused(endpoint=local_hub.url), index, tmp_path)
    assert problem is None and details.source == "hub" and not details.providers_fresh
    assert details.inference_providers == SMALL_GPT_ENTRIES[:1] and details.providers_seen_at == 1_000.0
    assert any("Inference providers" in getattr(item, "message", "") for item in details.problems)


# -- the Models screen's search ------------------------------------------------------------------------------


def test_a_provider_search_online_teaches_the_index_for_offline(local_hub: LocalHub, index: RepoIndex) -> None:
    api = HfApi(endpoint=local_hub.url)
    local_hub.request_log.clear()
    page = ModelSearch(ModelQuery(provider="together"), index=index, api=api).next_page()
    assert page.source == "hub" and [record.repo_id for record in page.records] == [SMALL_GPT]
    (listing,) = [r for r in local_hub.request_log if r.path == "/api/models"]
    assert "inference_provider=together" in listing.query and "inferenceProviderMapping" in listing.query
    record = page.records[0]
    assert record.inference_providers == SMALL_GPT_ENTRIES and record.downloads == 500  # the rest came too
    assert record.license == "mit"  # from the expanded cardData

    offline = ModelSearch(ModelQuery(provider="together"), index=index, api=None).next_page()
    assert offline.source == "index" and [r.repo_id for r in offline.records] == [SMALL_GPT]
    assert ModelSearch(ModelQuery(provider="groq"), index=index, api=None).next_page().records == ()
