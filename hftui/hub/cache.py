"""What the local Hugging Face cache holds, read with huggingface_hub's own cache scanner."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hftui.hub.cards.text import read_card


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
    # The newest snapshot's card metadata as the scan read it, so the index need not parse the card again.
    card_metadata: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)


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
                card_metadata=card.metadata if card else None,
            )
        )
    repos.sort(key=lambda repo: (repo.repo_type, repo.repo_id.lower()))
    warnings = tuple(str(warning) for warning in info.warnings)
    return CacheScan(directory, tuple(repos), info.size_on_disk, warnings)


@dataclass(frozen=True)
class DeletionPlan:
    """What deleting some cached revisions would do, computed by huggingface_hub before anything is removed."""

    cache_dir: Path
    commit_hashes: tuple[str, ...]
    freed_bytes: int
    repos: tuple[str, ...]


def plan_deletion(cache_dir: Path, repos: list[tuple[str, str]]) -> DeletionPlan:
    """Plan to delete every revision of the given (repo_type, repo_id) pairs."""
    from huggingface_hub import scan_cache_dir

    info = scan_cache_dir(cache_dir)
    wanted = set(repos)
    hashes = tuple(
        revision.commit_hash
        for repo in info.repos
        if (repo.repo_type, repo.repo_id) in wanted
        for revision in repo.revisions
    )
    strategy = info.delete_revisions(*hashes)
    names = tuple(f"{repo_type}:{repo_id}" for repo_type, repo_id in repos)
    return DeletionPlan(cache_dir, hashes, strategy.expected_freed_size, names)


def plan_prune(cache_dir: Path) -> DeletionPlan:
    """Plan to delete revisions that no ref points at any more, in repos that have a newer referenced one."""
    from huggingface_hub import scan_cache_dir

    info = scan_cache_dir(cache_dir)
    hashes, names = [], []
    for repo in info.repos:
        if not any(revision.refs for revision in repo.revisions):
            continue  # nothing newer to keep: a detached-only repo is left for the user to delete
        stale = [revision.commit_hash for revision in repo.revisions if not revision.refs]
        if stale:
            hashes += stale
            names.append(f"{repo.repo_type}:{repo.repo_id}")
    strategy = info.delete_revisions(*hashes)
    return DeletionPlan(cache_dir, tuple(hashes), strategy.expected_freed_size, tuple(names))


def execute_deletion(plan: DeletionPlan) -> int:
    """Carry out a plan (re-planned against the cache as it is now); returns the bytes freed."""
    from huggingface_hub import scan_cache_dir

    if not plan.commit_hashes:
        return 0
    strategy = scan_cache_dir(plan.cache_dir).delete_revisions(*plan.commit_hashes)
    strategy.execute()
    return strategy.expected_freed_size


@dataclass(frozen=True)
class VerifyReport:
    """The result of checking a cached repo's blobs against the hashes they are stored under."""

    repo_id: str
    checked: int
    mismatched: tuple[str, ...]
    skipped: int

    @property
    def ok(self) -> bool:
        """True when every checked file matched its hash."""
        return not self.mismatched


def verify_cached_repo(cache_dir: Path, repo_type: str, repo_id: str) -> VerifyReport:
    """Re-hash every blob of a cached repo offline: a blob's file name is its ETag, the sha256 of an LFS
    file or the git blob sha1 of a small one, so a changed or truncated file shows up as a mismatch."""
    import hashlib

    from huggingface_hub import scan_cache_dir

    info = scan_cache_dir(cache_dir)
    repo = next((r for r in info.repos if r.repo_type == repo_type and r.repo_id == repo_id), None)
    if repo is None:
        return VerifyReport(repo_id, 0, (), 0)
    blobs = {file.blob_path: file.file_name for revision in repo.revisions for file in revision.files}
    checked, skipped, mismatched = 0, 0, []
    for blob_path, name in sorted(blobs.items()):
        expected = blob_path.name
        sha256 = hashlib.sha256()
        size = blob_path.stat().st_size
        sha1 = hashlib.sha1(f"blob {size}\0".encode())
        with open(blob_path, "rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                sha256.update(chunk)
                sha1.update(chunk)
        if len(expected) == 64:
            checked += 1
            matched = sha256.hexdigest() == expected
        elif len(expected) == 40:
            checked += 1
            matched = sha1.hexdigest() == expected
        else:
            skipped += 1  # not a hash we know how to check
            continue
        if not matched:
            mismatched.append(name)
    return VerifyReport(repo_id, checked, tuple(mismatched), skipped)
