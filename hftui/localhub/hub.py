"""`LocalHub`, what tests and `hftui demo` hold: host repos and tokens, start and stop the servers, inject
faults, read the request log. Each request is logged, delayed or failed by a fault rule, then routed."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Unpack

from hftui.localhub.faults import FaultInjection
from hftui.localhub.hosting import Hosting
from hftui.localhub.protocol import INTERNAL_ERROR, RecordedRequest, Reply, Request, Role, error_reply
from hftui.localhub.repos import HostedRepo, RepoType
from hftui.localhub.resolve import serve_cdn
from hftui.localhub.routes import route
from hftui.localhub.server import HubServer
from hftui.localhub.store import DatasetOptions, ModelOptions, RepoStore, Token


class LocalHub(FaultInjection):
    """A Hub-compatible HTTP server on 127.0.0.1 that serves repos to the real huggingface_hub client.

    `page_size` caps every paginated listing (models, datasets, tree, commits); tests set it small to
    exercise `Link: rel="next"` paging. With `lfs_redirect` (the default), LFS files are served the way the
    Hub does it: a 302 to a second "CDN" origin, with the file's metadata on the redirect response.

    Every request is logged: `requests` holds `(method, decoded path)` pairs (CDN paths start with
    `/cdn-lfs/`), `request_log` the same with query, headers and which server answered. Handler crashes
    are answered with a 500 and their tracebacks kept in `errors`. `fail`, `delay` and `cut` inject faults.
    """

    def __init__(
        self, *, page_size: int = 1000, lfs_redirect: bool = True, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        super().__init__()
        self.host = host
        self.port = port
        self.requests: list[tuple[str, str]] = []
        self.request_log: list[RecordedRequest] = []
        self.errors: list[str] = []  # tracebacks of handler crashes, answered as HTTP 500
        self._log_lock = threading.Lock()
        self._store = RepoStore()
        self._hosting = Hosting(self._store, page_size, lfs_redirect)
        self._servers: list[HubServer] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def page_size(self) -> int:
        """The most entries a listing page holds."""
        return self._hosting.page_size

    @property
    def lfs_redirect(self) -> bool:
        """Whether LFS files are served through a redirect to the CDN origin."""
        return self._hosting.lfs_redirect

    # -- repos and tokens ----------------------------------------------------------------------------------

    def add_model(self, repo_id: str, folder: Path | None = None, **options: Unpack[ModelOptions]) -> HostedRepo:
        """Host a model (a folder's files and/or `files`); adding an existing id commits the new files on top
        and replaces its metadata."""
        return self._store.add("model", repo_id, folder, options)

    def add_dataset(self, repo_id: str, folder: Path | None = None, **options: Unpack[DatasetOptions]) -> HostedRepo:
        """Host a dataset (files are served under /datasets/{id}/resolve/...); same semantics as add_model."""
        return self._store.add("dataset", repo_id, folder, ModelOptions(**options))

    def add_token(
        self,
        token: str,
        *,
        user: str = "tester",
        orgs: Sequence[str] = (),
        role: str = "write",
        fullname: str | None = None,
        email: str | None = None,
        name: str | None = None,
        write_scopes: Sequence[str] = (),
    ) -> None:
        """Register a token: requests carrying it are authenticated as `user` (member of `orgs`).

        `role` is "read", "write" or "fineGrained"; a fine-grained token may write only under the namespaces in
        `write_scopes`. `name` is the token's display name (what `hf auth login` stores it under)."""
        self._store.add_token(
            Token(
                token,
                user,
                tuple(orgs),
                role,
                fullname or user.title(),
                email or f"{user}@example.com",
                name or f"{user}-token",
                tuple(write_scopes),
            )
        )

    def repo(self, repo_id: str, repo_type: RepoType = "model") -> HostedRepo | None:
        """The hosted repo with this id, if any."""
        return self._store.repo(repo_id, repo_type)

    @property
    def repos(self) -> list[HostedRepo]:
        """All hosted repos, in the order they were first added."""
        return self._store.repos()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving in background threads; returns the endpoint URL ("http://127.0.0.1:PORT")."""
        if self._servers:
            raise RuntimeError("LocalHub is already running")
        self._stopping.clear()
        hub_server = HubServer((self.host, self.port), self, role="hub")
        cdn_server = HubServer((self.host, 0), self, role="cdn")
        self._servers = [hub_server, cdn_server]
        for server in self._servers:
            # A short poll interval keeps stop() fast; serve_forever only polls for shutdown requests.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"local-hub-{server.role}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        self._hosting.url = f"http://{self.host}:{hub_server.server_address[1]}"
        self._hosting.cdn_url = f"http://{self.host}:{cdn_server.server_address[1]}"
        return self._hosting.url

    def stop(self) -> None:
        """Stop serving and close every socket: afterwards connections to the URL are refused."""
        self._stopping.set()  # wakes delayed handlers
        servers, self._servers = self._servers, []
        # shutdown() blocks until the serve loop polls again; both servers are waited for at once.
        waiters = [threading.Thread(target=server.shutdown) for server in servers]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join()
        for server in servers:
            server.server_close()
            server.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    @property
    def url(self) -> str:
        """The endpoint URL to pass as `endpoint=` / HF_ENDPOINT."""
        if not self._hosting.url:
            raise RuntimeError("LocalHub is not started")
        return self._hosting.url

    @property
    def cdn_url(self) -> str:
        """Origin of the fake CDN that LFS files redirect to."""
        if not self._hosting.cdn_url:
            raise RuntimeError("LocalHub is not started")
        return self._hosting.cdn_url

    @property
    def running(self) -> bool:
        """Whether the servers are up."""
        return bool(self._servers)

    def __enter__(self) -> LocalHub:
        if not self._servers:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- serving -------------------------------------------------------------------------------------------

    def answer(self, request: Request, role: Role) -> Reply | None:
        """Log the request, apply fault rules, and route it; None when the hub stopped while it was held."""
        path = request.path
        with self._log_lock:
            self.request_log.append(request.record(role))
            self.requests.append((request.method, path))
        held = self.delay_for(request.method, path)
        if held is not None and self._stopping.wait(held):
            return None
        reply = self.fault_for(request.method, path)
        if reply is None:
            try:
                reply = serve_cdn(self._hosting, request) if role == "cdn" else route(self._hosting, request)
            except Exception:
                self.errors.append(traceback.format_exc())
                reply = error_reply(500, INTERNAL_ERROR)
        if reply.file is not None:
            reply.cut_after = self.cut_for(request.method, path)
        return reply
