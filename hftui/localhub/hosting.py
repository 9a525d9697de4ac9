"""The hub as every route sees it: its store, the URLs it serves on, and its paging and LFS settings."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from hftui.localhub.repos import RepoType
from hftui.localhub.store import RepoStore


@dataclass
class Hosting:
    """One LocalHub's state and settings, handed to each route; the URLs are set when the hub starts."""

    store: RepoStore
    page_size: int
    lfs_redirect: bool
    url: str = ""
    cdn_url: str = ""
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False)

    def sign(self, oid: str) -> str:
        """The signature a CDN URL for this LFS object carries (so only URLs the hub handed out work)."""
        return hmac.new(self._secret, oid.encode(), hashlib.sha256).hexdigest()[:32]

    def repo_url(self, repo_type: RepoType, repo_id: str) -> str:
        """A repo's web address, as create_repo and commit answers give it."""
        return f"{self.url}/{'datasets/' if repo_type == 'dataset' else ''}{repo_id}"
