"""Who is asking and what they may do: bearer tokens, `/api/whoami-v2`, private and gated repos, write rights."""

from __future__ import annotations

import hashlib
from typing import Any

from hftui.localhub.hosting import Hosting
from hftui.localhub.protocol import (
    BAD_LOGIN,
    HUB_EPOCH,
    INVALID_TOKEN,
    Reply,
    Request,
    error_reply,
    iso_date,
    json_reply,
    repo_not_found,
)
from hftui.localhub.repos import HostedRepo
from hftui.localhub.store import RepoStore, Token


def authenticate(store: RepoStore, request: Request) -> tuple[Token | None, Reply | None]:
    """The caller's token (None if anonymous), or the 401 for a token the hub does not know."""
    value = request.headers.get("authorization")
    if not value:
        return None, None
    scheme, _, token = value.partition(" ")
    entry = store.token(token.strip()) if scheme.lower() == "bearer" else None
    if entry is None:
        return None, error_reply(401, INVALID_TOKEN)
    return entry, None


def may_see(repo: HostedRepo, user: Token | None) -> bool:
    """Whether `user` may see a private repo or a gated repo's files."""
    return user is not None and (repo.authorized_users is None or user.user in repo.authorized_users)


def check_read(
    hosting: Hosting, repo: HostedRepo | None, repo_id: str, user: Token | None, *, files: bool
) -> Reply | None:
    """The Hub's refusal, if any, to show `repo` (or, with `files`, its files) to `user`."""
    if repo is None:
        return repo_not_found()
    if repo.private and not may_see(repo, user):
        # The Hub hides private repos: anonymous callers get 401, authenticated outsiders 404.
        return repo_not_found(401 if user is None else 404)
    if repo.disabled:
        return error_reply(403, "Access to this resource is disabled.")
    if files and repo.gated and not may_see(repo, user):
        if user is None:
            message = (
                f"Access to {repo.repo_type} {repo_id} is restricted. You must have access to it and be "
                "authenticated to access it. Please log in."
            )
            return error_reply(401, message, "GatedRepo")
        message = (
            f"Access to {repo.repo_type} {repo_id} is restricted and you are not in the authorized list. "
            f"Visit {hosting.repo_url(repo.repo_type, repo_id)} to ask for access."
        )
        return error_reply(403, message, "GatedRepo")
    return None


def check_write(repo: HostedRepo | None, user: Token | None, namespace: str | None = None) -> Reply | None:
    """The refusal, if any, to let `user` write to `repo` (or create one in `namespace`): only a write token of
    the namespace's user or org, or a fine-grained token scoped to it, may."""
    if user is None:
        return error_reply(401, BAD_LOGIN)
    if namespace is None:
        assert repo is not None
        namespace = repo.repo_id.split("/", 1)[0] if "/" in repo.repo_id else user.user
    kind = repo.repo_type if repo is not None else "model"
    allowed = user.write_scopes if user.role == "fineGrained" else (user.user, *user.orgs)
    if user.role == "read" or namespace not in allowed:
        return error_reply(403, f'You don\'t have the rights to create a {kind} under the namespace "{namespace}"')
    return None


def whoami(user: Token | None) -> Reply:
    """`/api/whoami-v2`: the account, its orgs and the token's role (with its scopes when fine-grained)."""
    if user is None:
        return error_reply(401, BAD_LOGIN)
    orgs = [
        {
            "type": "org",
            "id": _object_id(org),
            "name": org,
            "fullname": org,
            "email": None,
            "canPay": False,
            "periodEnd": None,
            "avatarUrl": f"/avatars/{org}.svg",
            "roleInOrg": "admin",
            "isEnterprise": False,
        }
        for org in user.orgs
    ]
    access_token: dict[str, Any] = {"displayName": user.name, "role": user.role, "createdAt": iso_date(HUB_EPOCH)}
    if user.role == "fineGrained":
        access_token["fineGrained"] = {
            "scoped": [
                {
                    "entity": {"type": "org" if name in user.orgs else "user", "name": name},
                    "permissions": ["repo.content.read", "repo.write"],
                }
                for name in user.write_scopes
            ]
        }
    return json_reply(
        {
            "type": "user",
            "id": _object_id(user.user),
            "name": user.user,
            "fullname": user.fullname,
            "email": user.email,
            "emailVerified": True,
            "canPay": False,
            "periodEnd": None,
            "isPro": False,
            "avatarUrl": f"/avatars/{user.user}.svg",
            "orgs": orgs,
            "auth": {"type": "access_token", "accessToken": access_token},
        }
    )


def _object_id(name: str) -> str:
    return hashlib.sha1(f"user:{name}".encode(), usedforsecurity=False).hexdigest()[:24]
