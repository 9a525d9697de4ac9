"""File downloads: `/{id}/resolve/{revision}/{path}` (and under `/datasets/`), and the "CDN" origin LFS files
redirect to, with the headers `hf_hub_download` reads (`X-Repo-Commit`, `X-Linked-Etag`, `X-Linked-Size`)."""

from __future__ import annotations

import hmac
import mimetypes
import time
from urllib.parse import quote, urlencode

from hftui.localhub.access import check_read
from hftui.localhub.files import HostedFile, is_sha256
from hftui.localhub.hosting import Hosting
from hftui.localhub.protocol import NOT_FOUND_PAGE, Reply, Request, error_reply, method_not_allowed, revision_not_found
from hftui.localhub.repos import HostedRepo, RepoType
from hftui.localhub.store import Token

_TEXT_SUFFIXES = (".md", ".txt", ".jsonl", ".csv", ".tsv", ".py", ".yaml", ".yml")


def resolve(
    hosting: Hosting, request: Request, repo_type: RepoType, repo_id: str, rest: list[str], user: Token | None
) -> Reply:
    """A file at a revision: its bytes, or for an LFS file (with `lfs_redirect`) a 302 to the CDN."""
    if len(rest) < 3 or rest[0] != "resolve":
        return error_reply(404, NOT_FOUND_PAGE)  # web pages are not served
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed()
    repo = hosting.store.repo(repo_id, repo_type)
    denied = check_read(hosting, repo, repo_id, user, files=True)
    if denied is not None:
        return denied
    assert repo is not None
    revision, path = rest[1], "/".join(rest[2:])
    commit = repo.commit_for(revision)
    if commit is None:
        return revision_not_found(revision)
    hosted = commit.files.get(path)
    # The client caches a file's absence per commit, keyed on X-Repo-Commit.
    common = [("X-Repo-Commit", commit.sha), ("Accept-Ranges", "bytes")]
    if hosted is None:
        return error_reply(404, "Entry not found", "EntryNotFound", common)
    linked = (
        []
        if hosted.lfs_sha256 is None
        else [("X-Linked-Etag", f'"{hosted.lfs_sha256}"'), ("X-Linked-Size", str(hosted.size))]
    )
    if hosted.lfs_sha256 is not None and hosting.lfs_redirect:
        location = _cdn_location(hosting, repo, hosted)
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Location", location),
            ("ETag", f'"{hosted.blob_id}"'),
            *common,
            *linked,
        ]
        return Reply(302, headers, f"Found. Redirecting to {location}".encode())
    headers = [
        ("Content-Type", _content_type(path)),
        ("ETag", f'"{hosted.etag}"'),  # the sha256 for LFS files, as the client's cache expects
        ("Content-Disposition", _content_disposition(path)),
        *common,
        *linked,
    ]
    return Reply(200, headers, file=hosted)


def serve_cdn(hosting: Hosting, request: Request) -> Reply:
    """The CDN origin: an LFS object by its sha256, for URLs carrying the hub's signature (else S3's 403)."""
    if request.method not in ("GET", "HEAD"):
        return Reply(405, [("Content-Type", "text/plain")], b"Method Not Allowed")
    oid = next((s for s in request.segments if is_sha256(s)), None)
    hosted = hosting.store.lfs_file(oid) if oid else None
    signature = request.param("Signature")
    if hosted is None or oid is None or signature is None or not hmac.compare_digest(signature, hosting.sign(oid)):
        body = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>'
        return Reply(403, [("Content-Type", "application/xml")], body)
    headers = [
        ("Content-Type", "binary/octet-stream"),
        ("ETag", f'"{oid}"'),
        ("Accept-Ranges", "bytes"),
        ("Content-Disposition", _content_disposition(hosted.path)),
        ("Cache-Control", "public, max-age=604800, immutable"),
    ]
    return Reply(200, headers, file=hosted)


def _cdn_location(hosting: Hosting, repo: HostedRepo, hosted: HostedFile) -> str:
    """A "signed" URL on the CDN origin; it names the repo and file so path faults can target it."""
    assert hosted.lfs_sha256 is not None
    oid = hosted.lfs_sha256
    prefix = "models" if repo.repo_type == "model" else "datasets"
    query = urlencode({"Expires": int(time.time()) + 3600, "Signature": hosting.sign(oid)})
    return f"{hosting.cdn_url}/cdn-lfs/{prefix}/{quote(repo.repo_id)}/{oid}/{quote(hosted.path)}?{query}"


def _content_disposition(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    ascii_name = name.encode("ascii", errors="replace").decode().replace('"', "_").replace("?", "_")
    return f"inline; filename*=UTF-8''{quote(name)}; filename=\"{ascii_name}\";"


def _content_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    if path.endswith(_TEXT_SUFFIXES):
        return "text/plain; charset=utf-8"
    return guessed or "application/octet-stream"
