"""What the local Hugging Face cache holds, read with huggingface_hub's own cache scanner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hftui.hub.cards import read_card


@dataclass(frozen=True)
class CachedRevision:
    """One cached snapshot of a repo."""

    commit_hash: str
    refs: tuple[str, ...]
    size_on_disk: int
    nb_files: int
    last_modified: float


@dataclass(frozen=True)
class CachedRepo:
    """A repo in the local cache with the card facts a list needs."""

    repo_id: str
    repo_type: str
    size_on_disk: int
    nb_files: int
    revisions: tuple[CachedRevision, ...]
    last_accessed: float
    last_modified: float
    snapshot_path: Path | None
    pipeline_tag: str | None = None
    library_name: str | None = None
    license: str | None = None
    card_problem: str | None = None


@dataclass(frozen=True)
class CacheScan:
    """Everything found in one cache directory."""

    cache_dir: Path
    repos: tuple[CachedRepo, ...]
    size_on_disk: int
    warnings: tuple[str, ...] = ()

    def of_type(self, repo_type: str) -> tuple[CachedRepo, ...]:
        """Only the model, dataset or space repos."""
        return tuple(repo for repo in self.repos if repo.repo_type == repo_type)


def _newest_revision(revisions: tuple[CachedRevision, ...]) -> CachedRevision | None:
    with_main = [revision for revision in revisions if "main" in revision.refs]
    if with_main:
        return with_main[0]
    return max(revisions, key=lambda revision: revision.last_modified, default=None)


def scan_local_cache(cache_dir: Path | None = None) -> CacheScan:
    """Scan the HF cache (default: HF_HUB_CACHE) and read each repo's newest card. Blocking; never raises
    for a missing cache (it is simply empty)."""
    from huggingface_hub import constants, scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    directory = Path(cache_dir or constants.HF_HUB_CACHE)
    try:
        info = scan_cache_dir(directory)
    except CacheNotFound:
        return CacheScan(directory, (), 0)
    repos = []
    for repo in info.repos:
        revisions = tuple(
            sorted(
                (
                    CachedRevision(
                        revision.commit_hash,
                        tuple(sorted(revision.refs)),
                        revision.size_on_disk,
                        revision.nb_files,
                        revision.last_modified,
                    )
                    for revision in repo.revisions
                ),
                key=lambda revision: revision.last_modified,
                reverse=True,
            )
        )
        newest = _newest_revision(revisions)
        snapshot = repo.repo_path / "snapshots" / newest.commit_hash if newest else None
        card = read_card(snapshot / "README.md") if snapshot else None
        repos.append(
            CachedRepo(
                repo_id=repo.repo_id,
                repo_type=repo.repo_type,
                size_on_disk=repo.size_on_disk,
                nb_files=repo.nb_files,
                revisions=revisions,
                last_accessed=repo.last_accessed,
                last_modified=repo.last_modified,
                snapshot_path=snapshot,
                pipeline_tag=card.get_text("pipeline_tag") if card else None,
                library_name=card.get_text("library_name") if card else None,
                license=(card.get_text("license") or card.get_text("licenses")) if card else None,
                card_problem=card.problem if card else None,
            )
        )
    repos.sort(key=lambda repo: (repo.repo_type, repo.repo_id.lower()))
    warnings = tuple(str(warning) for warning in info.warnings)
    return CacheScan(directory, tuple(repos), info.size_on_disk, warnings)
