"""A search in progress over models or datasets: Hub pages written through to the local index, or the index
alone offline and for cached-only searches. `ModelSearch` and `DatasetSearch` differ only in which listing
they ask the Hub for and how they write it through.

Everything here blocks on the network or disk: the UI calls it from worker threads, the CLI directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from hftui.hub.catalog.query import DatasetQuery, ModelQuery
from hftui.hub.index import DatasetRecord, ModelRecord, RepoIndex

if TYPE_CHECKING:
    from huggingface_hub import HfApi

PAGE_SIZE = 50
Query = TypeVar("Query", ModelQuery, DatasetQuery)
Record = TypeVar("Record", ModelRecord, DatasetRecord)


@dataclass(frozen=True)
class RepoPage(Generic[Record]):
    """One page of search results (models or datasets) and where it came from."""

    records: tuple[Record, ...]
    source: Literal["hub", "index"]
    has_more: bool
    total: int | None = None  # known for index searches


class RepoSearch(Generic[Query, Record]):
    """Pages of one query. Not thread-safe; one worker at a time calls `next_page`.

    Subclasses say how to list the Hub and write a listing through to the index.
    """

    def __init__(self, query: Query, *, index: RepoIndex, api: HfApi | None, page_size: int = PAGE_SIZE) -> None:
        self.query: Query = query
        self.index = index
        self.api = api
        self.page_size = page_size
        self._offset = 0
        self._hub_pages: Iterator[Any] | None = None
        self._exhausted = False

    @property
    def online(self) -> bool:
        """Whether this search asks the Hub (cached-only searches never do: the cache is local)."""
        return self.api is not None and not self.query.cached_only

    def next_page(self) -> RepoPage[Record]:
        """Fetch the next page; raises the client's errors when the Hub fails (see explain_hub_error)."""
        if self._exhausted:
            return RepoPage((), "hub" if self.online else "index", False)
        if not self.online:
            records = self._index_page(self._offset)
            self._offset += len(records)
            total = self.index.count(self.query)
            self._exhausted = self._offset >= total
            return RepoPage(records, "index", not self._exhausted, total)
        assert self.api is not None
        if self._hub_pages is None:
            self._hub_pages = iter(self._hub_listing(self.api))
        infos = list(islice(self._hub_pages, self.page_size))
        self._exhausted = len(infos) < self.page_size
        return RepoPage(self._written_through(infos), "hub", not self._exhausted)

    def _index_page(self, offset: int) -> tuple[Record, ...]:
        """One page of the index's answer to the query."""
        raise NotImplementedError

    def _hub_listing(self, api: HfApi) -> Iterable[Any]:
        """The Hub's listing for the query (a lazy, paged iterator)."""
        raise NotImplementedError

    def _written_through(self, infos: list[Any]) -> tuple[Record, ...]:
        """Write Hub results to the index and read them back, so what is known locally is merged in."""
        raise NotImplementedError
