"""The URL map: which module answers which path of the hub origin.

/api/whoami-v2                                 access.whoami
/api/validate-yaml, /api/repos/create          write_api
/api/{models,datasets}                         listing.list_repos
/api/{models,datasets}/{id}[/revision/{rev}]   read_api.repo_info
/api/{models,datasets}/{id}/tree|paths-info|commits|refs|auth-check   read_api, access
/api/{models,datasets}/{id}/preupload|commit/{rev}                    write_api
/{id}.git/info/lfs/objects/batch, /lfs-upload/{oid}                   write_api
/[datasets/]{id}/resolve/{rev}/{path}          resolve.resolve
"""

from __future__ import annotations

from hftui.localhub import read_api, write_api
from hftui.localhub.access import authenticate, check_read, check_write, whoami
from hftui.localhub.hosting import Hosting
from hftui.localhub.listing import list_repos
from hftui.localhub.protocol import (
    NOT_FOUND_PAGE,
    Reply,
    Request,
    error_reply,
    json_reply,
    method_not_allowed,
    repo_not_found,
    revision_not_found,
)
from hftui.localhub.repos import HostedRepo, RepoType
from hftui.localhub.resolve import resolve
from hftui.localhub.store import RepoStore, Token

# Segments that follow a repo id in a path; a second segment that is one of them is not part of the id.
_PATH_KEYWORDS = frozenset(
    {
        "auth-check",
        "resolve",
        "tree",
        "blob",
        "raw",
        "revision",
        "commits",
        "commit",
        "paths-info",
        "preupload",
        "refs",
        "discussions",
        "settings",
    }
)


def route(hosting: Hosting, request: Request) -> Reply:
    """Answer a request to the hub origin (the CDN origin is `resolve.serve_cdn`)."""
    user, error = authenticate(hosting.store, request)
    if error is not None:
        return error
    segments = request.segments
    if not segments:
        return Reply(200, [("Content-Type", "text/plain; charset=utf-8")], b"LocalHub\n")
    if segments[0] == "api":
        return _route_api(hosting, request, segments[1:], user)
    if segments[0] == write_api.LFS_UPLOAD_PATH and len(segments) == 2:
        return write_api.receive_lfs_object(hosting, request, segments[1])
    if segments[-4:] == ["info", "lfs", "objects", "batch"] and len(segments) >= 5:
        return write_api.lfs_batch(hosting, request, segments[:-4], user)
    if segments[0] == "spaces":
        return repo_not_found()
    repo_type: RepoType = "dataset" if segments[0] == "datasets" else "model"
    repo_id, rest = split_repo_id(hosting.store, repo_type, segments[1:] if repo_type == "dataset" else segments)
    return resolve(hosting, request, repo_type, repo_id, rest, user)


def split_repo_id(store: RepoStore, repo_type: RepoType, segments: list[str]) -> tuple[str, list[str]]:
    """Split `segments` into a repo id (one or two segments) and what follows it."""
    if len(segments) >= 2 and store.repo(f"{segments[0]}/{segments[1]}", repo_type) is not None:
        return f"{segments[0]}/{segments[1]}", segments[2:]
    if segments and store.repo(segments[0], repo_type) is not None:
        return segments[0], segments[1:]
    # Unknown repo: guess its shape so the error names the right id.
    if len(segments) >= 2 and segments[1] not in _PATH_KEYWORDS:
        return f"{segments[0]}/{segments[1]}", segments[2:]
    return (segments[0] if segments else ""), segments[1:]


def _route_api(hosting: Hosting, request: Request, segments: list[str], user: Token | None) -> Reply:
    if segments == ["whoami-v2"]:
        return whoami(user)
    if segments == ["validate-yaml"]:
        return write_api.validate_yaml(request)
    if segments == ["repos", "create"]:
        return write_api.create_repo(hosting, request, user)
    if not segments:
        return error_reply(404, NOT_FOUND_PAGE)
    kind = segments[0]
    if kind == "spaces":
        return json_reply([]) if len(segments) == 1 else repo_not_found()
    repo_type: RepoType
    if kind == "models":
        repo_type = "model"
    elif kind == "datasets":
        repo_type = "dataset"
    else:
        return error_reply(404, NOT_FOUND_PAGE)
    if len(segments) == 1:
        return list_repos(hosting, request, repo_type, user)
    repo_id, rest = split_repo_id(hosting.store, repo_type, segments[1:])
    repo = hosting.store.repo(repo_id, repo_type)
    denied = check_read(hosting, repo, repo_id, user, files=False)
    if denied is not None:
        return denied
    assert repo is not None
    return _route_repo(hosting, request, repo, repo_id, rest, user)


def _route_repo(
    hosting: Hosting, request: Request, repo: HostedRepo, repo_id: str, rest: list[str], user: Token | None
) -> Reply:
    """What follows `/api/{models,datasets}/{id}` for a repo the caller may see."""
    action = rest[0] if rest else None
    if action is None:
        return read_api.repo_info(request, repo, repo.head)
    if action == "refs":
        return read_api.refs(request, repo)
    if action == "auth-check":
        denied = check_read(hosting, repo, repo_id, user, files=True)
        if denied is None and rest[1:] == ["write"] and (user is None or user.role == "read"):
            denied = error_reply(403, "You don't have write access to this repository.")
        return denied or json_reply({})
    if action in ("preupload", "commit") and len(rest) >= 2:
        if request.method != "POST":
            return method_not_allowed()
        denied = check_write(repo, user)
        if denied is not None:
            return denied
        revision = "/".join(rest[1:])
        if action == "preupload":
            return write_api.preupload(request, repo, revision)
        assert user is not None
        return write_api.commit(hosting, request, repo, revision, user)
    if action not in ("revision", "tree", "commits", "paths-info") or len(rest) < 2:
        return error_reply(404, NOT_FOUND_PAGE)
    revision = "/".join(rest[1:]) if action == "revision" else rest[1]
    commit = repo.commit_for(revision)
    if commit is None:
        return revision_not_found(revision)
    if action == "revision":
        return read_api.repo_info(request, repo, commit)
    if action == "tree":
        return read_api.tree(hosting, request, repo, commit, "/".join(rest[2:]))
    if action == "commits":
        return read_api.commits(hosting, request, repo, commit)
    if request.method != "POST":
        return method_not_allowed()
    return read_api.paths_info(request, repo, commit)
