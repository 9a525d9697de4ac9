"""`/api/models` and `/api/datasets`: search, author, filter, task, inference provider and gating, sort and
direction, cursor paging, and the fields a listing row carries (`full`, `cardData`, `config`, `expand`)."""

from __future__ import annotations

from typing import Any

from hftui.localhub.access import may_see
from hftui.localhub.documents import listed_provider_mapping, repo_fields, select
from hftui.localhub.hosting import Hosting
from hftui.localhub.protocol import Reply, Request, cursor_page, error_reply, json_reply
from hftui.localhub.repos import HostedRepo, RepoType
from hftui.localhub.store import Token

# The fields of a listing row without `expand`, in the Hub's order; `full`, `cardData` and `config` add some.
MODEL_LIST_KEYS = (
    "_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name",
    "createdAt", "modelId", "author", "sha", "lastModified", "gated", "disabled",
)  # fmt: skip
DATASET_LIST_KEYS = (
    "_id", "id", "author", "sha", "lastModified", "private", "gated", "disabled", "likes", "trendingScore",
    "downloads", "tags", "createdAt", "description",
)  # fmt: skip
# The `sort` values the Hub accepts, each to the repo property it orders by.
SORT_KEYS = {
    "downloads": "downloads",
    "likes": "likes",
    "likes30d": "likes",
    "trendingScore": "trendingScore",
    "trending_score": "trendingScore",
    "lastModified": "lastModified",
    "last_modified": "lastModified",
    "createdAt": "createdAt",
    "created_at": "createdAt",
    "id": "id",
    "modelId": "id",
    "usedStorage": "usedStorage",
    "mainSize": "usedStorage",
}


def list_repos(hosting: Hosting, request: Request, repo_type: RepoType, user: Token | None) -> Reply:
    """One page of the models or datasets matching the request, in its order, with a Link to the next page."""
    repos = [r for r in hosting.store.repos(repo_type) if not r.private or may_see(r, user)]
    for term in request.params("search"):
        repos = [r for r in repos if term.lower() in r.repo_id.lower()]
    author = request.param("author")
    if author:
        repos = [r for r in repos if (r.author or "").lower() == author.lower()]
    for value in request.params("filter"):
        for part in (p.strip() for p in value.split(",")):
            if part:
                repos = [r for r in repos if _matches_filter(r, part)]
    pipeline = request.param("pipeline_tag")
    if pipeline:
        repos = [r for r in repos if r.pipeline_tag_at(r.head) == pipeline]
    providers = {p.strip().lower() for value in request.params("inference_provider") for p in value.split(",")}
    providers.discard("")
    if providers and repo_type == "model":
        # "all": served by any provider; otherwise by at least one of those named.
        repos = [r for r in repos if _served_by(r, providers)]
    gated = request.param("gated")
    if gated is not None:
        wanted = gated.lower() in ("1", "true")
        repos = [r for r in repos if bool(r.gated) == wanted]
    sort = request.param("sort")
    if sort:
        key = SORT_KEYS.get(sort)
        if key is None:
            return error_reply(400, f"Invalid sort parameter: {sort}")
        direction = request.param("direction")
        descending = direction != "1" if direction else key != "id"
        repos.sort(key=lambda r: _sort_value(r, key), reverse=descending)
    try:
        limit = int(request.param("limit") or 0)
        page_size = min(limit, hosting.page_size) if limit > 0 else hosting.page_size
        chunk, headers = cursor_page(request, hosting.url, repos, page_size)
    except ValueError:
        return error_reply(400, "Invalid limit or cursor")
    expand = request.params("expand", "expand[]")
    return json_reply([_list_item(request, repo, expand) for repo in chunk], headers=headers)


def _list_item(request: Request, repo: HostedRepo, expand: list[str]) -> dict[str, Any]:
    fields = repo_fields(repo, repo.head, blobs=False)
    if expand:
        item = select(fields, ["_id", "id", *expand])
        if "inferenceProviderMapping" in item:
            item["inferenceProviderMapping"] = listed_provider_mapping(repo)
        return item
    full = request.flag("full")
    if repo.repo_type == "model":
        keys = list(MODEL_LIST_KEYS)
        if full:
            keys.append("siblings")
        if request.flag("cardData"):
            keys.append("cardData")
        if request.flag("config"):
            keys.append("config")
    else:
        keys = list(DATASET_LIST_KEYS)
        if full or request.flag("cardData"):
            keys.append("cardData")
        if full:
            keys.append("siblings")
    return select(fields, keys)


def _served_by(repo: HostedRepo, providers: set[str]) -> bool:
    served = {name.lower() for name in repo.inference_provider_mapping}
    return bool(served) if "all" in providers else not served.isdisjoint(providers)


def _matches_filter(repo: HostedRepo, value: str) -> bool:
    wanted = value.lower()
    if wanted in (tag.lower() for tag in repo.tags):
        return True
    for attribute in (repo.pipeline_tag_at(repo.head), repo.library_name_at(repo.head)):
        if attribute is not None and attribute.lower() == wanted:
            return True
    return False


def _sort_value(repo: HostedRepo, key: str) -> Any:
    if key == "id":
        return repo.repo_id.lower()
    if key == "lastModified":
        return repo.last_modified
    if key == "createdAt":
        return repo.created_at
    if key == "usedStorage":
        return repo.used_storage
    if key == "trendingScore":
        return repo.trending_score
    return getattr(repo, key)
