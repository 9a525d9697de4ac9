"""What a LocalHub holds, in memory: the hosted repos, the registered tokens, and the LFS objects (committed,
or uploaded and waiting for the commit that names them), behind one lock since handlers run in threads."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

from hftui.localhub.files import GITATTRIBUTES, HostedFile, collect_files, make_hosted_file
from hftui.localhub.protocol import HUB_EPOCH, as_utc
from hftui.localhub.repos import HostedRepo, RepoType, normalize_gated

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def valid_repo_id(repo_id: str) -> bool:
    """Whether `repo_id` is `name` or `namespace/name` as the Hub allows them."""
    return _REPO_ID.match(repo_id) is not None


class DatasetOptions(TypedDict, total=False):
    """What `LocalHub.add_dataset` takes besides the id and folder (each optional; see `HostedRepo`)."""

    files: dict[str, bytes] | None  # in-memory files, on top of the folder's
    tags: list[str] | None  # tags beyond those the Hub derives
    downloads: int
    likes: int
    trending_score: int
    gated: bool | str  # False, True ("auto") or "manual"
    private: bool
    created_at: datetime | None
    last_modified: datetime | None  # the date of the commit adding the files
    card_data: dict[str, Any] | None  # served instead of README.md's front matter
    commit_message: str | None


class ModelOptions(DatasetOptions, total=False):
    """What `LocalHub.add_model` takes: a dataset's options plus the task and library (else from card and files)."""

    pipeline_tag: str | None
    library_name: str | None
    # The Hub's `inferenceProviderMapping` as model_info sends it: {provider: {"status": "live" or "staging",
    # "providerId": ..., "task": ...}}; listings send it as a list of those entries with their provider.
    inference_provider_mapping: dict[str, dict[str, Any]] | None


@dataclass(frozen=True)
class Token:
    """A registered token and the account it authenticates as."""

    token: str
    user: str
    orgs: tuple[str, ...]
    role: str  # "read", "write" or "fineGrained"
    fullname: str
    email: str
    name: str = ""
    write_scopes: tuple[str, ...] = ()  # fine-grained tokens: namespaces with repo.write


class RepoStore:
    """The repos, tokens and LFS objects of one LocalHub.

    `lock` guards them all; a route that reads a repo's head and then commits on it holds it throughout.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._repos: dict[tuple[RepoType, str], HostedRepo] = {}
        self._blobs: dict[str, HostedFile] = {}  # committed LFS files by sha256, what the CDN serves
        self._uploaded: dict[str, bytes] = {}  # LFS objects PUT by clients, waiting for the commit naming them
        self._tokens: dict[str, Token] = {}

    # -- repos ---------------------------------------------------------------------------------------------

    def add(self, repo_type: RepoType, repo_id: str, folder: Path | None, options: ModelOptions) -> HostedRepo:
        """Host a repo, or commit new files on top of an existing one and replace its metadata."""
        if not valid_repo_id(repo_id):
            raise ValueError(f"invalid repo id {repo_id!r}: expected 'name' or 'namespace/name'")
        hosted_files = collect_files(folder, options.get("files"))
        created_at, last_modified = options.get("created_at"), options.get("last_modified")
        with self.lock:
            repo = self._repos.get((repo_type, repo_id))
            if repo is None:
                # Distinct, deterministic default dates keep date sorting meaningful in tests.
                created = as_utc(created_at) if created_at else HUB_EPOCH + timedelta(days=len(self._repos))
                repo = HostedRepo(repo_type, repo_id, created_at=created)
                repo.append_commit({}, "initial commit", "", "system", created)
                default_date = created + timedelta(hours=1)
            else:
                if created_at is not None:
                    repo.created_at = as_utc(created_at)
                default_date = repo.last_modified + timedelta(days=1)
            when = as_utc(last_modified) if last_modified else default_date
            title = options.get("commit_message") or "Upload folder using huggingface_hub"
            repo.append_commit(hosted_files, title, "", self.default_user(), when)
            repo.pipeline_tag = options.get("pipeline_tag")
            repo.library_name = options.get("library_name")
            repo.extra_tags = list(options.get("tags") or [])
            repo.downloads = options.get("downloads", 0)
            repo.likes = options.get("likes", 0)
            repo.trending_score = options.get("trending_score", 0)
            repo.gated = normalize_gated(options.get("gated", False))
            repo.private = options.get("private", False)
            repo.card_data_override = options.get("card_data")
            mapping = options.get("inference_provider_mapping") or {}
            repo.inference_provider_mapping = {str(name): dict(entry) for name, entry in mapping.items()}
            self.keep_lfs_files(hosted_files.values())
            self._repos[(repo_type, repo_id)] = repo
        return repo

    def create(self, repo_type: RepoType, repo_id: str, *, author: str, private: bool) -> HostedRepo | None:
        """A new empty repo (just the Hub's .gitattributes), as `create_repo` makes; None if the id is taken,
        in any letter case."""
        with self.lock:
            if any(kind == repo_type and existing.lower() == repo_id.lower() for kind, existing in self._repos):
                return None
            created = datetime.now(UTC)
            repo = HostedRepo(repo_type, repo_id, created_at=created)
            gitattributes = make_hosted_file(".gitattributes", data=GITATTRIBUTES)
            repo.append_commit({".gitattributes": gitattributes}, "initial commit", "", author, created)
            repo.private = private
            self._repos[(repo_type, repo_id)] = repo
            return repo

    def repo(self, repo_id: str, repo_type: RepoType = "model") -> HostedRepo | None:
        """The hosted repo with this id, if any."""
        with self.lock:
            return self._repos.get((repo_type, repo_id))

    def repos(self, repo_type: RepoType | None = None) -> list[HostedRepo]:
        """Hosted repos (of one type, or all), in the order they were first added."""
        with self.lock:
            return [repo for (kind, _), repo in self._repos.items() if repo_type in (None, kind)]

    # -- tokens --------------------------------------------------------------------------------------------

    def add_token(self, token: Token) -> None:
        """Accept `token.token` from now on."""
        with self.lock:
            self._tokens[token.token] = token

    def token(self, value: str) -> Token | None:
        """The registered token with this value."""
        with self.lock:
            return self._tokens.get(value)

    def default_user(self) -> str:
        """Who commits what tests add: the first registered token's user, else "tester"."""
        with self.lock:
            return next(iter(self._tokens.values())).user if self._tokens else "tester"

    # -- LFS objects ---------------------------------------------------------------------------------------

    def lfs_file(self, oid: str) -> HostedFile | None:
        """The committed LFS file with this sha256, which the CDN serves."""
        with self.lock:
            return self._blobs.get(oid)

    def has_lfs_object(self, oid: str) -> bool:
        """Whether the hub holds this object already, committed or uploaded (a client then skips uploading it)."""
        with self.lock:
            return oid in self._blobs or oid in self._uploaded

    def keep_upload(self, oid: str, data: bytes) -> None:
        """Keep an uploaded LFS object until a commit names it."""
        with self.lock:
            self._uploaded[oid] = data

    def lfs_content(self, oid: str) -> bytes | None:
        """The bytes of an uploaded or committed LFS object."""
        with self.lock:
            data = self._uploaded.get(oid)
            if data is None and oid in self._blobs:
                data = self._blobs[oid].read()
            return data

    def keep_lfs_files(self, files: Iterable[HostedFile]) -> None:
        """Register committed LFS files for the CDN; their uploads are no longer waiting."""
        with self.lock:
            for hosted in files:
                if hosted.lfs_sha256 is not None:
                    self._blobs[hosted.lfs_sha256] = hosted
                    self._uploaded.pop(hosted.lfs_sha256, None)
