"""Everything a dataset page shows, from the Hub when online, else from the HF cache or an earlier visit.

Mirrors the model page (`hftui/hub/catalog/models.py`): the card and `dataset_infos.json` are read over HTTP without
adding them to the HF cache (viewing is not downloading), and what was seen is saved in a `SeenStore` for
datasets, so a dataset opened once online also opens offline. Everything here blocks: call it from a worker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.hub.cache import scan_local_cache
from hftui.hub.cards.dataset import DatasetCardFacts, dataset_card_facts
from hftui.hub.cards.text import CardText, decode_card_bytes, parse_card
from hftui.hub.catalog.seen import SeenStore
from hftui.hub.errors import HubProblem, explain_hub_error
from hftui.hub.repo_files import RepoFile, describe_files, read_repo_file

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from hftui.hub.index import RepoIndex

INFOS_FILE = "dataset_infos.json"
MAX_INFOS_BYTES = 5_000_000  # a legacy infos file is small; a huge one is not worth stalling the page for
NO_CARD = "This dataset has no card (README.md)."
NEVER_SEEN = (
    "Nothing is known locally about this dataset yet: it was never opened online nor downloaded. "
    "Open it again while online (ctrl+r retries the connection)."
)


@dataclass(frozen=True)
class DatasetDetails:
    """What the dataset page shows, and where it came from: "hub", "cache", "seen" (an earlier visit) or "unknown"."""

    repo_id: str
    source: str
    card: CardText
    facts: DatasetCardFacts
    files: tuple[RepoFile, ...] = ()
    tags: tuple[str, ...] = ()
    downloads: int | None = None
    likes: int | None = None
    gated: str | None = None
    sha: str | None = None
    last_modified: str | None = None
    snapshot_path: Path | None = None
    problems: tuple[HubProblem | str, ...] = field(default_factory=tuple)

    @property
    def known(self) -> bool:
        """False for the "not seen yet" state: offline and never fetched nor cached."""
        return self.source != "unknown"

    def preview_choices(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        """(config, splits) pairs to stream from; a dataset nothing describes gets its default config's train split."""
        choices = []
        for config in self.facts.configs:
            splits = tuple(split.name for split in config.splits) or ("train",)
            choices.append((config.name, splits))
        return tuple(choices) or ((None, ("train",)),)


def dataset_seen_store(root: Path | None = None) -> SeenStore:
    """The seen store for datasets (`<hftui home>/seen/datasets/`)."""
    return SeenStore(root, repo_type="dataset")


def _read_optional(
    api: HfApi, repo_id: str, filename: str, revision: str | None, problems: list[HubProblem | str]
) -> bytes | None:
    """A file the page can do without: a failure (a gated card, a flaky CDN) becomes a problem, not an error."""
    try:
        return read_repo_file(api, repo_id, filename, revision, repo_type="dataset")
    except Exception as error:
        problem = explain_hub_error(error, repo_id=repo_id, endpoint=api.endpoint)
        if problem not in problems:  # a gated repo refuses the card and the infos alike: say it once
            problems.append(problem)
        return None


def _infos_from_bytes(raw: bytes | None, problems: list[HubProblem | str]) -> dict[str, Any] | None:
    if raw is None:
        return None
    if len(raw) > MAX_INFOS_BYTES:
        problems.append(f"{INFOS_FILE} is larger than {MAX_INFOS_BYTES // 1_000_000} MB, so it is not read.")
        return None
    try:
        infos = json.loads(raw)
    except ValueError:
        problems.append(f"{INFOS_FILE} is not valid JSON, so its configurations are not shown.")
        return None
    if not isinstance(infos, dict):
        problems.append(f"{INFOS_FILE} is not a mapping of configurations, so it is not shown.")
        return None
    return infos


def fetch_dataset_details(
    repo_id: str,
    *,
    api: HfApi,
    seen: SeenStore | None = None,
    cache_dir: Path | None = None,
    index: RepoIndex | None = None,
) -> DatasetDetails:
    """The dataset page from the Hub; what it learns is saved (and written through to `index`) so the page
    and the dataset's row in offline searches are there later.

    Raises the client's error when `dataset_info` itself fails; a card or infos file that cannot be read
    becomes one of `problems` instead.
    """
    seen = seen or dataset_seen_store()
    info = api.dataset_info(repo_id, files_metadata=True)
    names = {sibling.rfilename for sibling in info.siblings or []}
    problems: list[HubProblem | str] = []
    raw_card, raw_infos = (
        _read_optional(api, repo_id, filename, info.sha, problems) if filename in names else None
        for filename in ("README.md", INFOS_FILE)
    )
    card_text, card_note = decode_card_bytes(raw_card) if raw_card is not None else (None, None)
    if index is not None:
        index.upsert_dataset_infos([info])
        if card_text is not None:
            index.set_dataset_card(repo_id, card_text)
    payload = {
        "repo_id": repo_id,
        "card": card_text,
        "card_note": card_note,
        "card_data": info.card_data.to_dict() if info.card_data is not None else None,
        "dataset_infos": _infos_from_bytes(raw_infos, problems),
        "files": [
            {"path": sibling.rfilename, "size": sibling.size, "lfs": sibling.lfs is not None}
            for sibling in info.siblings or []
        ],
        "tags": list(info.tags or []),
        "downloads": info.downloads,
        "likes": info.likes,
        "gated": info.gated if isinstance(info.gated, str) else None,
        "sha": info.sha,
        "last_modified": info.last_modified.isoformat() if info.last_modified else None,
    }
    seen.save(repo_id, payload)
    return _details_from_payload(repo_id, payload, "hub", problems, _cached_snapshot(repo_id, cache_dir))


def _cached_snapshot(repo_id: str, cache_dir: Path | None) -> Path | None:
    scan = scan_local_cache(cache_dir)
    repo = next((repo for repo in scan.of_type("dataset") if repo.repo_id == repo_id), None)
    return repo.snapshot_path if repo is not None else None


def _card(payload: Mapping[str, Any], problems: list[HubProblem | str]) -> CardText:
    """The card from its text; without one, the Hub's cardData (so a gated card still gives its facts)."""
    text, note = payload.get("card"), payload.get("card_note")
    if isinstance(text, str):
        return parse_card(text, note=note if isinstance(note, str) else None)
    card_data = payload.get("card_data")
    has_card = any(item.get("path") == "README.md" for item in payload.get("files") or [] if isinstance(item, dict))
    if isinstance(card_data, dict) and has_card:
        metadata = {key: value for key, value in card_data.items() if value is not None}
        return CardText(metadata, "", "The card could not be read; its metadata is shown from the Hub's listing.")
    return CardText({}, "", NO_CARD)


def _details_from_payload(
    repo_id: str,
    payload: Mapping[str, Any],
    source: str,
    problems: list[HubProblem | str],
    snapshot: Path | None,
) -> DatasetDetails:
    card = _card(payload, problems)
    infos = payload.get("dataset_infos")
    files = describe_files(
        [
            (item.get("path"), item.get("size"), bool(item.get("lfs")))
            for item in payload.get("files") or []
            if isinstance(item, dict) and isinstance(item.get("path"), str)
        ]
    )
    downloads, likes = payload.get("downloads"), payload.get("likes")
    return DatasetDetails(
        repo_id=repo_id,
        source=source,
        card=card,
        facts=dataset_card_facts(card, infos if isinstance(infos, dict) else None),
        files=files,
        tags=tuple(str(tag) for tag in payload.get("tags") or ()),
        downloads=downloads if isinstance(downloads, int) else None,
        likes=likes if isinstance(likes, int) else None,
        gated=payload.get("gated") if isinstance(payload.get("gated"), str) else None,
        sha=payload.get("sha") if isinstance(payload.get("sha"), str) else None,
        last_modified=payload.get("last_modified") if isinstance(payload.get("last_modified"), str) else None,
        snapshot_path=snapshot,
        problems=tuple(problems),
    )


def local_dataset_details(
    repo_id: str, *, cache_dir: Path | None = None, seen: SeenStore | None = None
) -> DatasetDetails:
    """The dataset page with no network: the newest cached snapshot, else the last online visit, else "not seen"."""
    seen = seen or dataset_seen_store()
    problems: list[HubProblem | str] = []
    snapshot = _cached_snapshot(repo_id, cache_dir)
    seen_payload = seen.load(repo_id)
    if snapshot is not None and snapshot.is_dir():
        readme, infos_path = snapshot / "README.md", snapshot / INFOS_FILE
        card_text, card_note = decode_card_bytes(readme.read_bytes()) if readme.is_file() else (None, None)
        try:
            raw_infos = infos_path.read_bytes() if infos_path.is_file() else None
        except OSError:
            problems.append(f"{INFOS_FILE} in the cache could not be read.")
            raw_infos = None
        known = seen_payload or {}
        payload = {
            "card": card_text,
            "card_note": card_note,
            "dataset_infos": _infos_from_bytes(raw_infos, problems),
            "files": [
                {"path": path.relative_to(snapshot).as_posix(), "size": path.stat().st_size, "lfs": False}
                for path in sorted(snapshot.rglob("*"))
                if path.is_file()
            ],
            "tags": known.get("tags") or [],
            "downloads": known.get("downloads"),
            "likes": known.get("likes"),
            "gated": known.get("gated"),
            "sha": snapshot.name,
            "last_modified": known.get("last_modified"),
        }
        return _details_from_payload(repo_id, payload, "cache", problems, snapshot)
    if seen_payload is not None:
        return _details_from_payload(repo_id, seen_payload, "seen", problems, None)
    card = CardText({}, "", None)
    return DatasetDetails(repo_id, "unknown", card, dataset_card_facts(card), problems=(NEVER_SEEN,))


def load_dataset_details(
    repo_id: str,
    *,
    api: HfApi | None,
    cache_dir: Path | None = None,
    seen: SeenStore | None = None,
    index: RepoIndex | None = None,
) -> tuple[DatasetDetails, HubProblem | None]:
    """Online when `api` is given, falling back to what is known locally; never raises for a Hub failure.

    Returns the details and, when the Hub was asked and failed, why (the page says so above the tabs).
    """
    seen = seen or dataset_seen_store()
    if api is not None:
        try:
            return fetch_dataset_details(repo_id, api=api, seen=seen, cache_dir=cache_dir, index=index), None
        except Exception as error:  # 401/gated, 404, 429, network: explained, and the local view is shown
            problem = explain_hub_error(error, repo_id=repo_id, endpoint=api.endpoint)
            return local_dataset_details(repo_id, cache_dir=cache_dir, seen=seen), problem
    return local_dataset_details(repo_id, cache_dir=cache_dir, seen=seen), None


def describe_feature(spec: object) -> str:
    """A short type for one feature of `Features.to_dict()`: `string`, `ClassLabel(neg, pos)`, `List(int32)`, ..."""
    if not isinstance(spec, Mapping):
        if isinstance(spec, list) and spec:  # the old list-of-one form of a sequence
            return f"List({describe_feature(spec[0])})"
        return json.dumps(spec, ensure_ascii=False, default=str)
    kind = spec.get("_type")
    if kind == "Value":
        return str(spec.get("dtype", "?"))
    if kind == "ClassLabel":
        names = spec.get("names")
        if isinstance(names, list):
            shown = ", ".join(str(name) for name in names[:8]) + (", …" if len(names) > 8 else "")
            return f"ClassLabel({shown})"
        return "ClassLabel"
    if kind in {"List", "Sequence", "LargeList"}:
        return f"{kind}({describe_feature(spec.get('feature'))})"
    if isinstance(kind, str):
        extra = {key: value for key, value in spec.items() if key != "_type" and value is not None}
        return f"{kind}({', '.join(f'{key}={value}' for key, value in extra.items())})" if extra else kind
    # A plain mapping is a struct of named sub-features.
    return "{" + ", ".join(f"{key}: {describe_feature(value)}" for key, value in spec.items()) + "}"
