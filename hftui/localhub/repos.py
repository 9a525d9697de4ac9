"""A hosted model or dataset repo: Hub-side metadata (downloads, likes, gating...) and a linear history on `main`."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any, Literal

from hftui.localhub.commits import HostedCommit
from hftui.localhub.files import HostedFile
from hftui.localhub.protocol import iso_date
from hftui.localhub.tags import dataset_tags, library_from_files, model_tags

RepoType = Literal["model", "dataset"]
GatedValue = Literal[False, "auto", "manual"]

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{7,39}$")


def as_repo_type(value: object) -> RepoType | None:
    """A repo type the LocalHub hosts, from a request's value; None for spaces and anything else."""
    if value == "model":
        return "model"
    if value == "dataset":
        return "dataset"
    return None


def normalize_gated(gated: bool | str | None) -> GatedValue:
    """The Hub's `gated` value from what a test passes: True means "auto"."""
    if gated is None or gated is False:
        return False
    if gated is True or gated == "auto":
        return "auto"
    if gated == "manual":
        return "manual"
    raise ValueError(f"gated must be False, True, 'auto' or 'manual', not {gated!r}")


class HostedRepo:
    """A model or dataset served by a LocalHub: Hub-side metadata plus a linear history on `main`.

    Attributes are plain and mutable (e.g. `repo.downloads = 5`, `repo.gated = "manual"`); responses are
    computed from them on every request.
    """

    def __init__(self, repo_type: RepoType, repo_id: str, *, created_at: datetime) -> None:
        self.repo_type: RepoType = repo_type
        self.repo_id = repo_id
        # The Hub's Mongo ObjectId: 24 hex digits, stable for a given repo.
        digest = hashlib.sha1(f"{repo_type}:{repo_id}".encode(), usedforsecurity=False).hexdigest()
        self.object_id = digest[:24]
        self.pipeline_tag: str | None = None
        self.library_name: str | None = None
        self.extra_tags: list[str] = []
        self.downloads = 0
        self.likes = 0
        self.trending_score = 0
        self.gated: GatedValue = False
        self.private = False
        self.disabled = False
        self.created_at = created_at
        self.card_data_override: dict[str, Any] | None = None
        # Models: the inference providers serving it, as `model_info` sends `inferenceProviderMapping` (keyed by
        # provider: {"status", "providerId", "task", ...}); sent only when a request expands it.
        self.inference_provider_mapping: dict[str, dict[str, Any]] = {}
        # None: any registered token may read gated/private content; a set: only these user names.
        self.authorized_users: set[str] | None = None
        self.commits: list[HostedCommit] = []

    def __repr__(self) -> str:
        return f"HostedRepo({self.repo_type!r}, {self.repo_id!r}, sha={self.sha[:8]!r})"

    def append_commit(
        self, files: dict[str, HostedFile], title: str, message: str, author: str, when: datetime
    ) -> HostedCommit:
        """Commit `files` as the new snapshot of `main`; the sha hashes the repo, parent, date, title and files."""
        parent = self.commits[-1].sha if self.commits else None
        lines = [f"repo {self.repo_type}/{self.repo_id}", f"parent {parent}", f"date {iso_date(when)}", title]
        lines.extend(f"{hosted.blob_id} {path}" for path, hosted in sorted(files.items()))
        sha = hashlib.sha1("\n".join(lines).encode(), usedforsecurity=False).hexdigest()
        commit = HostedCommit(sha, title, message, author, when, files, parent)
        self.commits.append(commit)
        return commit

    # -- current state -------------------------------------------------------------------------------------

    @property
    def head(self) -> HostedCommit:
        """The latest commit on `main`."""
        return self.commits[-1]

    @property
    def sha(self) -> str:
        """The commit sha `main` points at."""
        return self.head.sha

    @property
    def files(self) -> dict[str, HostedFile]:
        """Files at `main`, by path."""
        return self.head.files

    @property
    def last_modified(self) -> datetime:
        """Date of the latest commit."""
        return self.head.date

    @property
    def author(self) -> str | None:
        """The namespace (user or org); None for legacy ids without one."""
        return self.repo_id.split("/", 1)[0] if "/" in self.repo_id else None

    @property
    def card_data(self) -> dict[str, Any] | None:
        """Card metadata at `main`: the explicit value given to LocalHub, else README.md's front matter."""
        return self.card_data_at(self.head)

    @property
    def tags(self) -> list[str]:
        """Tags at `main`, derived the way the Hub derives them."""
        return self.tags_at(self.head)

    @property
    def used_storage(self) -> int:
        """Bytes of all distinct blobs across the whole history."""
        seen: dict[str, int] = {}
        for commit in self.commits:
            for hosted in commit.files.values():
                seen[hosted.etag] = hosted.size
        return sum(seen.values())

    # -- per-commit derivations ----------------------------------------------------------------------------

    def card_data_at(self, commit: HostedCommit) -> dict[str, Any] | None:
        """Card metadata as of `commit`."""
        if self.card_data_override is not None:
            return self.card_data_override
        return commit.card

    def pipeline_tag_at(self, commit: HostedCommit) -> str | None:
        """Explicit pipeline tag, else the card's `pipeline_tag`."""
        if self.pipeline_tag is not None:
            return self.pipeline_tag
        card = self.card_data_at(commit) or {}
        value = card.get("pipeline_tag")
        return value if isinstance(value, str) else None

    def library_name_at(self, commit: HostedCommit) -> str | None:
        """Explicit library, else the card's `library_name`, else what the files suggest (as the Hub does)."""
        if self.library_name is not None:
            return self.library_name
        card = self.card_data_at(commit) or {}
        if isinstance(card.get("library_name"), str):
            return str(card["library_name"])
        return library_from_files(commit) if self.repo_type == "model" else None

    def tags_at(self, commit: HostedCommit) -> list[str]:
        """The Hub's computed tag list as of `commit`."""
        card = self.card_data_at(commit) or {}
        if self.repo_type == "model":
            library, pipeline = self.library_name_at(commit), self.pipeline_tag_at(commit)
            return model_tags(commit, card, library, pipeline, self.extra_tags)
        return dataset_tags(commit, card, self.extra_tags)

    def commit_for(self, revision: str) -> HostedCommit | None:
        """Resolve a branch name, full sha or unambiguous short sha to a commit."""
        if revision in ("main", "refs/heads/main"):
            return self.head
        revision = revision.lower()
        if _FULL_SHA.match(revision):
            return next((c for c in self.commits if c.sha == revision), None)
        if _SHORT_SHA.match(revision):
            matches = [c for c in self.commits if c.sha.startswith(revision)]
            return matches[0] if len(matches) == 1 else None
        return None

    def last_change(self, commit: HostedCommit, path: str, *, folder: bool) -> HostedCommit:
        """The newest commit, up to `commit`, that changed `path` (a file or a folder)."""
        index = self.commits.index(commit)

        def state(c: HostedCommit) -> str | None:
            if folder:
                return c.tree_id(path) if path in c.directories else None
            hosted = c.files.get(path)
            return hosted.blob_id if hosted is not None else None

        current = state(commit)
        while index > 0 and state(self.commits[index - 1]) == current:
            index -= 1
        return self.commits[index]
