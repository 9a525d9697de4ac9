"""How the local model index scales: a million synthetic Hub rows, and start-up indexing of a 500-repo cache.

Builds 1,000,000 realistic model rows (org/name-variant ids, Zipf-like authors and downloads, ~40 tasks,
~24 libraries, languages, licences, Hub-style tags) into a temporary index with `RepoIndex.upsert`, then
reports build time, file size and p50/p95 latency of:

* searches while the in-memory columns load in the background (SQL alone, beside the loader), and the load;
* then, with them loaded (as the app has them soon after start-up):
* 200 searches, each text + two filters + a sort (varied), first page of 50;
* the same searches without their text;
* `facet_counts` for one facet per query (the other filters applied), and `count`, each beside the plain
  GROUP BY over the matching rows (the statement `plan.facet_counts_sql` builds, what facet_counts ran before
  its in-memory columns), whose answers must be the same (mismatches are counted and printed);
* typing: every prefix of a few typed queries, each one search per keystroke;
* a naive baseline in the same run: the same searches as a full-table scan with LIKE, no FTS, no
  index (a sample, since each one reads the whole table).

Each figure line ends with its baseline from the same run where it has one, and the file's size.

Then it writes a 500-repo HF cache with the real layout (models--org--name/{blobs,snapshots/<sha>,refs/main},
README front matter per repo) and times `scan_local_cache` + `index_cache`, first and second time.

    python bench/index_scale.py [--rows 1000000] [--queries 200] [--repos 500]

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hftui.hub.cache import scan_local_cache
from hftui.hub.catalog.query import SORTS, ModelQuery
from hftui.hub.index import ModelRecord, RepoIndex
from hftui.hub.index.kinds import MODELS
from hftui.hub.index.plan import facet_counts_sql, plan_query

TASKS = """text-generation text-classification token-classification fill-mask question-answering summarization
translation feature-extraction sentence-similarity text2text-generation automatic-speech-recognition
audio-classification text-to-speech image-classification object-detection image-segmentation text-to-image
image-to-text image-text-to-text zero-shot-classification zero-shot-image-classification depth-estimation
video-classification reinforcement-learning tabular-classification tabular-regression image-to-image
unconditional-image-generation visual-question-answering document-question-answering
table-question-answering audio-to-audio voice-activity-detection mask-generation text-to-video any-to-any
image-feature-extraction keypoint-detection text-ranking robotics""".split()
LIBRARIES = """transformers sentence-transformers diffusers peft gguf timm stable-baselines3 ml-agents pytorch
keras tf-keras adapter-transformers fastai onnx mlx open_clip speechbrain nemo spacy sklearn flair espnet
setfit transformers.js""".split()
LICENSES = """apache-2.0 mit other cc-by-4.0 cc-by-nc-4.0 llama3.1 llama2 gemma openrail creativeml-openrail-m
bsd-3-clause gpl-3.0 cc-by-sa-4.0 afl-3.0 artistic-2.0 wtfpl""".split()
LANGUAGES = """en zh fr de es ru ja ko ar pt it nl pl tr vi id hi sv fa uk cs fi he th el hu ro da bn ms""".split()
ORGS = """google meta-llama microsoft Qwen mistralai openai facebook bigscience EleutherAI stabilityai
sentence-transformers nvidia intfloat BAAI deepseek-ai TheBloke bartowski unsloth mlx-community
HuggingFaceTB allenai tiiuae ibm-granite CohereForAI Salesforce laion openbmb THUDM 01-ai nomic-ai
jinaai thenlper Alibaba-NLP cardiffnlp distilbert FacebookAI timm lmstudio-community NousResearch""".split()
# (family, model_type, usual task, usual library)
FAMILIES = [
    ("bert-base-uncased", "bert", "fill-mask", "transformers"),
    ("bert-large-cased", "bert", "fill-mask", "transformers"),
    ("roberta-base", "roberta", "fill-mask", "transformers"),
    ("xlm-roberta-large", "xlm-roberta", "fill-mask", "transformers"),
    ("deberta-v3-base", "deberta-v2", "text-classification", "transformers"),
    ("distilbert-base-uncased", "distilbert", "text-classification", "transformers"),
    ("electra-small", "electra", "text-classification", "transformers"),
    ("albert-base-v2", "albert", "fill-mask", "transformers"),
    ("gpt2", "gpt2", "text-generation", "transformers"),
    ("gpt-neo-1.3B", "gpt_neo", "text-generation", "transformers"),
    ("Llama-2-7b", "llama", "text-generation", "transformers"),
    ("Llama-3.1-8B-Instruct", "llama", "text-generation", "transformers"),
    ("Llama-3.2-1B", "llama", "text-generation", "transformers"),
    ("TinyLlama-1.1B-Chat", "llama", "text-generation", "transformers"),
    ("Mistral-7B-Instruct-v0.2", "mistral", "text-generation", "transformers"),
    ("Mixtral-8x7B", "mixtral", "text-generation", "transformers"),
    ("Qwen2.5-7B-Instruct", "qwen2", "text-generation", "transformers"),
    ("Qwen2.5-0.5B", "qwen2", "text-generation", "transformers"),
    ("Qwen2-VL-7B", "qwen2_vl", "image-text-to-text", "transformers"),
    ("gemma-2-9b-it", "gemma2", "text-generation", "transformers"),
    ("gemma-2b", "gemma", "text-generation", "transformers"),
    ("phi-2", "phi", "text-generation", "transformers"),
    ("Phi-3-mini-4k-instruct", "phi3", "text-generation", "transformers"),
    ("falcon-7b", "falcon", "text-generation", "transformers"),
    ("t5-small", "t5", "text2text-generation", "transformers"),
    ("flan-t5-base", "t5", "text2text-generation", "transformers"),
    ("bart-large-cnn", "bart", "summarization", "transformers"),
    ("mbart-large-50", "mbart", "translation", "transformers"),
    ("opus-mt-en-de", "marian", "translation", "transformers"),
    ("whisper-small", "whisper", "automatic-speech-recognition", "transformers"),
    ("whisper-large-v3", "whisper", "automatic-speech-recognition", "transformers"),
    ("wav2vec2-base-960h", "wav2vec2", "automatic-speech-recognition", "transformers"),
    ("hubert-large", "hubert", "audio-classification", "transformers"),
    ("speecht5-tts", "speecht5", "text-to-speech", "transformers"),
    ("vit-base-patch16-224", "vit", "image-classification", "transformers"),
    ("resnet-50", "resnet", "image-classification", "timm"),
    ("convnext-tiny", "convnext", "image-classification", "timm"),
    ("detr-resnet-50", "detr", "object-detection", "transformers"),
    ("yolos-small", "yolos", "object-detection", "transformers"),
    ("segformer-b0", "segformer", "image-segmentation", "transformers"),
    ("sam-vit-base", "sam", "mask-generation", "transformers"),
    ("clip-vit-base-patch32", "clip", "zero-shot-image-classification", "transformers"),
    ("siglip-so400m", "siglip", "zero-shot-image-classification", "transformers"),
    ("blip-image-captioning-base", "blip", "image-to-text", "transformers"),
    ("dpt-large", "dpt", "depth-estimation", "transformers"),
    ("all-MiniLM-L6-v2", "bert", "sentence-similarity", "sentence-transformers"),
    ("all-mpnet-base-v2", "mpnet", "sentence-similarity", "sentence-transformers"),
    ("bge-small-en-v1.5", "bert", "feature-extraction", "sentence-transformers"),
    ("e5-large-v2", "bert", "feature-extraction", "sentence-transformers"),
    ("stable-diffusion-v1-5", "stable-diffusion", "text-to-image", "diffusers"),
    ("stable-diffusion-xl-base-1.0", "sdxl", "text-to-image", "diffusers"),
    ("FLUX.1-dev", "flux", "text-to-image", "diffusers"),
    ("ppo-LunarLander-v2", "ppo", "reinforcement-learning", "stable-baselines3"),
    ("dqn-SpaceInvaders", "dqn", "reinforcement-learning", "stable-baselines3"),
    ("ppo-Huggy", "ppo", "reinforcement-learning", "ml-agents"),
    ("tabpfn", "tabpfn", "tabular-classification", "sklearn"),
]
VARIANTS = """finetuned sft dpo lora merged GGUF AWQ GPTQ 4bit 8bit instruct chat base v1 v2 v0.1 test
imdb squad sst2 ner emotion medical legal code math german french chinese arabic japanese korean
summarize qa distilled pruned quantized onnx mlx exl2 int8 fp16 bnb-4bit uncensored roleplay
ckpt-500 ckpt-1000 epoch3 run1 run2 trial final best""".split()
SYLLABLES = "ka lo mi ra zen tor vi sa nu pe li an el jo mar ko ta ri den sho yu ha be ni".split()
DATASETS = """imdb squad glue/sst2 wikitext c4 common_voice librispeech_asr openwebtext the_pile
HuggingFaceH4/ultrachat_200k tatsu-lab/alpaca Open-Orca/OpenOrca""".split()
SIZE_WORDS = {
    "0.5B": 5e8,
    "1B": 1e9,
    "1.1B": 1.1e9,
    "1.3B": 1.3e9,
    "2b": 2e9,
    "7b": 7e9,
    "7B": 7e9,
    "8B": 8e9,
}


def zipf_weights(count: int, exponent: float = 1.1) -> list[float]:
    """Weights 1/rank^s: a few values common, a long tail rare."""
    return [1.0 / (rank**exponent) for rank in range(1, count + 1)]


def make_authors(rng: random.Random, count: int) -> list[str]:
    """Known orgs first (most popular), then generated user names."""
    authors = list(ORGS)
    seen = set(authors)
    while len(authors) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.4:
            name += str(rng.randint(1, 999))
        if rng.random() < 0.2:
            name = name.capitalize() + rng.choice(["AI", "Labs", "-research", "_nlp", ""])
        if name not in seen:
            seen.add(name)
            authors.append(name)
    return authors


def synthetic_records(count: int, seed: int = 7) -> Iterator[ModelRecord]:
    """`count` Hub-like model rows with unique ids."""
    rng = random.Random(seed)
    authors = make_authors(rng, max(1000, count // 25))
    author_cum = list(_cumulative(zipf_weights(len(authors), 1.05)))
    family_cum = list(_cumulative(zipf_weights(len(FAMILIES), 0.8)))
    task_cum = list(_cumulative(zipf_weights(len(TASKS), 1.2)))
    library_cum = list(_cumulative(zipf_weights(len(LIBRARIES), 1.5)))
    license_cum = list(_cumulative(zipf_weights(len(LICENSES), 1.3)))
    language_cum = list(_cumulative(zipf_weights(len(LANGUAGES), 1.4)))
    start, end = 1.61e9, 1.75e9  # 2021-01 .. 2025-06
    seen: set[str] = set()
    for _ in range(count):
        author = authors[_pick(rng, author_cum)]
        family, model_type, task, library = FAMILIES[_pick(rng, family_cum)]
        if rng.random() < 0.25:
            task = TASKS[_pick(rng, task_cum)]
        if rng.random() < 0.2:
            library = LIBRARIES[_pick(rng, library_cum)]
        parts = [family]
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
            parts.append(rng.choice(VARIANTS))
        name = "-".join(parts)
        repo_id = f"{author}/{name}"
        while repo_id.lower() in seen:
            repo_id = f"{author}/{name}-{rng.randint(2, 99999)}"
        seen.add(repo_id.lower())
        roll = rng.random()
        languages: tuple[str, ...] = ()
        if roll < 0.35:
            languages = ("en",)
        elif roll < 0.45:
            languages = tuple(dict.fromkeys(LANGUAGES[_pick(rng, language_cum)] for _ in range(rng.randint(1, 3))))
        license_id = LICENSES[_pick(rng, license_cum)] if rng.random() < 0.8 else None
        downloads = 0 if rng.random() < 0.35 else int(math.exp(rng.gauss(2.5, 2.6)))
        likes = int(downloads**0.45 * rng.random()) if downloads else 0
        trending = rng.expovariate(0.2) if rng.random() < 0.08 else 0.0
        created = rng.uniform(start, end)
        modified = min(end, created + rng.expovariate(1 / 3e6))
        gated = "manual" if rng.random() < 0.02 else ("auto" if rng.random() < 0.01 else None)
        parameters = None
        if rng.random() < 0.7:
            size = next((value for word, value in SIZE_WORDS.items() if word in name), None)
            parameters = int(size or math.exp(rng.uniform(math.log(1e6), math.log(7e10))))
        tags = [library, task, model_type]
        if rng.random() < 0.7:
            tags.append("safetensors")
        if rng.random() < 0.4:
            tags.append("pytorch")
        tags.extend(languages)
        if rng.random() < 0.3:
            tags.append(f"base_model:{rng.choice(ORGS)}/{family}")
        if rng.random() < 0.2:
            tags.append(f"dataset:{rng.choice(DATASETS)}")
        if rng.random() < 0.4:
            tags.append("endpoints_compatible")
        if task == "text-generation" and rng.random() < 0.5:
            tags.extend(("text-generation-inference", "conversational"))
        if license_id:
            tags.append(f"license:{license_id}")
        tags.append("region:us")
        yield ModelRecord(
            repo_id=repo_id,
            author=author,
            pipeline_tag=task,
            library_name=library,
            languages=languages,
            license=license_id,
            tags=tuple(dict.fromkeys(tags)),
            downloads=downloads,
            likes=likes,
            trending_score=trending,
            created_at=created,
            last_modified=modified,
            gated=gated,
            parameters=parameters,
        )


def _cumulative(weights: list[float]) -> Iterator[float]:
    total = sum(weights)
    running = 0.0
    for weight in weights:
        running += weight / total
        yield running


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    import bisect

    return min(bisect.bisect_left(cumulative, rng.random()), len(cumulative) - 1)


TEXTS = """llama bert qwen mistral whisper gemma phi stable diffusion t5 gpt2 clip vit resnet
llama instruct qwen2 gguf bert base mistral 7b whisper small sentence all minilm lora dpo
tiny bge e5 flux ppo lunar roberta deberta xlm electra falcon yolos sam detr
lla be qw mis whi ge st gg in fin ins cha co me ko ja""".split("\n")


def make_queries(rng: random.Random, sample: list[ModelRecord], count: int) -> list[ModelQuery]:
    """Text + two filters + a sort; filter values come from real rows, as a picker would offer them."""
    words = [text for line in TEXTS for text in line.split()]
    pairs = ["llama instruct", "bert base", "mistral 7b", "whisper small", "all minilm", "qwen2 gguf"]
    queries = []
    for _ in range(count):
        row = rng.choice(sample)
        text = rng.choice(pairs) if rng.random() < 0.25 else rng.choice(words)
        candidates = {
            "task": row.pipeline_tag,
            "library": row.library_name,
            "language": row.languages[0] if row.languages else "en",
            "license": row.license or "apache-2.0",
            "author": row.author,
            "max_parameters": rng.choice([1_000_000_000, 7_000_000_000, 100_000_000]),
            "gated": False,
        }
        chosen = rng.sample(sorted(candidates), 2)
        queries.append(
            ModelQuery(text=text, sort=rng.choice(list(SORTS)), **{name: candidates[name] for name in chosen})
        )
    return queries


def timed_since(started: float) -> float:
    """Milliseconds since `started` (a perf_counter reading)."""
    return (time.perf_counter() - started) * 1000


def timed(call: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> str:
    """p50, p95 and max of millisecond samples, as one line."""
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms   (n={len(ordered)})"


def naive_search(conn: sqlite3.Connection, query: ModelQuery) -> list[tuple[object, ...]]:
    """The baseline: LIKE over id and tags, the same filters and sort, no FTS and no index."""
    column = {
        "trending": "trending_score",
        "likes": "likes",
        "downloads": "downloads",
        "updated": "last_modified",
        "created": "created_at",
    }[query.sort]
    where, params = [], []
    for word in query.text.split():
        where.append("(repo_id LIKE ? OR tags LIKE ?)")
        params += [f"%{word}%", f"%{word}%"]
    for name, col in (("task", "pipeline_tag"), ("library", "library_name"), ("license", "license")):
        if getattr(query, name):
            where.append(f"{col} = ?")
            params.append(getattr(query, name))
    if query.author:
        where.append("author = ?")
        params.append(query.author)
    if query.language:
        where.append("languages LIKE ?")
        params.append(f'%"{query.language}"%')
    if query.max_parameters is not None:
        where.append("parameters <= ?")
        params.append(query.max_parameters)
    if query.gated is not None:
        where.append("gated IS NOT NULL" if query.gated else "gated IS NULL")
    sql = "SELECT repo_id FROM models AS m NOT INDEXED JOIN model_keys AS k ON k.id = m.id "
    sql += f"WHERE {' AND '.join(where) or '1'} "
    sql += f"ORDER BY {column} DESC LIMIT 50"
    return conn.execute(sql, params).fetchall()


CARD = """---
license: {license}
language:
- {language}
library_name: {library}
pipeline_tag: {task}
tags:
- {tag}
- synthetic
base_model: {base}
datasets:
- imdb
---

# {name}

A synthetic model card for the cache benchmark.
"""


def write_cache(root: Path, repos: int, rng: random.Random) -> Path:
    """A real-layout HF cache (models--org--name/{blobs,snapshots/<sha>,refs/main}), a README per repo."""
    cache = root / "hub"
    for i in range(repos):
        org = rng.choice(ORGS)
        family = FAMILIES[i % len(FAMILIES)]
        name = f"{family[0]}-{i}"
        folder = cache / f"models--{org}--{name}"
        sha = hashlib.sha1(f"{org}/{name}".encode()).hexdigest()
        (folder / "blobs").mkdir(parents=True)
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text(sha)
        snapshot = folder / "snapshots" / sha
        snapshot.mkdir(parents=True)
        files = {
            "README.md": CARD.format(
                license=rng.choice(LICENSES),
                language=rng.choice(LANGUAGES),
                library=family[3],
                task=family[2],
                tag=family[1],
                base=f"{org}/{family[0]}",
                name=name,
            ).encode(),
            "config.json": b'{"model_type": "%s"}' % family[1].encode(),
            "model.safetensors": rng.randbytes(2048),
        }
        for filename, content in files.items():
            blob_id = hashlib.sha256(content).hexdigest()
            (folder / "blobs" / blob_id).write_bytes(content)
            (snapshot / filename).symlink_to(Path("..") / ".." / "blobs" / blob_id)
        if i % 50 == 0:  # an interrupted download
            (folder / "blobs" / (hashlib.sha256(b"x%d" % i).hexdigest() + ".incomplete")).write_bytes(b"partial")
    return cache


FILE_SIZE = ""  # "db 139 MiB", set once the file is built


def report(label: str, samples: list[float], baseline: list[float] | None = None) -> None:
    """One figure line, with the same run's baseline figures where there are some, and the file's size."""
    line = f"{label:<38}: {percentiles(samples)}"
    if baseline:
        ordered = sorted(baseline)
        p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        line += f"   | baseline p50 {statistics.median(ordered):7.2f} p95 {p95:7.2f} max {ordered[-1]:7.2f}"
    print(f"{line}   [{FILE_SIZE}]")


def group_by_facet_counts(index: RepoIndex, facet: str, query: ModelQuery) -> list[tuple[str, int]]:
    """The baseline: the plain GROUP BY over the rows matching `query` without `facet`'s own filter."""
    assert index._conn is not None
    others = query.replace(**{facet: None}, sort="trending")
    plan = plan_query(index._conn, others, MODELS, probe=False)
    sql, params = facet_counts_sql(plan, MODELS, facet, 50)
    return [(str(value), int(n)) for value, n in index._conn.execute(sql, params)]


TYPED = ["llama instruct", "qwen2 gguf", "mistral 7b instruct", "whisper small", "bert base uncased",
         "stable diffusion xl", "tiny llama chat", "all minilm l6"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--baseline-queries", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build in this (empty) folder and keep it, for analysis")
    args = parser.parse_args()
    rng = random.Random(11)

    with tempfile.TemporaryDirectory(prefix="hftui-index-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "models.sqlite"
        versions = f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}"
        print(f"{versions}; {args.rows:,} rows into {path}")

        # -- build -----------------------------------------------------------------------------------------
        index = RepoIndex(path)
        sample: list[ModelRecord] = []

        def rows() -> Iterator[ModelRecord]:
            for i, record in enumerate(synthetic_records(args.rows)):
                if i % 997 == 0:
                    sample.append(record)
                yield record

        started = time.perf_counter()
        written = index.upsert(rows())
        built = time.perf_counter() - started
        index.optimize()
        optimized = time.perf_counter() - started - built
        index.close()
        size = sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("models.sqlite"))
        print(f"build: {written:,} rows via upsert in {built:.1f} s (incl. making them)")
        print(f"optimize (merge FTS segments, ANALYZE, checkpoint): {optimized:.1f} s")
        print(f"file: {size / 2**20:.0f} MiB")
        global FILE_SIZE
        FILE_SIZE = f"db {size / 2**20:.0f} MiB"
        with sqlite3.connect(path) as stats:
            space = stats.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 12"
            ).fetchall()
        stats.close()
        for name, size_bytes in space:
            print(f"    {name:<28} {size_bytes / 2**20:8.1f} MiB")
        opening = []
        for _ in range(5):
            started = time.perf_counter()
            RepoIndex(path).close()
            opening.append((time.perf_counter() - started) * 1000)
        report(f"open (existing {args.rows:,}-row file)", opening)
        index = RepoIndex(path)

        # -- queries ---------------------------------------------------------------------------------------
        queries = make_queries(rng, sample, args.queries)
        for query in queries[:3]:
            print("  e.g.", query.describe())
        # The first search starts loading the in-memory columns in the background (the app starts them after
        # its cache scan); until they are loaded every query is answered in SQL alone, beside the loader.
        started = time.perf_counter()
        index.start_loading_columns()
        loading = []
        for query in queries:
            if not index._loaders:
                break
            loading.append(timed(lambda q=query: index.search(q)))
        index.load_facet_columns()
        loaded_in = timed_since(started)
        if loading:
            report("search while the columns load", loading)
        print(f"in-memory columns (facet codes, sort values, vocabulary) loaded in {loaded_in / 1000:.1f} s")
        index.search(queries[0])
        plans = [index.explain(query) for query in queries]
        print(f"plans: {plans.count('match')} FTS match first, {plans.count('scan')} sort-index scan first")
        search_ms = [timed(lambda q=q: index.search(q)) for q in queries]
        report("search: text + 2 filters + sort", search_ms)
        for plan in ("match", "scan"):
            chosen = [ms for ms, p in zip(search_ms, plans, strict=True) if p == plan]
            if chosen:
                report(f"    plan {plan}", chosen)
        report("search: same, second page", [timed(lambda q=q: index.search(q, offset=50)) for q in queries])
        no_text = [q.replace(text="") for q in queries]
        report("search: 2 filters + sort, no text", [timed(lambda q=q: index.search(q)) for q in no_text])

        def first_time(call: Callable[[], object]) -> float:
            # Time the counting itself: neither the remembered answer of an equal query nor its text's match.
            index._counts.clear()
            for _, columns in index._columns.values():
                columns._matches.clear()
            return timed(call)

        report("count: text + 2 filters", [first_time(lambda q=q: index.count(q)) for q in queries])
        facets = ["task", "library", "language", "license", "author"]
        pairs = [(facets[i % 5], q) for i, q in enumerate(queries)]
        plain = [(facet, q.replace(text="")) for facet, q in pairs]
        for label, cases in (("text + other filter", pairs), ("other filter, no text", plain)):
            mine = [first_time(lambda f=f, q=q: index.facet_counts(f, q)) for f, q in cases]
            plain_sql = [timed(lambda f=f, q=q: group_by_facet_counts(index, f, q)) for f, q in cases]
            wrong = sum(index.facet_counts(f, q) != group_by_facet_counts(index, f, q) for f, q in cases)
            report(f"facet_counts: {label}", mine, plain_sql)
            print(f"    answers differing from the GROUP BY: {wrong} of {len(cases)}")
        # What a picker does next: the counts of another facet for the same search (its text's match remembered).
        next_facet = []
        for facet, q in pairs:
            first_time(lambda f=facet, q=q: index.facet_counts(f, q))
            other = facets[(facets.index(facet) + 1) % len(facets)]
            index._counts.clear()
            next_facet.append(timed(lambda f=other, q=q: index.facet_counts(f, q)))
        report("facet_counts: text, next facet", next_facet)
        every = [(facet, ModelQuery(**{name: value})) for facet in facets
                 for name, value in (("gated", False), ("max_parameters", 10**12), ("language", "en"))]  # fmt: skip
        report(
            "facet_counts: broadest filters",
            [first_time(lambda f=f, q=q: index.facet_counts(f, q)) for f, q in every],
            [timed(lambda f=f, q=q: group_by_facet_counts(index, f, q)) for f, q in every],
        )
        for facet, q in plain:
            index.facet_counts(facet, q)
        report(
            "facet_counts: same again (remembered)",
            [timed(lambda f=f, q=q: index.facet_counts(f, q)) for f, q in plain],
        )
        report(
            "facet_counts: unfiltered",
            [timed(lambda f=f: index.facet_counts(f, ModelQuery())) for f in facets * 4],
        )
        # Two pages of a listing, as a sync writes them: new rows and rewrites of known ones, alike in both.
        pages = [list(synthetic_records(1000, seed=seed)) for seed in (98, 99)]
        index.load_facet_columns()
        started = time.perf_counter()
        index.upsert(pages[0])
        with_columns = timed_since(started)
        index._columns.clear()
        started = time.perf_counter()
        index.upsert(pages[1])
        without = timed_since(started)
        print(f"upsert of 1,000 rows: {with_columns:.0f} ms with the facet columns loaded, {without:.0f} ms without")
        index.load_facet_columns()  # dropped above: load them again before the typing
        typing = []
        for text in ("l", "ll", "lla", "llam", "llama", "llama i", "llama ins", "llama instruct"):
            typing.append(timed(lambda t=text: index.search(ModelQuery(text=t, sort="downloads"))))
        print("typing 'llama instruct', ms per keystroke: " + " ".join(f"{ms:.1f}" for ms in typing))
        keystrokes = []
        for n, typed in enumerate(TYPED):
            sort = list(SORTS)[n % len(SORTS)]
            for end in range(1, len(typed) + 1):
                if typed[end - 1] != " ":
                    query = ModelQuery(text=typed[:end], sort=sort)
                    keystrokes.append(timed(lambda q=query: index.search(q)))
        report(f"typing {len(TYPED)} queries, each keystroke", keystrokes)

        # -- baseline --------------------------------------------------------------------------------------
        conn = sqlite3.connect(path)
        baseline = queries[: args.baseline_queries]
        naive_ms = [timed(lambda q=q: naive_search(conn, q)) for q in baseline]
        indexed_ms = [timed(lambda q=q: index.search(q)) for q in baseline]
        conn.close()
        report("search, sample of the queries", indexed_ms, naive_ms)
        print("    (baseline: naive LIKE full scan, no FTS, no index)")
        print(f"          median ratio {statistics.median(naive_ms) / statistics.median(indexed_ms):.0f}x")

        # -- the local cache -------------------------------------------------------------------------------
        # The app imports huggingface_hub at start-up anyway; keep its import out of the timing.
        import huggingface_hub  # noqa: F401

        cache = write_cache(folder / "cache", args.repos, rng)
        empty = RepoIndex(folder / "empty.sqlite")
        for label, target in ((f"{args.rows:,}-row index", index), ("empty index", empty)):
            for attempt in ("first", "second"):
                started = time.perf_counter()
                scan = scan_local_cache(cache)
                scanned = time.perf_counter() - started
                target.index_cache(scan)
                total = time.perf_counter() - started
                print(
                    f"cache of {args.repos} repos into the {label}, {attempt} time: scan_local_cache"
                    f" {scanned * 1000:.0f} ms + index_cache {(total - scanned) * 1000:.0f} ms"
                    f" = {total * 1000:.0f} ms"
                )
            on_disk = target.search(ModelQuery(cached_only=True), limit=10_000)
            partial = sum(record.cache_state == "partial" for record in on_disk)
            print(f"    rows on disk: {len(on_disk)} ({partial} partial)")
        empty.close()
        index.close()

        # -- a later session ---------------------------------------------------------------------------------
        # Every close runs PRAGMA optimize, whose sampled statistics differ from the full ANALYZE above; the
        # next session plans its queries with those, so search again as it would (its columns loaded).
        index = RepoIndex(path)
        index.load_facet_columns()
        index.search(queries[0])
        later = [timed(lambda q=q: index.search(q)) for q in queries]
        report("search again in a later session", later)
        for plan in ("match", "scan"):
            chosen = [ms for ms, p in zip(later, plans, strict=True) if p == plan]
            if chosen:
                report(f"    plan {plan}", chosen)
        index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
