"""The dataset page's domain: details online from the local Hub, offline from the seen store or the cache, failures."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hftui.hub.catalog.dataset_details import (
    NEVER_SEEN,
    describe_feature,
    fetch_dataset_details,
    load_dataset_details,
    local_dataset_details,
)
from hftui.hub.catalog.seen import SeenStore, default_seen_dir
from hftui.localhub import LocalHub
from tests.hubfixtures import CSV_DATASET, HUB_TOKEN, TINY_DATASET

LEGACY = "hftui-test/legacy-infos"
GATED = "hftui-test/gated-dataset"
PRIVATE = "hftui-test/private-dataset"
LEGACY_INFOS = {
    "plain_text": {
        "features": {"text": {"dtype": "string", "_type": "Value"}},
        "splits": {
            "train": {"name": "train", "num_examples": 25000, "num_bytes": 33432835},
            "test": {"name": "test", "num_examples": 24000, "num_bytes": 32650697},
        },
    }
}


class _NoSleep:
    """huggingface_hub's backoff sleeps between retries of a 429; the test needs only the outcome."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    def sleep(self, _seconds: float) -> None:
        return None


@pytest.fixture
def hub(local_hub: LocalHub, hub_endpoint: str) -> LocalHub:
    local_hub.add_dataset(
        LEGACY,
        files={
            "README.md": b"---\nlicense: other\n---\n# Legacy\n",
            "dataset_infos.json": json.dumps(LEGACY_INFOS).encode(),
            "plain_text/train.parquet": b"PAR1",
        },
    )
    local_hub.add_dataset(
        GATED,
        files={"README.md": b"---\nlicense: cc-by-nc-4.0\ntask_categories: [translation]\n---\n# Gated\n"},
        gated="manual",
    )
    local_hub.add_dataset(PRIVATE, files={"README.md": b"# private\n"}, private=True)
    return local_hub


def api_for(hub: LocalHub, token: str | bool | None = False):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=token)


def test_online_details_info_card_and_splits(hub: LocalHub, tmp_path: Path) -> None:
    from huggingface_hub import constants

    details = fetch_dataset_details(TINY_DATASET, api=api_for(hub), cache_dir=tmp_path / "cache")
    assert details.source == "hub" and details.known
    assert details.card.body.lstrip().startswith("# Tiny Dataset") and "license:" not in details.card.body
    assert details.facts.license.license_id == "mit"
    assert details.facts.task_categories == ("text-classification",)
    assert [(c.name, [s.name for s in c.splits]) for c in details.facts.configs] == [("default", ["train", "test"])]
    assert details.preview_choices() == (("default", ("train", "test")),)
    assert (details.downloads, details.likes, details.gated) == (300, 4, None)
    assert {file.path: file.size for file in details.files}["data/train.jsonl"] > 0
    assert "modality:text" in details.tags and details.sha and details.last_modified
    # Viewing is not downloading: the card was read without adding the dataset to the HF cache.
    assert not list(Path(constants.HF_HUB_CACHE).glob("datasets--hftui-test--tiny-dataset"))
    assert not (tmp_path / "cache").exists()


def test_opening_a_dataset_writes_it_through_to_the_index(hub: LocalHub, tmp_path: Path) -> None:
    from hftui.hub.catalog.query import DatasetQuery
    from hftui.hub.index import RepoIndex

    with RepoIndex(tmp_path / "index.sqlite") as index:
        fetch_dataset_details(TINY_DATASET, api=api_for(hub), cache_dir=tmp_path / "cache", index=index)
        record = index.get_dataset(TINY_DATASET)
        assert record is not None and record.card_text and record.card_text.lstrip().startswith("---")
        assert record.task_categories == ("text-classification",)
        # Found by an offline search afterwards.
        assert [r.repo_id for r in index.search(DatasetQuery(text="tiny"))] == [TINY_DATASET]


def test_legacy_dataset_infos_give_row_counts_and_features(hub: LocalHub, tmp_path: Path) -> None:
    details = fetch_dataset_details(LEGACY, api=api_for(hub), cache_dir=tmp_path / "cache")
    (config,) = details.facts.configs
    assert config.name == "plain_text"
    assert [(s.name, s.num_examples, s.num_bytes) for s in config.splits] == [
        ("train", 25000, 33432835),
        ("test", 24000, 32650697),
    ]
    assert config.features == {"text": {"dtype": "string", "_type": "Value"}}


def test_offline_after_the_hub_stops_opens_from_the_seen_store(hub: LocalHub, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fetch_dataset_details(LEGACY, api=api_for(hub), cache_dir=cache)
    hub.stop()
    details, problem = load_dataset_details(LEGACY, api=api_for(hub), cache_dir=cache)
    assert problem is not None and problem.kind == "network"
    assert details.source == "seen"
    assert details.card.body.strip() == "# Legacy"
    assert details.facts.configs[0].splits[0].num_examples == 25000
    assert (default_seen_dir("dataset") / "hftui-test--legacy-infos.json").is_file()
    # Offline altogether (no client): the same saved visit.
    details, problem = load_dataset_details(LEGACY, api=None, cache_dir=cache)
    assert problem is None and details.source == "seen"


def test_a_cached_dataset_opens_from_the_cache(hub: LocalHub, tmp_path: Path) -> None:
    from huggingface_hub import snapshot_download

    cache = tmp_path / "cache"
    snapshot_download(LEGACY, repo_type="dataset", cache_dir=cache)
    hub.stop()
    details = local_dataset_details(LEGACY, cache_dir=cache)
    assert details.source == "cache"
    assert details.snapshot_path is not None and details.snapshot_path.is_dir()
    assert details.card.body.strip() == "# Legacy"
    assert details.facts.configs[0].name == "plain_text"  # read from the cached dataset_infos.json
    assert {file.path for file in details.files} == {"README.md", "dataset_infos.json", "plain_text/train.parquet"}


def test_never_seen_offline_says_so(tmp_path: Path) -> None:
    details = local_dataset_details("nobody/nothing", cache_dir=tmp_path / "cache")
    assert details.source == "unknown" and not details.known
    assert details.problems == (NEVER_SEEN,)
    assert details.preview_choices() == ((None, ("train",)),)


def test_missing_dataset_is_explained(hub: LocalHub, tmp_path: Path) -> None:
    details, problem = load_dataset_details("nobody/missing", api=api_for(hub), cache_dir=tmp_path / "cache")
    assert problem is not None and problem.kind == "not_found" and problem.status == 404
    assert "'nobody/missing' was not found" in problem.message
    assert details.source == "unknown"


def test_private_dataset_without_a_token_is_explained(hub: LocalHub, tmp_path: Path) -> None:
    details, problem = load_dataset_details(PRIVATE, api=api_for(hub), cache_dir=tmp_path / "cache")
    assert problem is not None and problem.status == 401
    assert problem.kind in {"auth", "not_found"}
    assert HUB_TOKEN not in problem.message
    # With the token of its organisation it opens.
    details, problem = load_dataset_details(PRIVATE, api=api_for(hub, HUB_TOKEN), cache_dir=tmp_path / "cache")
    assert problem is None and details.source == "hub" and details.card.body.strip() == "# private"


def test_gated_dataset_opens_with_its_listing_and_says_why(hub: LocalHub, tmp_path: Path) -> None:
    details, problem = load_dataset_details(GATED, api=api_for(hub), cache_dir=tmp_path / "cache")
    assert problem is None and details.source == "hub"
    assert details.gated == "manual"
    gated = [p for p in details.problems if not isinstance(p, str)]
    assert len(gated) == 1 and gated[0].kind == "gated" and f"/datasets/{GATED}" in gated[0].message
    # The card itself is refused, but the Hub's cardData still gives the facts.
    assert details.facts.license.license_id == "cc-by-nc-4.0"
    assert details.facts.task_categories == ("translation",)
    assert "could not be read" in (details.card.problem or "")


def test_rate_limit_is_explained(hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.utils import _http

    monkeypatch.setattr(_http, "time", _NoSleep())
    hub.fail(r"^/api/datasets/", 429, retry_after=30)
    details, problem = load_dataset_details(CSV_DATASET, api=api_for(hub), cache_dir=tmp_path / "cache")
    assert problem is not None and problem.kind == "rate_limited" and problem.status == 429
    assert details.source == "unknown"


def test_a_card_the_hub_fails_to_serve_becomes_a_problem(hub: LocalHub, tmp_path: Path) -> None:
    hub.fail(r"/resolve/.*/README\.md$", 500)
    details, problem = load_dataset_details(TINY_DATASET, api=api_for(hub), cache_dir=tmp_path / "cache")
    assert problem is None and details.source == "hub"
    assert [p.kind for p in details.problems if not isinstance(p, str)] == ["server"]
    assert details.facts.license.license_id == "mit"  # from the listing's cardData


def test_seen_stores_of_models_and_datasets_are_apart(tmp_path: Path) -> None:
    models, datasets = SeenStore(), SeenStore(repo_type="dataset")
    assert models.root == default_seen_dir() and models.root.name == "models"
    assert datasets.root.name == "datasets"
    models.save("same/id", {"kind": "model"})
    datasets.save("same/id", {"kind": "dataset"})
    assert models.load("same/id") == {"kind": "model"} and datasets.load("same/id") == {"kind": "dataset"}
    with pytest.raises(ValueError):
        default_seen_dir("space")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"dtype": "string", "_type": "Value"}, "string"),
        ({"names": ["neg", "pos"], "_type": "ClassLabel"}, "ClassLabel(neg, pos)"),
        ({"feature": {"dtype": "int32", "_type": "Value"}, "_type": "List"}, "List(int32)"),
        ({"_type": "Image"}, "Image"),
        ({"sampling_rate": 16000, "_type": "Audio"}, "Audio(sampling_rate=16000)"),
        ({"x": {"dtype": "float32", "_type": "Value"}, "y": {"_type": "Image"}}, "{x: float32, y: Image}"),
        ([{"dtype": "int64", "_type": "Value"}], "List(int64)"),
    ],
)
def test_describe_feature(spec: object, expected: str) -> None:
    assert describe_feature(spec) == expected


@pytest.mark.parametrize(
    ("files", "problem", "body"),
    [
        ({"data.csv": b"a\n1\n"}, "This dataset has no card (README.md).", ""),
        (
            {"README.md": b"# Just a body\n", "data.csv": b"a\n1\n"},
            "The card has no YAML metadata block.",
            "# Just a body",
        ),
        ({"README.md": b"---\nlicense: [mit\n---\n# Body\n"}, "The card's YAML metadata could not be read", "# Body"),
        ({"README.md": b"---\nlicense: mit\n---\n# Ok\n"}, None, "# Ok"),
    ],
)
def test_missing_plain_and_broken_cards_still_open(
    local_hub: LocalHub, hub_endpoint: str, tmp_path: Path, files: dict[str, bytes], problem: str | None, body: str
) -> None:
    local_hub.add_dataset("hftui-test/card-states", files=files)
    details, online_problem = load_dataset_details(
        "hftui-test/card-states", api=api_for(local_hub), cache_dir=tmp_path / "cache"
    )
    assert online_problem is None and details.source == "hub"
    assert details.card.body.strip() == body
    if problem is None:
        assert details.card.problem is None
    else:
        assert details.card.problem is not None and details.card.problem.startswith(problem)
