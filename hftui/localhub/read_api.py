"""The read side of `/api/{models,datasets}/{id}`: info (at `main` or a revision), tree, paths-info, commits
and refs. Listings are in `listing.py`, file downloads in `resolve.py`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from hftui.localhub.commits import HostedCommit
from hftui.localhub.documents import DATASET_INFO_KEYS, MODEL_INFO_KEYS, repo_fields, select
from hftui.localhub.hosting import Hosting
from hftui.localhub.protocol import Reply, Request, cursor_page, error_reply, iso_date, json_reply, next_link, truthy
from hftui.localhub.repos import HostedRepo

_EXPANDED_TREE_PAGE = 50  # the Hub pages expanded listings by 50 since each entry costs a history walk


def repo_info(request: Request, repo: HostedRepo, commit: HostedCommit) -> Reply:
    """`model_info` / `dataset_info`: the info document, or only the `expand`ed fields."""
    fields = repo_fields(repo, commit, blobs=request.flag("blobs"))
    expand = request.params("expand", "expand[]")
    if expand:
        return json_reply(select(fields, ["_id", "id", *expand]))
    return json_reply(select(fields, MODEL_INFO_KEYS if repo.repo_type == "model" else DATASET_INFO_KEYS))


def tree(hosting: Hosting, request: Request, repo: HostedRepo, commit: HostedCommit, path: str) -> Reply:
    """`list_repo_tree`: a folder's entries (or all below it with `recursive`), paged by cursor."""
    path = path.strip("/")
    directories = commit.directories
    if path and path not in directories:
        return error_reply(404, f"Entry not found: {path}", "EntryNotFound", [("X-Repo-Commit", commit.sha)])
    recursive = request.flag("recursive")
    expand = request.flag("expand")
    prefix = f"{path}/" if path else ""
    entries: list[tuple[str, bool]] = []
    for candidate, is_dir in [*((d, True) for d in directories), *((f, False) for f in commit.files)]:
        if not candidate.startswith(prefix):
            continue
        if not recursive and "/" in candidate[len(prefix) :]:
            continue
        entries.append((candidate, is_dir))
    entries.sort()
    page_size = min(hosting.page_size, _EXPANDED_TREE_PAGE) if expand else hosting.page_size
    try:
        chunk, headers = cursor_page(request, hosting.url, entries, page_size)
    except ValueError:
        return error_reply(400, "Invalid cursor")
    items = [_tree_entry(repo, commit, entry_path, is_dir, expand) for entry_path, is_dir in chunk]
    return json_reply(items, headers=headers)


def paths_info(request: Request, repo: HostedRepo, commit: HostedCommit) -> Reply:
    """`get_paths_info`: tree entries for the paths asked (JSON or form body); unknown paths are left out."""
    paths: list[str]
    if "json" in request.headers.get("content-type", ""):
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return error_reply(400, "Invalid JSON body")
        raw_paths = payload.get("paths", [])
        paths = [raw_paths] if isinstance(raw_paths, str) else [str(p) for p in raw_paths]
        expand = bool(payload.get("expand"))
    else:
        form = parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        paths = form.get("paths", [])
        expand = truthy(form.get("expand"))
    directories = commit.directories
    items = []
    for raw in paths:
        path = raw.strip("/")
        if path in commit.files:
            items.append(_tree_entry(repo, commit, path, False, expand))
        elif path in directories:
            items.append(_tree_entry(repo, commit, path, True, expand))
    return json_reply(items)


def commits(hosting: Hosting, request: Request, repo: HostedRepo, commit: HostedCommit) -> Reply:
    """`list_repo_commits`: the history up to `commit`, newest first, paged by `p`."""
    history = list(reversed(repo.commits[: repo.commits.index(commit) + 1]))
    try:
        page_number = int(request.param("p") or 0)
    except ValueError:
        return error_reply(400, "Invalid page")
    size = hosting.page_size
    formatted = "formatted" in request.params("expand", "expand[]")
    items = []
    for item in history[page_number * size : (page_number + 1) * size]:
        doc: dict[str, Any] = {
            "id": item.sha,
            "title": item.title,
            "message": item.message,
            "authors": [{"user": item.author, "avatar": f"/avatars/{item.author}.svg"}],
            "date": iso_date(item.date),
        }
        if formatted:
            doc["formatted"] = {"title": _html_escape(item.title), "message": _html_escape(item.message)}
        items.append(doc)
    headers = []
    if (page_number + 1) * size < len(history):
        headers.append(next_link(request, hosting.url, "p", str(page_number + 1)))
    return json_reply(items, headers=headers)


def refs(request: Request, repo: HostedRepo) -> Reply:
    """`list_repo_refs`: the one branch, `main`; no tags, converts or pull requests."""
    payload: dict[str, Any] = {
        "branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": repo.sha}],
        "converts": [],
        "tags": [],
    }
    if request.flag("include_prs"):
        payload["pullRequests"] = []
    return json_reply(payload)


def _tree_entry(repo: HostedRepo, commit: HostedCommit, path: str, is_dir: bool, expand: bool) -> dict[str, Any]:
    entry: dict[str, Any]
    if is_dir:
        entry = {"type": "directory", "oid": commit.tree_id(path), "size": 0, "path": path}
    else:
        hosted = commit.files[path]
        entry = {"type": "file", "oid": hosted.blob_id, "size": hosted.size}
        if hosted.lfs_sha256 is not None:
            entry["lfs"] = {
                "oid": hosted.lfs_sha256,
                "size": hosted.size,
                "pointerSize": hosted.pointer_size,
            }
        entry["path"] = path
    if expand:
        last = repo.last_change(commit, path, folder=is_dir)
        entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": iso_date(last.date)}
        if not is_dir:
            entry["securityFileStatus"] = {
                "status": "safe",
                "avScan": {"virusFound": False, "virusNames": None},
                "pickleImportScan": None,
            }
    return entry


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
