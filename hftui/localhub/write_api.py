"""The write side, as `create_repo`, `upload_folder`, `create_commit`, `delete_file` and `delete_folder` use it:
`/api/repos/create`, `/api/validate-yaml` (the card check before an upload), `/api/{type}s/{id}/preupload/{rev}`,
the LFS batch API answered with the "basic" transfer (a PUT per object to `/lfs-upload/{oid}`), and the ndjson
`/api/{type}s/{id}/commit/{rev}`. Clients must upload with Xet off (`HF_HUB_DISABLE_XET`): there is no chunk store."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hftui.localhub.access import check_write
from hftui.localhub.commits import read_card_metadata
from hftui.localhub.files import HostedFile, is_lfs_path, is_sha256, lfs_file, make_hosted_file
from hftui.localhub.hosting import Hosting
from hftui.localhub.protocol import (
    BAD_LOGIN,
    Reply,
    Request,
    as_utc,
    error_reply,
    json_reply,
    method_not_allowed,
    repo_not_found,
    revision_not_found,
)
from hftui.localhub.repos import HostedRepo, RepoType, as_repo_type
from hftui.localhub.store import Token, valid_repo_id

LFS_UPLOAD_PATH = "lfs-upload"  # the first path segment the LFS batch answer tells clients to PUT objects to


def create_repo(hosting: Hosting, request: Request, user: Token | None) -> Reply:
    """`/api/repos/create`: an empty model or dataset (its .gitattributes only) in the user's or an org's namespace."""
    if request.method != "POST":
        return method_not_allowed()
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return error_reply(400, "Invalid JSON body")
    if not isinstance(payload, dict):
        return error_reply(400, "Invalid JSON body")
    asked_type = payload.get("type") or "model"
    repo_type = as_repo_type(asked_type)
    if repo_type is None:
        return error_reply(400, f"LocalHub does not host {asked_type} repos")
    name, organization = payload.get("name"), payload.get("organization")
    if user is None:
        return error_reply(401, BAD_LOGIN)
    namespace = organization or user.user
    repo_id = f"{namespace}/{name}"
    if not isinstance(name, str) or "/" in name or not valid_repo_id(repo_id):
        return error_reply(400, f"Invalid repo name: {name!r}")
    denied = check_write(None, user, namespace)
    if denied is not None:
        return denied
    url = hosting.repo_url(repo_type, repo_id)
    private = bool(payload.get("private")) or payload.get("visibility") == "private"
    repo = hosting.store.create(repo_type, repo_id, author=user.user, private=private)
    if repo is None:
        return json_reply({"error": f"You already created this {repo_type} repo", "url": url}, 409)
    return json_reply({"url": url, "name": repo_id, "id": repo.object_id})


def validate_yaml(request: Request) -> Reply:
    """What the Hub says of a card's metadata before an upload: broken YAML, a non-mapping, or an unknown
    licence id is an error (400); no metadata at all is a warning."""
    from hftui.hub.cards.licenses import LICENSES

    if request.method != "POST":
        return method_not_allowed()
    try:
        content = str(json.loads(request.body or b"{}").get("content") or "")
    except (ValueError, AttributeError):
        return error_reply(400, "Invalid JSON body")
    metadata, _, problem = read_card_metadata(content)
    if problem is not None:
        return json_reply({"errors": [{"message": problem}]}, 400)
    if metadata is None:
        return json_reply({"warnings": [{"message": "empty or missing yaml metadata in repo card"}]})
    licences = metadata.get("license")
    for licence in licences if isinstance(licences, list) else [licences] if licences is not None else []:
        if not isinstance(licence, str) or licence.lower() not in LICENSES:
            message = f'"license" must be one of the Hub\'s licence ids, not {licence!r}'
            return json_reply({"errors": [{"message": message}]}, 400)
    return json_reply({"warnings": []})


def preupload(request: Request, repo: HostedRepo, revision: str) -> Reply:
    """Each file's upload mode (regular or LFS) and current oid, so the client skips unchanged files."""
    commit = repo.commit_for(revision)
    if commit is None:
        return revision_not_found(revision)
    try:
        files = json.loads(request.body or b"{}")["files"]
        entries = [(str(entry["path"]), int(entry["size"])) for entry in files]
    except (ValueError, KeyError, TypeError):
        return error_reply(400, "Invalid preupload payload")
    answers = []
    for path, size in entries:
        existing = commit.files.get(path)
        answers.append(
            {
                "path": path,
                "uploadMode": "lfs" if is_lfs_path(path, size) else "regular",
                "shouldIgnore": False,
                # What the client compares with its own hash to skip unchanged files.
                "oid": existing.etag if existing is not None else None,
            }
        )
    return json_reply({"files": answers, "commitOid": commit.sha})


def lfs_batch(hosting: Hosting, request: Request, repo_path: list[str], user: Token | None) -> Reply:
    """`{repo}.git/info/lfs/objects/batch`: where to PUT each object the hub does not hold yet."""
    repo_type: RepoType = "dataset" if repo_path[0] == "datasets" else "model"
    parts = repo_path[1:] if repo_type == "dataset" else repo_path
    repo = hosting.store.repo("/".join(parts).removesuffix(".git"), repo_type)
    if repo is None:
        return repo_not_found()
    denied = check_write(repo, user)
    if denied is not None:
        return denied
    try:
        payload = json.loads(request.body)
        wanted = [(str(item["oid"]), int(item["size"])) for item in payload["objects"]]
    except (ValueError, KeyError, TypeError):
        return error_reply(400, "Invalid LFS batch payload")
    if payload.get("operation") != "upload":
        return error_reply(400, "LocalHub's LFS batch endpoint only takes uploads")
    objects = []
    for oid, size in wanted:
        entry: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
        if not is_sha256(oid):
            entry["error"] = {"code": 422, "message": f"Invalid oid {oid!r}"}
        elif not hosting.store.has_lfs_object(oid):  # objects the Hub already holds get no actions: skipped
            entry["actions"] = {"upload": {"href": f"{hosting.url}/{LFS_UPLOAD_PATH}/{oid}", "header": {}}}
        objects.append(entry)
    return json_reply({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})


def receive_lfs_object(hosting: Hosting, request: Request, oid: str) -> Reply:
    """The PUT of one LFS object, kept until a commit names it; its content must hash to its oid."""
    if request.method != "PUT":
        return method_not_allowed()
    if not is_sha256(oid) or hashlib.sha256(request.body).hexdigest() != oid:
        return error_reply(400, "The uploaded content does not match its oid")
    hosting.store.keep_upload(oid, request.body)
    return Reply(200, [("ETag", f'"{oid}"')])


def commit(hosting: Hosting, request: Request, repo: HostedRepo, revision: str, user: Token) -> Reply:
    """The ndjson commit: a header, then files to add (inline or LFS), files and folders to delete, on `main`."""
    if request.param("create_pr") in ("1", "true"):
        return error_reply(400, "LocalHub does not support pull requests")
    if revision != "main" and repo.commit_for(revision) is not repo.head:
        return error_reply(400, f"LocalHub only commits to main, not {revision!r}")
    try:
        lines = [json.loads(line) for line in request.body.splitlines() if line.strip()]
    except ValueError:
        return error_reply(400, "Invalid ndjson commit payload")
    header = next((line["value"] for line in lines if line.get("key") == "header"), None)
    if not isinstance(header, dict) or not str(header.get("summary") or "").strip():
        return error_reply(400, "A commit needs a header with a summary")
    store = hosting.store
    with store.lock:
        head = repo.head
        parent = header.get("parentCommit")
        if parent and parent != head.sha:
            return error_reply(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for line in lines:
            refused = _apply(hosting, files, line.get("key"), line.get("value") or {})
            if refused is not None:
                return refused
        when = max(as_utc(datetime.now(UTC)), repo.last_modified + timedelta(seconds=1))
        summary, description = str(header["summary"]), str(header.get("description") or "")
        made = repo.append_commit(dict(sorted(files.items())), summary, description, user.user, when)
        store.keep_lfs_files(files.values())
    url = hosting.repo_url(repo.repo_type, repo.repo_id)
    return json_reply(
        {"success": True, "commitOid": made.sha, "commitUrl": f"{url}/commit/{made.sha}", "pullRequestUrl": None}
    )


def _apply(hosting: Hosting, files: dict[str, HostedFile], key: Any, value: dict[str, Any]) -> Reply | None:
    """Apply one commit operation to `files`; the refusal when it cannot be."""
    path = str(value.get("path", "")).strip("/")
    if key == "file":
        try:
            content = (
                base64.b64decode(value["content"])
                if value.get("encoding") == "base64"
                else (str(value["content"]).encode("utf-8"))
            )
        except (KeyError, ValueError):
            return error_reply(400, f"Invalid content for {path}")
        files[path] = make_hosted_file(path, data=content)
    elif key == "lfsFile":
        oid = str(value.get("oid", ""))
        data = hosting.store.lfs_content(oid)
        if data is None:
            message = (
                f"Your push was rejected because an LFS pointer ({path}) points to a file that does not exist ({oid})."
            )
            return error_reply(422, message)
        files[path] = lfs_file(path, data, oid)
    elif key == "deletedFile":
        if files.pop(path, None) is None:
            return error_reply(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
    elif key == "deletedFolder":
        prefix = path + "/"
        for name in [name for name in files if name.startswith(prefix)]:
            del files[name]
    return None
