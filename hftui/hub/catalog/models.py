"""Finding and reading models: Hub listings written through to the local index, or the index alone offline.

Everything here blocks on the network or disk: the UI calls it from worker threads, the CLI directly.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.hub.cache import CachedRevision, scan_local_cache
from hftui.hub.cards.model import ModelCardFacts, card_facts
from hftui.hub.cards.text import CardText, decode_card_bytes, parse_card
from hftui.hub.catalog.query import ModelQuery
from hftui.hub.catalog.search import RepoSearch
from hftui.hub.catalog.seen import SeenStore
from hftui.hub.errors import HubProblem, explain_hub_error
from hftui.hub.index import ModelRecord, RepoIndex
from hftui.hub.inference_providers import MAPPING_PROPERTY, InferenceProvider, providers_from_info
from hftui.hub.repo_files import (
    ConfigSummary,
    RepoFile,
    describe_files,
    estimate_parameters,
    read_repo_file,
    summarize_config,
)

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import ExpandModelProperty_T

# What a listing filtered by inference provider asks for instead of `full=True, cardData=True` (`expand` excludes
# both): every field a record reads, and the provider mapping, so the index learns which providers serve each
# listed model and the same filter offline finds them.
_PROVIDER_LISTING_FIELDS: list[ExpandModelProperty_T] = [
    "author", "cardData", "createdAt", "downloads", "gated", "gguf", MAPPING_PROPERTY, "lastModified",
    "library_name", "likes", "pipeline_tag", "private", "safetensors", "sha", "tags", "trendingScore",
]  # fmt: skip


class ModelSearch(RepoSearch[ModelQuery, ModelRecord]):
    """A search in progress: pages from the Hub (written through to the index) or from the index offline.

    Not thread-safe; one worker at a time calls `next_page`.
    """

    def _index_page(self, offset: int) -> tuple[ModelRecord, ...]:
        return tuple(self.index.search(self.query, limit=self.page_size, offset=offset))

    def _hub_listing(self, api: HfApi) -> Iterable[Any]:
        if self.query.provider:
            return api.list_models(**self.query.to_hub_kwargs(), expand=_PROVIDER_LISTING_FIELDS)
        return api.list_models(**self.query.to_hub_kwargs(), full=True, cardData=True)

    def _written_through(self, infos: list[Any]) -> tuple[ModelRecord, ...]:
        self.index.upsert_model_infos(infos)
        # Read back through the index so cache state and parameter counts known locally are merged in.
        records = (self.index.get(info.id) for info in infos)
        return tuple(record for record in records if record is not None)


@dataclass(frozen=True)
class CommitEntry:
    """One commit in a repo's history."""

    commit_id: str
    title: str
    authors: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class ModelDetails:
    """Everything the model page shows, gathered online or from what was seen and cached before."""

    repo_id: str
    source: str  # "hub", "seen" (saved from an earlier visit), "cache" or "index"
    record: ModelRecord | None
    card: CardText
    facts: ModelCardFacts
    files: tuple[RepoFile, ...]
    config: ConfigSummary | None
    parameters: int | None
    parameters_source: str
    gated: str | None
    sha: str | None
    last_modified: str | None
    commits: tuple[CommitEntry, ...]
    cached_revisions: tuple[CachedRevision, ...]
    snapshot_path: Path | None
    problems: tuple[HubProblem | str, ...] = field(default_factory=tuple)
    # Whether the inference providers were read from the Hub for this page (else they are the index's last seen).
    providers_fresh: bool = False

    @property
    def inference_providers(self) -> tuple[InferenceProvider, ...]:
        """The inference providers serving the model, as last seen (see `providers_seen_at`)."""
        return self.record.inference_providers if self.record else ()

    @property
    def providers_seen_at(self) -> float | None:
        """When the Hub last listed the model's inference providers (a Unix time); None when it never has."""
        return self.record.providers_seen_at if self.record else None

    @property
    def pipeline_tag(self) -> str | None:
        """The task, from the card, else from the index."""
        return self.facts.pipeline_tag or (self.record.pipeline_tag if self.record else None)

    @property
    def library_name(self) -> str | None:
        """The library, from the card, else from the index."""
        return self.facts.library_name or (self.record.library_name if self.record else None)


def _card_from_text(text: str | None, note: str | None) -> CardText:
    if text is None:
        return CardText({}, "", "This repository has no model card (README.md).")
    return parse_card(text, note=note)


def _commit_entries(commits: Any) -> tuple[CommitEntry, ...]:
    return tuple(
        CommitEntry(
            commit.commit_id,
            commit.title,
            tuple(commit.authors),
            commit.created_at.isoformat() if isinstance(commit.created_at, datetime) else str(commit.created_at),
        )
        for commit in commits
    )


def _cached_repo(repo_id: str, cache_dir: Path) -> Any:
    scan = scan_local_cache(cache_dir)
    return next((repo for repo in scan.of_type("model") if repo.repo_id == repo_id), None)


def fetch_model_details(
    repo_id: str, *, api: HfApi, cache_dir: Path, index: RepoIndex, seen: SeenStore
) -> ModelDetails:
    """The model page from the Hub; what it learns is saved so the page also opens offline later.

    Raises the client's error when model_info itself fails; smaller failures become `problems`.
    """
    info = api.model_info(repo_id, files_metadata=True)
    index.upsert_model_infos([info])
    problems: list[HubProblem | str] = []
    providers_fresh = _read_inference_providers(api, repo_id, info, index, problems)
    try:
        raw_card = read_repo_file(api, repo_id, "README.md", info.sha)
    except Exception as error:  # the page still opens without its card
        problems.append(explain_hub_error(error, repo_id=repo_id, endpoint=api.endpoint))
        raw_card = None
    try:
        raw_config = read_repo_file(api, repo_id, "config.json", info.sha)
        config = json.loads(raw_config) if raw_config else None
    except ValueError:
        problems.append("config.json is not valid JSON.")
        config = None
    except Exception as error:
        problems.append(explain_hub_error(error, repo_id=repo_id, endpoint=api.endpoint))
        config = None
    try:
        commits = _commit_entries(api.list_repo_commits(repo_id))[:30]
    except Exception as error:
        problems.append(explain_hub_error(error, repo_id=repo_id, endpoint=api.endpoint))
        commits = ()
    files = [
        {"path": sibling.rfilename, "size": sibling.size, "lfs": sibling.lfs is not None}
        for sibling in info.siblings or []
    ]
    safetensors_total = info.safetensors.total if info.safetensors else None
    card_text, card_note = decode_card_bytes(raw_card) if raw_card is not None else (None, None)
    if card_text is not None:
        index.set_card(repo_id, card_text)
    payload = {
        "repo_id": repo_id,
        "card": card_text,
        "card_note": card_note,
        "config": config if isinstance(config, dict) else None,
        "files": files,
        "commits": [commit.__dict__ for commit in commits],
        "safetensors_total": safetensors_total,
        "gated": info.gated if isinstance(info.gated, str) else None,
        "sha": info.sha,
        "last_modified": info.last_modified.isoformat() if info.last_modified else None,
    }
    seen.save(repo_id, payload)
    details = _details_from_payload(repo_id, payload, "hub", index, cache_dir, problems)
    return dataclasses.replace(details, providers_fresh=providers_fresh)


def _read_inference_providers(
    api: HfApi, repo_id: str, info: Any, index: RepoIndex, problems: list[HubProblem | str]
) -> bool:
    """Learn which inference providers serve the model and keep it in the index: from the info when it carried
    the mapping (written through with it), else from one `expand` request, as huggingface_hub's inference client
    asks. Returns whether the Hub answered; when not, the index keeps what was seen before and `problems` says
    why."""
    if providers_from_info(info) is not None:
        return True
    try:
        expanded = api.model_info(repo_id, expand=[MAPPING_PROPERTY])
    except Exception as error:  # the page opens without them
        problem = explain_hub_error(error, repo_id=repo_id, endpoint=api.endpoint)
        problems.append(dataclasses.replace(problem, message=f"Inference providers: {problem.message}"))
        return False
    providers = providers_from_info(expanded)
    if providers is None:  # a Hub that does not know the property says nothing either way
        return False
    index.set_inference_providers(repo_id, providers)
    return True


def _details_from_payload(
    repo_id: str,
    payload: dict[str, Any],
    source: str,
    index: RepoIndex,
    cache_dir: Path,
    problems: list[HubProblem | str],
) -> ModelDetails:
    card_text = payload.get("card")
    card_note = payload.get("card_note")
    card = _card_from_text(
        card_text if isinstance(card_text, str) else None, card_note if isinstance(card_note, str) else None
    )
    config = payload.get("config") if isinstance(payload.get("config"), dict) else None
    summary = summarize_config(config) if config else None
    files = describe_files(
        [(item.get("path"), item.get("size"), bool(item.get("lfs"))) for item in payload.get("files") or []]
    )
    safetensors_total = payload.get("safetensors_total")
    if isinstance(safetensors_total, int):
        parameters, parameters_source = safetensors_total, "safetensors metadata"
    elif summary and (estimate := estimate_parameters(summary)):
        parameters, parameters_source = estimate, "estimated from config"
    else:
        parameters, parameters_source = None, "unknown"
    cached = _cached_repo(repo_id, cache_dir)
    commits = tuple(
        CommitEntry(
            str(item.get("commit_id", "")),
            str(item.get("title", "")),
            tuple(item.get("authors") or ()),
            str(item.get("created_at", "")),
        )
        for item in payload.get("commits") or []
        if isinstance(item, dict)
    )
    return ModelDetails(
        repo_id=repo_id,
        source=source,
        record=index.get(repo_id),
        card=card,
        facts=card_facts(card),
        files=files,
        config=summary,
        parameters=parameters,
        parameters_source=parameters_source,
        gated=payload.get("gated"),
        sha=payload.get("sha"),
        last_modified=payload.get("last_modified"),
        commits=commits,
        cached_revisions=cached.revisions if cached else (),
        snapshot_path=cached.snapshot_path if cached else None,
        problems=tuple(problems),
    )


def local_model_details(repo_id: str, *, cache_dir: Path, index: RepoIndex, seen: SeenStore) -> ModelDetails:
    """The model page with no network: the newest cached snapshot, else the last online visit, else the index."""
    cached = _cached_repo(repo_id, cache_dir)
    problems: list[HubProblem | str] = []
    if cached is not None and cached.snapshot_path is not None:
        snapshot = cached.snapshot_path
        readme = snapshot / "README.md"
        config_path = snapshot / "config.json"
        try:
            config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else None
        except (OSError, ValueError):
            problems.append("config.json in the cache could not be read.")
            config = None
        files = [
            {"path": path.relative_to(snapshot).as_posix(), "size": path.stat().st_size, "lfs": False}
            for path in sorted(snapshot.rglob("*"))
            if path.is_file()
        ]
        seen_payload = seen.load(repo_id) or {}
        card_text, card_note = decode_card_bytes(readme.read_bytes()) if readme.is_file() else (None, None)
        payload: dict[str, Any] = {
            "card": card_text,
            "card_note": card_note,
            "config": config,
            "files": files,
            "commits": seen_payload.get("commits") or [],
            "safetensors_total": seen_payload.get("safetensors_total"),
            "gated": seen_payload.get("gated"),
            "sha": cached.revisions[0].commit_hash if cached.revisions else None,
            "last_modified": seen_payload.get("last_modified"),
        }
        return _details_from_payload(repo_id, payload, "cache", index, cache_dir, problems)
    visit = seen.load(repo_id)
    if visit is not None:
        return _details_from_payload(repo_id, visit, "seen", index, cache_dir, problems)
    record = index.get(repo_id)
    payload = {"card": record.card_text if record else None}
    problems.append("Offline, and this model was never opened online nor downloaded: only its listing is known.")
    return _details_from_payload(repo_id, payload, "index", index, cache_dir, problems)


def load_model_details(
    repo_id: str, *, api: HfApi | None, cache_dir: Path, index: RepoIndex, seen: SeenStore | None = None
) -> tuple[ModelDetails, HubProblem | None]:
    """Online when `api` is given, falling back to what the cache and earlier visits hold; never raises for a Hub
    failure. Returns the details and, when the Hub was asked and failed, why (the page says so above the tabs)."""
    seen = seen or SeenStore()
    problem = None
    if api is not None:
        try:
            return fetch_model_details(repo_id, api=api, cache_dir=cache_dir, index=index, seen=seen), None
        except Exception as error:  # 401/gated, 404, 429, network: explained, and the local view is shown
            problem = explain_hub_error(error, repo_id=repo_id, endpoint=api.endpoint)
    return local_model_details(repo_id, cache_dir=cache_dir, index=index, seen=seen), problem
