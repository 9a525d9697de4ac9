"""A search in progress over models or datasets: Hub pages written through to the local index, or the index
alone offline and for cached-only searches. `ModelSearch` and `DatasetSearch` differ only in which listing
they ask the Hub for and how they write it through.

Everything here blocks on the network or disk: the UI calls it from worker threads, the CLI directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from hftui.hub.index import ModelIndex

if TYPE_CHECKING:
    from huggingface_hub import HfApi

PAGE_SIZE = 50
_Query = TypeVar("_Query")
_Page = TypeVar("_Page")


class RepoSearch(Generic[_Query, _Page]):
    """Pages of one query. Not thread-safe; one worker at a time calls `next_page`.

    Subclasses name their page type and say how to list the Hub and write a listing through to the index.
    """

    page_type: ClassVar[type]

    def __init__(self, query: _Query, *, index: ModelIndex, api: HfApi | None, page_size: int = PAGE_SIZE) -> None:
        self.query = query
        self.index = index
        self.api = api
        self.page_size = page_size
        self._offset = 0
        self._hub_pages: Iterator[Any] | None = None
        self._exhausted = False

    @property
    def online(self) -> bool:
        """Whether this search asks the Hub (cached-only searches never do: the cache is local)."""
        return self.api is not None and not self.query.cached_only  # type: ignore[attr-defined]

    def next_page(self) -> _Page:
        """Fetch the next page; raises the client's errors when the Hub fails (see explain_hub_error)."""
        if self._exhausted:
            return self.page_type((), "hub" if self.online else "index", False)
        if not self.online:
            records = self.index.search(self.query, limit=self.page_size, offset=self._offset)  # type: ignore[call-overload]
            self._offset += len(records)
            total = self.index.count(self.query)  # type: ignore[arg-type]
            self._exhausted = self._offset >= total
            return self.page_type(tuple(records), "index", not self._exhausted, total)
        assert self.api is not None
        if self._hub_pages is None:
            self._hub_pages = iter(self._hub_listing(self.api))
        infos = list(islice(self._hub_pages, self.page_size))
        self._exhausted = len(infos) < self.page_size
        return self.page_type(self._written_through(infos), "hub", not self._exhausted)

    def _hub_listing(self, api: HfApi) -> Iterable[Any]:
        """The Hub's listing for the query (a lazy, paged iterator)."""
        raise NotImplementedError

    def _written_through(self, infos: list[Any]) -> tuple[Any, ...]:
        """Write Hub results to the index and read them back, so what is known locally is merged in."""
        raise NotImplementedError
