"""The local model index: writes, search, facets, both query plans, recovery, the real Hub and cache."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from huggingface_hub import HfApi, snapshot_download

from hftui.hub.cache import scan_local_cache
from hftui.hub.catalog.query import SORTS, ModelQuery
from hftui.hub.index import (
    FACETS,
    PARAMETER_STEPS,
    SCHEMA_VERSION,
    ModelRecord,
    RepoIndex,
    default_index_path,
    record_from_model_info,
    search_words,
)
from hftui.hub.index import plan as index_plan
from hftui.localhub import LocalHub
from tests.hubfixtures import GATED_MODEL, PRIVATE_MODEL, SMALL_GPT, TINY_BERT_PARAMETERS, TINY_MODEL

DAY = 86_400.0
RECORDS = (
    ModelRecord(
        "google-bert/bert-base-uncased",
        author="google-bert",
        pipeline_tag="fill-mask",
        library_name="transformers",
        languages=("en",),
        license="apache-2.0",
        tags=("transformers", "pytorch", "bert", "fill-mask", "en", "license:apache-2.0", "region:us"),
        downloads=9000,
        likes=80,
        trending_score=3.0,
        created_at=1 * DAY,
        last_modified=50 * DAY,
        parameters=110_000_000,
    ),
    ModelRecord(
        "FacebookAI/roberta-large",
        author="FacebookAI",
        pipeline_tag="fill-mask",
        library_name="transformers",
        languages=("en",),
        license="mit",
        tags=("transformers", "pytorch", "roberta", "fill-mask", "license:mit"),
        downloads=5000,
        likes=60,
        trending_score=1.0,
        created_at=2 * DAY,
        last_modified=40 * DAY,
        parameters=355_000_000,
    ),
    ModelRecord(
        "meta-llama/Llama-3.1-8B-Instruct",
        author="meta-llama",
        pipeline_tag="text-generation",
        library_name="transformers",
        languages=("en", "de", "fr"),
        license="llama3.1",
        tags=(
            "transformers",
            "safetensors",
            "llama",
            "text-generation",
            "conversational",
            "license:llama3.1",
        ),
        downloads=8000,
        likes=900,
        trending_score=50.0,
        created_at=30 * DAY,
        last_modified=60 * DAY,
        gated="manual",
        parameters=8_030_000_000,
    ),
    ModelRecord(
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        author="TinyLlama",
        pipeline_tag="text-generation",
        library_name="transformers",
        languages=("en",),
        license="apache-2.0",
        tags=("transformers", "safetensors", "llama", "text-generation", "license:apache-2.0"),
        downloads=3000,
        likes=200,
        trending_score=7.0,
        created_at=20 * DAY,
        last_modified=20 * DAY,
        parameters=1_100_000_000,
    ),
    ModelRecord(
        "Qwen/Qwen2.5-0.5B-Instruct",
        author="Qwen",
        pipeline_tag="text-generation",
        library_name="transformers",
        languages=("zh", "en"),
        license="apache-2.0",
        tags=("transformers", "safetensors", "qwen2", "text-generation", "chat", "license:apache-2.0"),
        downloads=7000,
        likes=300,
        trending_score=20.0,
        created_at=40 * DAY,
        last_modified=45 * DAY,
        parameters=494_000_000,
    ),
    ModelRecord(
        "openai/whisper-small",
        author="openai",
        pipeline_tag="automatic-speech-recognition",
        library_name="transformers",
        languages=("en", "de", "ja"),
        license="mit",
        tags=("transformers", "pytorch", "whisper", "audio", "license:mit"),
        downloads=6000,
        likes=250,
        trending_score=2.0,
        created_at=10 * DAY,
        last_modified=30 * DAY,
        gated="auto",
        parameters=242_000_000,
    ),
    ModelRecord(
        "sentence-transformers/all-MiniLM-L6-v2",
        author="sentence-transformers",
        pipeline_tag="sentence-similarity",
        library_name="sentence-transformers",
        languages=("en",),
        license="apache-2.0",
        tags=("sentence-transformers", "pytorch", "bert", "feature-extraction", "license:apache-2.0"),
        downloads=10000,
        likes=100,
        trending_score=4.0,
        created_at=5 * DAY,
        last_modified=10 * DAY,
        parameters=22_700_000,
    ),
    ModelRecord(
        "someone/bert-finetuned-imdb",
        author="someone",
        pipeline_tag="text-classification",
        library_name="transformers",
        tags=("transformers", "bert", "text-classification", "dataset:imdb"),
        created_at=50 * DAY,
    ),
)
IDS = [record.repo_id for record in RECORDS]
SORT_FIELDS = {
    "trending": "trending_score",
    "likes": "likes",
    "downloads": "downloads",
    "updated": "last_modified",
    "created": "created_at",
}


@pytest.fixture
def index(tmp_path: Path) -> RepoIndex:
    """An index holding RECORDS."""
    with RepoIndex(tmp_path / "index" / "models.sqlite") as index:
        assert index.upsert(RECORDS) == len(RECORDS)
        yield index


@pytest.fixture(params=["match", "scan"])
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test under both query plans: FTS first (small matches) and sort-index first (forced)."""
    if request.param == "scan":
        monkeypatch.setattr(index_plan, "MATCH_CAP", 0)
    return str(request.param)


def ids(index: RepoIndex, query: ModelQuery, **kwargs: int) -> list[str]:
    return [record.repo_id for record in index.search(query, **kwargs)]


def found(index: RepoIndex, text: str, **filters: object) -> set[str]:
    return set(ids(index, ModelQuery(text=text, **filters), limit=100))  # type: ignore[arg-type]


# -- writing and reading ---------------------------------------------------------------------------------


def test_default_path_is_under_hftui_home(hftui_home: Path) -> None:
    assert default_index_path() == hftui_home / "index" / "models.sqlite"


def test_upsert_then_get_round_trips_every_field(index: RepoIndex) -> None:
    assert len(index) == len(RECORDS)
    for record in RECORDS:
        assert index.get(record.repo_id) == record
    assert index.get("nobody/nothing") is None
    assert index.get("qwen/qwen2.5-0.5b-instruct") == RECORDS[4]  # ids are case-insensitive, like the Hub


def test_upsert_updates_in_place_and_keeps_what_a_sparse_record_leaves_out(index: RepoIndex) -> None:
    index.set_card("openai/whisper-small", "# Whisper\nSpeech recognition.")
    sparse = ModelRecord("OpenAI/Whisper-Small", author="openai", downloads=6500)
    assert index.upsert([sparse]) == 1
    record = index.get("openai/whisper-small")
    assert record is not None and len(index) == len(RECORDS)
    assert record.repo_id == "OpenAI/Whisper-Small"  # the newest spelling wins
    assert record.downloads == 6500
    assert record.card_text == "# Whisper\nSpeech recognition."
    assert (record.license, record.languages, record.tags) == (
        RECORDS[5].license,
        RECORDS[5].languages,
        RECORDS[5].tags,
    )
    assert record.gated == "auto"  # left out, so kept (upsert_model_infos knows when the Hub says "no")
    assert found(index, "whisper") == {"OpenAI/Whisper-Small"}


def test_upsert_keeps_card_text_and_cache_fields(index: RepoIndex) -> None:
    cached = ModelRecord("openai/whisper-small", cache_state="cached", cached_revisions=("a" * 40,), size_on_disk=123)
    index.upsert([cached])
    index.set_card("openai/whisper-small", "card body")
    index.upsert([RECORDS[5]])  # a plain listing row: cache_state "remote" is the default, not news
    record = index.get("openai/whisper-small")
    assert record is not None
    assert (record.cache_state, record.cached_revisions, record.size_on_disk) == ("cached", ("a" * 40,), 123)
    assert record.card_text == "card body"
    # A record carrying a card replaces it; search pages leave card text out.
    index.upsert([ModelRecord("openai/whisper-small", card_text="new body")])
    assert index.get("openai/whisper-small").card_text == "new body"  # type: ignore[union-attr]
    assert all(record.card_text is None for record in index.search(ModelQuery()))


def test_set_card_for_an_unknown_repo_creates_its_row(index: RepoIndex) -> None:
    index.set_card("new-org/new-model", "hello")
    record = index.get("new-org/new-model")
    assert record is not None and record.card_text == "hello" and record.author == "new-org"
    assert found(index, "new model") == {"new-org/new-model"}


def test_duplicates_in_one_batch_merge(tmp_path: Path) -> None:
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert([ModelRecord("a/b", downloads=1, license="mit"), ModelRecord("A/B", downloads=2)])
        assert len(index) == 1
        record = index.get("a/b")
        assert record is not None and (record.downloads, record.license) == (2, "mit")


def test_rejects_unknown_cache_state(tmp_path: Path) -> None:
    with RepoIndex(tmp_path / "i.sqlite") as index, pytest.raises(ValueError):
        index.upsert([ModelRecord("a/b", cache_state="somewhere")])


# -- text search -----------------------------------------------------------------------------------------


def test_words_split_like_repo_ids() -> None:
    assert search_words("google-bert/bert-base_uncased.v2") == [
        "google",
        "bert",
        "bert",
        "base",
        "uncased",
        "v2",
    ]
    assert search_words('AND "x" * -:') == ["and", "x"]
    assert search_words("Café") == ["cafe"]


def test_text_search_by_id_parts_author_and_tags(index: RepoIndex, plan: str) -> None:
    assert found(index, "bert") == {"google-bert/bert-base-uncased", "someone/bert-finetuned-imdb"} | {
        "sentence-transformers/all-MiniLM-L6-v2"  # tagged "bert"
    }
    assert found(index, "uncased") == {"google-bert/bert-base-uncased"}
    assert found(index, "google") == {"google-bert/bert-base-uncased"}
    assert found(index, "Google-Bert/BERT-base") == {"google-bert/bert-base-uncased"}
    assert found(index, "imdb") == {"someone/bert-finetuned-imdb"}  # from "dataset:imdb"
    assert found(index, "audio") == {"openai/whisper-small"}
    assert found(index, "qwen2") == {"Qwen/Qwen2.5-0.5B-Instruct"}
    assert found(index, "region") == set()  # "region:us" is on every Hub model; not worth a word
    assert found(index, "nothing-like-this") == set()


def test_last_word_is_a_prefix_earlier_words_are_whole(index: RepoIndex, plan: str) -> None:
    assert found(index, "ber") == found(index, "bert")
    assert found(index, "whis") == {"openai/whisper-small"}
    assert found(index, "instr") == {"meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct"}
    assert found(index, "llama instr") == {"meta-llama/Llama-3.1-8B-Instruct"}
    assert found(index, "lla instruct") == set()  # "lla" is not the last word, so it must be whole
    # camelCase parts are words too: TinyLlama is found by "llama".
    assert "TinyLlama/TinyLlama-1.1B-Chat-v1.0" in found(index, "llama")
    assert found(index, "tinyllama") == {"TinyLlama/TinyLlama-1.1B-Chat-v1.0"}


def test_non_ascii_text(tmp_path: Path, plan: str) -> None:
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(
            [
                ModelRecord("org/模型-base", author="org"),
                ModelRecord("org/café-model", author="org", tags=("Ünïcode",)),
                ModelRecord("org/мой-bert", author="org"),
            ]
        )
        assert found(index, "模型") == {"org/模型-base"}
        assert found(index, "模") == {"org/模型-base"}
        assert found(index, "cafe") == found(index, "CAFÉ") == {"org/café-model"}
        assert found(index, "unicode") == {"org/café-model"}
        assert found(index, "мой") == found(index, "МОЙ bert") == {"org/мой-bert"}


HOSTILE = [
    '"',
    '""',
    "*",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(a b)",
    "-",
    ":",
    "^bert",
    "bert*",
    '"bert',
    "bert OR llama",
    "-bert",
    "words:bert",
    "model_terms",
    "(",
    ")",
    "{a b}",
    "'",
    "\\",
    "\x00",
    "%",
    "_",
    "_t_textgeneration",
    "🙂",
    "a\u0301",
    "\u202e",
    "İ",
    "x" * 2000,
    " ".join(["a"] * 300),
    "   ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_fts_syntax_in_user_text_is_just_text(index: RepoIndex, plan: str, text: str) -> None:
    query = ModelQuery(text=text)
    results = index.search(query)
    assert index.count(query) == len(results)
    index.facet_counts("license", query)
    if not search_words(text):  # nothing searchable: the text narrows nothing
        assert len(results) == len(RECORDS)
    # The same text as facet values is compared as a plain value.
    picked = ModelQuery(task=text, author=text, language=text, license=text, library=text)
    if picked.task is not None:
        assert index.search(picked) == [] and index.count(picked) == 0
        for facet in ("task", "language"):
            index.facet_counts(facet, picked)


def test_operators_are_words(index: RepoIndex, plan: str) -> None:
    assert found(index, "bert OR llama") == set()  # OR is a word here, and no model has it
    assert found(index, '"bert') == found(index, "bert")
    assert "meta-llama/Llama-3.1-8B-Instruct" not in found(index, "_t_textgeneration")


# -- filters, sorts, paging ------------------------------------------------------------------------------


def test_each_filter(index: RepoIndex, plan: str) -> None:
    def where(**filters: object) -> set[str]:
        return found(index, "", **filters)

    assert where(task="fill-mask") == {"google-bert/bert-base-uncased", "FacebookAI/roberta-large"}
    assert where(library="sentence-transformers") == {"sentence-transformers/all-MiniLM-L6-v2"}
    assert where(language="de") == {"meta-llama/Llama-3.1-8B-Instruct", "openai/whisper-small"}
    assert where(language="ZH") == {"Qwen/Qwen2.5-0.5B-Instruct"}
    assert where(license="mit") == {"FacebookAI/roberta-large", "openai/whisper-small"}
    assert where(author="qwen") == {"Qwen/Qwen2.5-0.5B-Instruct"}
    assert where(gated=True) == {"meta-llama/Llama-3.1-8B-Instruct", "openai/whisper-small"}
    assert len(where(gated=False)) == len(RECORDS) - 2
    # Unknown parameter counts never pass a maximum.
    assert where(max_parameters=250_000_000) == {
        "google-bert/bert-base-uncased",
        "openai/whisper-small",
        "sentence-transformers/all-MiniLM-L6-v2",
    }
    assert where(task="text-generation", license="apache-2.0", max_parameters=1_000_000_000) == {
        "Qwen/Qwen2.5-0.5B-Instruct"
    }
    assert found(index, "instruct", language="de") == {"meta-llama/Llama-3.1-8B-Instruct"}
    assert where(task="fill-mask", author="openai") == set()
    assert where(task="no-such-task") == set()
    assert where(language="e") == set()  # a facet value is matched whole, not as a prefix


def test_each_sort_order(index: RepoIndex, plan: str) -> None:
    for sort, field in SORT_FIELDS.items():
        results = index.search(ModelQuery(sort=sort))
        assert len(results) == len(RECORDS)
        values = [getattr(record, field) for record in results]
        known = [value for value in values if value is not None]
        assert known == sorted(known, reverse=True), sort
        assert values[: len(known)] == known, f"{sort}: unknown values go last"
    assert ids(index, ModelQuery(text="bert", sort="downloads")) == [
        "sentence-transformers/all-MiniLM-L6-v2",
        "google-bert/bert-base-uncased",
        "someone/bert-finetuned-imdb",
    ]
    assert ids(index, ModelQuery(sort="created"), limit=1) == ["someone/bert-finetuned-imdb"]
    assert set(SORT_FIELDS) == set(SORTS)


def test_offset_paging_covers_everything_once(index: RepoIndex, plan: str) -> None:
    for sort in SORTS:
        query = ModelQuery(sort=sort)
        whole = ids(index, query, limit=100)
        pages = [ids(index, query, limit=3, offset=offset) for offset in (0, 3, 6, 9)]
        assert [repo for page in pages for repo in page] == whole
        assert pages[-1] == []
    assert ids(index, ModelQuery(), limit=0) == []
    assert ids(index, ModelQuery(), limit=-5) == []


def test_ties_are_stable_across_pages(tmp_path: Path, plan: str) -> None:
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(ModelRecord(f"org/same-{i:02d}", downloads=5) for i in range(30))
        pages = [ids(index, ModelQuery(text="same", sort="downloads"), limit=7, offset=o) for o in range(0, 35, 7)]
        flat = [repo for page in pages for repo in page]
        assert len(flat) == len(set(flat)) == 30


def test_count_matches_search(index: RepoIndex, plan: str) -> None:
    queries = [
        ModelQuery(),
        ModelQuery(text="bert"),
        ModelQuery(text="llama", license="apache-2.0"),
        ModelQuery(task="text-generation", gated=False),
        ModelQuery(language="en", max_parameters=10**9),
        ModelQuery(text="zzz"),
    ]
    for query in queries:
        assert index.count(query) == len(index.search(query, limit=1000)), query.describe()


def test_facet_counts_ignore_their_own_filter(index: RepoIndex, plan: str) -> None:
    query = ModelQuery(task="fill-mask", license="apache-2.0")
    # Tasks among apache-2.0 models (the task filter itself is ignored) ...
    assert index.facet_counts("task", query) == [
        ("text-generation", 2),
        ("fill-mask", 1),
        ("sentence-similarity", 1),
    ]
    # ... and licences among fill-mask models.
    assert index.facet_counts("license", query) == [("apache-2.0", 1), ("mit", 1)]
    # Languages count each model once per language it lists.
    assert index.facet_counts("language", ModelQuery(gated=True)) == [
        ("de", 2),
        ("en", 2),
        ("fr", 1),
        ("ja", 1),
    ]
    assert index.facet_counts("author", ModelQuery(text="bert"), limit=2) == [
        ("google-bert", 1),
        ("sentence-transformers", 1),
    ]
    assert index.facet_counts("library", ModelQuery(text="nothing")) == []
    with pytest.raises(ValueError):
        index.facet_counts("colour", ModelQuery())


def test_unfiltered_facet_counts_follow_updates(index: RepoIndex) -> None:
    assert index.facet_counts("library", ModelQuery()) == [("transformers", 7), ("sentence-transformers", 1)]
    assert index.facet_counts("language", ModelQuery(), limit=2) == [("en", 7), ("de", 2)]
    index.upsert([ModelRecord("Qwen/Qwen2.5-0.5B-Instruct", library_name="mlx", languages=("fr",))])
    assert index.facet_counts("library", ModelQuery()) == [
        ("transformers", 6),
        ("mlx", 1),
        ("sentence-transformers", 1),
    ]
    assert ("fr", 2) in index.facet_counts("language", ModelQuery())
    assert ("zh", 1) not in index.facet_counts("language", ModelQuery())
    # The unfiltered totals agree with counting the rows.
    for facet in ("task", "library", "language", "license", "author"):
        totals = dict(index.facet_counts(facet, ModelQuery()))
        counted = dict(index.facet_counts(facet, ModelQuery(max_parameters=10**15)))
        assert all(totals[value] >= n for value, n in counted.items())
        assert sum(totals.values()) >= sum(counted.values())


def test_cached_only(index: RepoIndex, plan: str) -> None:
    assert found(index, "", cached_only=True) == set()
    index.upsert([ModelRecord("openai/whisper-small", cache_state="partial")])
    index.upsert([ModelRecord("Qwen/Qwen2.5-0.5B-Instruct", cache_state="cached", cached_revisions=("b" * 40,))])
    assert found(index, "", cached_only=True) == {"openai/whisper-small", "Qwen/Qwen2.5-0.5B-Instruct"}
    assert found(index, "qwen", cached_only=True) == {"Qwen/Qwen2.5-0.5B-Instruct"}
    assert index.count(ModelQuery(cached_only=True, task="text-generation")) == 1


def test_updates_replace_old_terms_and_totals(index: RepoIndex, plan: str) -> None:
    index.upsert(
        [
            ModelRecord(
                "FacebookAI/roberta-large",
                license="apache-2.0",
                tags=("transformers", "roberta", "distilled"),
                languages=("fr",),
                parameters=5_000_000_000,
            )
        ]
    )
    assert "FacebookAI/roberta-large" not in found(index, "", license="mit")
    assert "FacebookAI/roberta-large" in found(index, "", license="apache-2.0")
    assert found(index, "distilled") == {"FacebookAI/roberta-large"}
    assert "FacebookAI/roberta-large" not in found(index, "pytorch")  # the old tag's word is gone
    assert found(index, "", language="fr") == {"FacebookAI/roberta-large", "meta-llama/Llama-3.1-8B-Instruct"}
    assert "FacebookAI/roberta-large" not in found(index, "", max_parameters=1_000_000_000)
    assert dict(index.facet_counts("license", ModelQuery())) == {"apache-2.0": 5, "mit": 1, "llama3.1": 1}
    assert index.count(ModelQuery(license="mit")) == 1


def test_explain_names_the_plan(index: RepoIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    assert index.explain(ModelQuery(text="bert")) == "match"
    assert index.explain(ModelQuery()) == "scan"  # nothing to match: walk the sort index
    monkeypatch.setattr(index_plan, "MATCH_CAP", 2)
    assert index.explain(ModelQuery(text="bert")) == "scan"
    assert index.explain(ModelQuery(text="uncased")) == "match"


# -- both plans against a plain-Python reference ---------------------------------------------------------

VOCABULARY = ["alpha", "alps", "beta", "bert", "berta", "gamma", "gam", "delta", "omega", "om", "x1", "x10"]
AUTHORS = ["acme", "Acme", "ACME", "bravo", "charlie", "Delta-Labs", "echo"]
SIZES = [None, 5, 10**7, 10**7 + 1, 3 * 10**8, 10**9, 10**9 + 1, 7 * 10**9, 10**12, 3 * 10**12]


def random_records(rng: random.Random, count: int) -> list[ModelRecord]:
    records = []
    for i in range(count):
        author = rng.choice(AUTHORS)
        name = "-".join(rng.sample(VOCABULARY, rng.randint(1, 3)))
        records.append(
            ModelRecord(
                f"{author}/{name}-{i}",
                author=author,
                pipeline_tag=rng.choice([None, "fill-mask", "text-generation", "Text-Generation", "a:b"]),
                library_name=rng.choice([None, "transformers", "gguf", "sentence-transformers"]),
                languages=tuple(rng.sample(["en", "fr", "de", "zh"], rng.randint(0, 3))),
                license=rng.choice([None, "mit", "apache-2.0", "other"]),
                tags=tuple(rng.sample(VOCABULARY, rng.randint(0, 2))),
                downloads=rng.choice([None, 0, 1, 5, 5, 100, rng.randint(0, 10**6)]),
                likes=rng.choice([None, 0, 3, rng.randint(0, 1000)]),
                trending_score=rng.choice([None, 0.0, 1.5, rng.random() * 100]),
                created_at=rng.choice([None, float(rng.randint(0, 10**9))]),
                last_modified=rng.choice([None, float(rng.randint(0, 10**9))]),
                gated=rng.choice([None, None, "auto", "manual"]),
                parameters=rng.choice(SIZES),
                cache_state=rng.choice(["remote", "remote", "cached", "partial"]),
                providers=tuple(rng.sample(["together", "hf-inference", "Groq"], rng.randint(0, 2))),
            )
        )
    return records


def random_query(rng: random.Random) -> ModelQuery:
    words = rng.sample(VOCABULARY, rng.randint(0, 2))
    if words and rng.random() < 0.5:
        words[-1] = words[-1][: rng.randint(1, len(words[-1]))]  # still being typed
    return ModelQuery(
        text=" ".join(words) if rng.random() < 0.8 else rng.choice(["", "BERT Alp", "x1", "acme"]),
        task=rng.choice([None, None, "fill-mask", "text-generation", "a:b"]),
        library=rng.choice([None, None, "transformers", "gguf"]),
        language=rng.choice([None, None, "en", "FR"]),
        license=rng.choice([None, None, "mit", "apache-2.0"]),
        author=rng.choice([None, None, None, "acme", "Delta-Labs"]),
        provider=rng.choice([None, None, None, "together", "groq"]),
        sort=rng.choice(list(SORTS)),
        max_parameters=rng.choice([None, None, *[size for size in SIZES if size is not None], 0]),
        gated=rng.choice([None, None, True, False]),
        cached_only=rng.random() < 0.2,
    )


def reference_rows(records: list[ModelRecord], query: ModelQuery) -> list[int]:
    """Row positions matching `query`, in its order: the semantics the index promises, spelled plainly."""
    words = [word.lower() for word in query.text.split()]
    hits = []
    for position, record in enumerate(records):
        own = set(search_words(record.repo_id)) | {word for tag in record.tags for word in search_words(tag)}
        if words and not (all(word in own for word in words[:-1]) and any(w.startswith(words[-1]) for w in own)):
            continue
        facts = {
            "task": record.pipeline_tag,
            "library": record.library_name,
            "license": record.license,
            "author": record.author,
        }
        if any(
            getattr(query, facet) and (value is None or value.casefold() != getattr(query, facet).casefold())
            for facet, value in facts.items()
        ):
            continue
        if query.language and query.language.casefold() not in {lang.casefold() for lang in record.languages}:
            continue
        if query.provider and query.provider.casefold() not in {name.casefold() for name in record.providers}:
            continue
        if query.max_parameters is not None and (record.parameters is None or record.parameters > query.max_parameters):
            continue
        if query.gated is not None and (record.gated is not None) != query.gated:
            continue
        if query.cached_only and record.cache_state == "remote":
            continue
        hits.append(position)
    field = SORT_FIELDS[query.sort]

    def order(position: int) -> tuple[bool, float, int]:
        value = getattr(records[position], field)
        return (value is not None, value or 0, position)

    return sorted(hits, key=order, reverse=True)


def reference_facets(records: list[ModelRecord], facet: str, query: ModelQuery) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for position in reference_rows(records, query.replace(**{facet: None})):
        record = records[position]
        values = {
            "task": [record.pipeline_tag],
            "library": [record.library_name],
            "license": [record.license],
            "author": [record.author],
            "language": list(record.languages),
            "provider": list(record.providers),
        }[facet]
        for value in values:
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@pytest.mark.parametrize("cap", [0, 1_000_000])
def test_both_plans_agree_with_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    monkeypatch.setattr(index_plan, "MATCH_CAP", cap)
    rng = random.Random(cap + 5)
    records = random_records(rng, 400)
    assert all(step in SIZES for step in (10**7, 10**9, 10**12)) and 10**12 == PARAMETER_STEPS[-1]
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(records)
        for _ in range(150):
            query = random_query(rng)
            expected = [records[position].repo_id for position in reference_rows(records, query)]
            offset = rng.choice([0, 0, 3, 20])
            assert ids(index, query, limit=15, offset=offset) == expected[offset : offset + 15], query.describe()
            assert index.count(query) == len(expected), query.describe()
            facet = rng.choice(FACETS)
            assert index.facet_counts(facet, query, limit=100) == reference_facets(records, facet, query), (
                facet,
                query.describe(),
            )


def test_scan_plan_facet_columns_agree_with_tokens_for_odd_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scan plan tests facet filters on the narrow key columns first; values whose case-folded token
    # matches but whose text does not compare equal (non-ASCII case folding, spaces) must still be found.
    records = [
        ModelRecord("a/plain", author="karl", license="mit", pipeline_tag="fill-mask", downloads=5),
        ModelRecord("b/upper", author="KARL", license="MIT", pipeline_tag="Fill-Mask", downloads=4),
        ModelRecord("c/kelvin", author="\u212aarl", license=" mit ", pipeline_tag="fill-mask", downloads=3),
        ModelRecord("d/other", author="karla", license="mit-0", pipeline_tag="fill-mask-x", downloads=2),
    ]
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert(records)
        queries = [
            ModelQuery(author="karl"),
            ModelQuery(license="mit", sort="downloads"),
            ModelQuery(task="fill-mask", author="Karl"),
            ModelQuery(text="kelvin", license=" MIT "),
        ]
        by_plan = {}
        for cap in (0, 1_000):
            monkeypatch.setattr(index_plan, "MATCH_CAP", cap)
            by_plan[cap] = [ids(index, query) for query in queries]
            assert [index.explain(query) for query in queries] == ["scan" if cap == 0 else "match"] * 4
        assert by_plan[0] == by_plan[1_000]
        assert sorted(by_plan[0][0]) == ["a/plain", "b/upper", "c/kelvin"]
        assert by_plan[0][1] == ["a/plain", "b/upper", "c/kelvin"]
        assert by_plan[0][3] == ["c/kelvin"]


# -- the file: threads, corruption, schema versions --------------------------------------------------------


def test_threads_share_one_index(index: RepoIndex) -> None:
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(30):
                assert index.search(ModelQuery(text="bert"))
                index.facet_counts("task", ModelQuery(license="mit"))
        except BaseException as error:  # collected for the main thread
            errors.append(error)

    def write() -> None:
        try:
            for i in range(30):
                index.upsert([ModelRecord(f"writer/model-{i}", downloads=i)])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(index) == len(RECORDS) + 30


def test_remembered_counts_follow_writes_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    with RepoIndex(path) as first, RepoIndex(path) as second:
        first.upsert(RECORDS)
        query = ModelQuery(text="bert", sort="likes")
        assert first.count(query) == 3 and first.count(query.replace(sort="created")) == 3
        assert first.facet_counts("author", query) == second.facet_counts("author", query)
        second.upsert([ModelRecord("zeta/bert-zeta", downloads=1)])
        assert first.count(query) == 4
        assert ("zeta", 1) in first.facet_counts("author", query)
        first.upsert([ModelRecord("zeta/bert-two")])
        assert first.count(query) == 5


def test_closing_is_idempotent(tmp_path: Path) -> None:
    index = RepoIndex(tmp_path / "i.sqlite")
    index.close()
    index.close()
    with pytest.raises(RuntimeError):
        index.search(ModelQuery())


def test_data_survives_reopening_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    with RepoIndex(path) as index:
        index.upsert(RECORDS)
    with RepoIndex(path) as index:
        assert index.rebuilt_reason is None
        assert len(index) == len(RECORDS)
        assert index.get(IDS[0]) == RECORDS[0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_garbage_file_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "models.sqlite"
    path.write_bytes(b"this is not a database\x00\xff" * 500)
    with RepoIndex(path) as index:
        assert index.rebuilt_reason is not None
        assert "not an SQLite database" in index.rebuilt_reason
        assert len(index) == 0
        index.upsert(RECORDS[:1])
        assert ids(index, ModelQuery(text="bert")) == [IDS[0]]
    aside = list(tmp_path.glob("models.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")


def test_damaged_pages_are_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "models.sqlite"
    with RepoIndex(path) as index:
        index.upsert(RECORDS)
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page, len(data), page):  # everything after the header page
        data[start : start + page] = b"\xa5" * page
    path.write_bytes(bytes(data))
    with RepoIndex(path) as index:
        index.search(ModelQuery(text="bert"))
        index.count(ModelQuery())
        assert index.rebuilt_reason is not None and "damaged" in index.rebuilt_reason
        index.upsert(RECORDS[:2])
        assert len(index) == 2
    assert list(tmp_path.glob("models.sqlite.corrupt-*"))


@pytest.mark.parametrize(("version", "word"), [(SCHEMA_VERSION - 1, "older"), (SCHEMA_VERSION + 1, "newer")])
def test_other_schema_versions_are_rebuilt(tmp_path: Path, version: int, word: str) -> None:
    path = tmp_path / "models.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE models (repo_id TEXT PRIMARY KEY, stars INTEGER)")
        conn.execute("INSERT INTO models VALUES ('old/row', 1)")
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    with RepoIndex(path) as index:
        assert index.rebuilt_reason is not None and word in index.rebuilt_reason
        assert len(index) == 0
        index.upsert(RECORDS)
        assert len(index) == len(RECORDS)
    with RepoIndex(path) as index:
        assert index.rebuilt_reason is None


def test_domain_module_does_not_import_textual() -> None:
    code = "import sys, hftui.hub.index, hftui.hub.catalog.query; print(' '.join(sys.modules))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "textual" not in loaded and "torch" not in loaded


# -- the real client and cache ---------------------------------------------------------------------------


def test_upsert_model_infos_from_the_local_hub(local_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=local_hub.url)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        written = index.upsert_model_infos(api.list_models(full=True, cardData=True))
        assert written == 3  # the private model is not listed without a token
        assert index.get(PRIVATE_MODEL) is None
        bert = index.get(TINY_MODEL)
        assert bert is not None
        assert (bert.author, bert.pipeline_tag, bert.library_name) == (
            "hftui-test",
            "fill-mask",
            "transformers",
        )
        assert (bert.languages, bert.license, bert.downloads, bert.likes) == (("en",), "apache-2.0", 1000, 10)
        assert "license:apache-2.0" in bert.tags and bert.created_at and bert.last_modified
        assert index.get(GATED_MODEL).gated == "manual"  # type: ignore[union-attr]
        assert ids(index, ModelQuery(text="tiny")) == [TINY_MODEL]
        assert ids(index, ModelQuery(license="mit")) == [SMALL_GPT]
        assert ids(index, ModelQuery(gated=True)) == [GATED_MODEL]
        assert ids(index, ModelQuery(sort="trending")) == [SMALL_GPT, TINY_MODEL, GATED_MODEL]
        assert ids(index, ModelQuery(sort="downloads")) == [TINY_MODEL, SMALL_GPT, GATED_MODEL]
        assert index.facet_counts("license", ModelQuery()) == [("apache-2.0", 1), ("mit", 1), ("other", 1)]
        # model_info carries the safetensors parameter count that listings leave out.
        index.upsert_model_infos([api.model_info(TINY_MODEL)])
        assert index.get(TINY_MODEL).parameters == sum(TINY_BERT_PARAMETERS.values())  # type: ignore[union-attr]
        assert index.get(TINY_MODEL).downloads == 1000  # type: ignore[union-attr]
        assert ids(index, ModelQuery(max_parameters=1000)) == [TINY_MODEL]


def test_hub_saying_not_gated_clears_gating(local_hub: LocalHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=local_hub.url)
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert_model_infos(api.list_models())
        assert index.get(GATED_MODEL).gated == "manual"  # type: ignore[union-attr]
        hosted = local_hub.repo(GATED_MODEL)
        assert hosted is not None
        hosted.gated = False
        index.upsert_model_infos(api.list_models())
        assert index.get(GATED_MODEL).gated is None  # type: ignore[union-attr]
        assert ids(index, ModelQuery(gated=True)) == []


def test_record_from_a_listing_without_card_data_reads_tags(local_hub: LocalHub) -> None:
    api = HfApi(endpoint=local_hub.url)
    info = next(iter(api.list_models(search="tiny-bert")))
    assert info.card_data is None
    record = record_from_model_info(info)
    assert (record.languages, record.license, record.pipeline_tag) == (("en",), "apache-2.0", "fill-mask")


def test_index_cache_marks_cached_then_remote(local_hub: LocalHub, tmp_path: Path) -> None:
    cache_dir = tmp_path / "hub-cache"
    snapshot = Path(snapshot_download(TINY_MODEL, endpoint=local_hub.url, cache_dir=cache_dir))
    revision = snapshot.name
    with RepoIndex(tmp_path / "i.sqlite") as index:
        index.upsert_model_infos(HfApi(endpoint=local_hub.url).list_models())
        assert index.index_cache(scan_local_cache(cache_dir)) == 1
        record = index.get(TINY_MODEL)
        assert record is not None
        assert (record.cache_state, record.cached_revisions) == ("cached", (revision,))
        assert record.size_on_disk and record.size_on_disk > 0
        assert record.downloads == 1000 and record.languages == ("en",)
        assert ids(index, ModelQuery(cached_only=True)) == [TINY_MODEL]

        # An interrupted download makes it partial.
        blobs = cache_dir / "models--hftui-test--tiny-bert" / "blobs"
        (blobs / ("0" * 64 + ".incomplete")).write_bytes(b"half")
        index.index_cache(scan_local_cache(cache_dir))
        assert index.get(TINY_MODEL).cache_state == "partial"  # type: ignore[union-attr]

        shutil.rmtree(cache_dir / "models--hftui-test--tiny-bert")
        assert index.index_cache(scan_local_cache(cache_dir)) == 0
        record = index.get(TINY_MODEL)
        assert record is not None and record.cache_state == "remote"
        assert (record.cached_revisions, record.size_on_disk) == ((), None)
        assert record.downloads == 1000  # the row stays
        assert ids(index, ModelQuery(cached_only=True)) == []


def test_index_cache_alone_fills_card_facts_offline(local_hub: LocalHub, tmp_path: Path) -> None:
    cache_dir = tmp_path / "hub-cache"
    snapshot_download(TINY_MODEL, endpoint=local_hub.url, cache_dir=cache_dir)
    snapshot_download(GATED_MODEL, endpoint=local_hub.url, cache_dir=cache_dir, token=local_hub_token())
    with RepoIndex(tmp_path / "i.sqlite") as index:
        assert index.index_cache(scan_local_cache(cache_dir)) == 2
        bert = index.get(TINY_MODEL)
        assert bert is not None
        assert (bert.pipeline_tag, bert.library_name, bert.license, bert.languages) == (
            "fill-mask",
            "transformers",
            "apache-2.0",
            ("en",),
        )
        assert {"test", "dataset:hftui-test/tiny-dataset", "license:apache-2.0"} <= set(bert.tags)
        assert index.get(GATED_MODEL).gated == "manual"  # type: ignore[union-attr]
        assert ids(index, ModelQuery(text="tiny", task="fill-mask", cached_only=True)) == [TINY_MODEL]
        assert index.facet_counts("license", ModelQuery(cached_only=True)) == [
            ("apache-2.0", 1),
            ("other", 1),
        ]
        # A second scan of an unchanged cache does not reread cards, and changes nothing.
        before = [index.get(repo) for repo in (TINY_MODEL, GATED_MODEL)]
        index.index_cache(scan_local_cache(cache_dir))
        assert [index.get(repo) for repo in (TINY_MODEL, GATED_MODEL)] == before


def local_hub_token() -> str:
    from tests.hubfixtures import HUB_TOKEN

    return HUB_TOKEN
