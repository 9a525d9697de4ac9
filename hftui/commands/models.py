"""`hftui models` and `hftui sync models`: the Models screen's search, headless."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from hftui.hub.catalog.query import SORTS, ModelQuery, parse_parameter_count

if TYPE_CHECKING:
    from hftui.hub.catalog.search import RepoSearch
    from hftui.hub.catalog.sync import SyncReport
    from hftui.hub.index import RepoIndex


class QueryError(ValueError):
    """A command-line filter that cannot be understood."""


def query_from_args(args: argparse.Namespace) -> ModelQuery:
    """Build a ModelQuery from --search, --filter KEY=VALUE and --sort."""
    if args.sort not in SORTS:
        raise QueryError(f"unknown sort {args.sort!r}; choose from {', '.join(SORTS)}")
    changes: dict[str, object] = {"text": args.search, "sort": args.sort}
    for item in args.filter:
        key, _, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not value:
            raise QueryError(f"--filter {item!r}: expected KEY=VALUE")
        if key in ("task", "pipeline_tag"):
            changes["task"] = value
        elif key in ("library", "language", "license", "author", "provider"):
            changes[key] = value
        elif key in ("params", "parameters"):
            count = parse_parameter_count(value.lstrip("<= "))
            if count is None:
                raise QueryError(f"--filter {item!r}: expected a size such as params=<1B or params=350M")
            changes["max_parameters"] = count
        elif key == "gated":
            changes["gated"] = value.lower() in ("yes", "true", "1")
        elif key == "cached":
            changes["cached_only"] = value.lower() in ("yes", "true", "1")
        else:
            raise QueryError(f"--filter {item!r}: unknown key {key!r}")
    return ModelQuery().replace(**changes)


def first_page(search_type: type[RepoSearch], query: object, *, offline: bool, limit: int) -> Any:
    """The first page of a search for a headless command: the Hub unless offline, the local index when the Hub
    fails (saying why on stderr)."""
    from rich.console import Console
    from rich.text import Text

    from hftui.hub.errors import explain_hub_error
    from hftui.hub.index import RepoIndex, default_index_path
    from hftui.hub.settings import HubSettings

    # A search needs no token status (the client finds the token itself), and reading it here would fail on a
    # corrupt token file before the offline index could answer.
    settings = HubSettings.from_environment(force_offline=offline, read_token=False)
    errors = Console(stderr=True)
    with RepoIndex(default_index_path()) as index:
        if index.rebuilt_reason:
            errors.print(Text(f"note: the local index was rebuilt: {index.rebuilt_reason}"))
        api = None
        if not settings.offline_forced:
            from hftui.hub.client import hub_api

            api = hub_api(settings.endpoint)
        try:
            return search_type(query, index=index, api=api, page_size=limit).next_page()
        except Exception as error:
            problem = explain_hub_error(error, endpoint=settings.endpoint)
            errors.print(Text(f"Hub search failed ({problem.message}); showing the local index instead."))
            return search_type(query, index=index, api=None, page_size=limit).next_page()


def run_models(args: argparse.Namespace) -> int:
    """Print search results as a table or JSON lines; falls back to the index when the Hub fails."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from hftui.hub.catalog.models import ModelSearch
    from hftui.hub.plain_text import printable
    from hftui.humanize import human_count, relative_time

    page = first_page(ModelSearch, query_from_args(args), offline=args.offline, limit=args.limit)
    if args.json:
        for record in page.records:
            print(json.dumps(asdict(record) | {"card_text": None}, default=str))
        return 0
    table = Table(title=f"{len(page.records)} models from the {'Hub' if page.source == 'hub' else 'local index'}")
    widest_id = max((len(record.repo_id) for record in page.records), default=10)
    table.add_column("Model", no_wrap=True, min_width=min(widest_id, 40))
    for column in ("Task", "Library", "Licence", "Downloads", "Likes", "Updated", "Cached"):
        table.add_column(column, no_wrap=True)
    for record in page.records:
        table.add_row(
            *(
                Text(printable(value, single_line=True))
                for value in (
                    record.repo_id,
                    record.pipeline_tag or "-",
                    record.library_name or "-",
                    record.license or "none",
                    human_count(record.downloads),
                    human_count(record.likes),
                    relative_time(record.last_modified),
                    record.cache_state,
                )
            )
        )
    Console().print(table)
    return 0


def run_sync_models(args: argparse.Namespace) -> int:
    """Copy Hub model listings into the index with a progress bar; exit 1 when the Hub fails."""
    from hftui.hub.catalog.sync import sync_models

    return run_sync(query_from_args(args), args, noun="models", sync=sync_models, held=len)


def run_sync(
    query: object,
    args: argparse.Namespace,
    *,
    noun: str,
    sync: Callable[..., SyncReport],
    held: Callable[[RepoIndex], int],
) -> int:
    """Run one listing sync (`sync_models`, `sync_datasets`) with a progress bar on stderr and a summary
    line; `held` says how many rows of that kind the index holds afterwards. Exit 1 when the Hub fails."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from hftui.hub.catalog.sync import SyncProgress
    from hftui.hub.client import hub_api
    from hftui.hub.errors import explain_hub_error
    from hftui.hub.index import RepoIndex, default_index_path
    from hftui.hub.settings import HubSettings

    settings = HubSettings.from_environment(force_offline=args.offline, read_token=False)
    errors = Console(stderr=True)
    if settings.offline_forced:
        errors.print("sync needs the Hub, and offline mode is on (--offline or HF_HUB_OFFLINE).")
        return 1
    columns = (TextColumn(f"syncing {noun}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with RepoIndex(default_index_path()) as index, Progress(*columns, console=errors) as progress:
        task = progress.add_task("sync", total=args.limit)

        def show(step: SyncProgress) -> None:
            progress.update(task, completed=step.written)

        try:
            report = sync(query, api=hub_api(settings.endpoint), index=index, limit=args.limit, on_progress=show)
        except Exception as error:
            progress.stop()
            problem = explain_hub_error(error, endpoint=settings.endpoint)
            errors.print(f"sync stopped: {problem.message} Run the same command again to resume.")
            return 1
        total = held(index)
    resumed = f" (resumed after {report.resumed_from})" if report.resumed_from else ""
    summary = f"synced {report.written} {noun}{resumed} in {report.seconds:.1f} s; the index holds {total}"
    print(summary, file=sys.stderr)
    return 0
