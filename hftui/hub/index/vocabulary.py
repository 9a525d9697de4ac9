"""The searchable words the FTS index holds, in memory, so a typed prefix longer than the FTS prefix indexes
can be spelled as the few whole terms it stands for.

Why: the FTS tables keep prefix indexes for 1-5 characters. A longer prefix ("instruct"*) makes FTS5 read and
merge the whole doclist of every term it covers before returning the first rowid (1M rows: 11-100 ms), while
an OR of the terms themselves ("instruct" OR "instructions") is read lazily like any term (2-3 ms for the
first page of rowids). The vocabulary is loaded with the facet columns (`facet_columns.FacetColumns`) and
kept in step with this store's writes; a term left over after a row changed only adds a term that matches
nothing, so the expression stays exact.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterable

from hftui.hub.index.kinds import RepoKind

# Prefixes of at most this many characters are answered by the FTS prefix indexes (schema.py builds them).
INDEXED_PREFIX = 5
# More added words than this are merged into the sorted list (a prefix look-up tests each added word).
_MERGE_AT = 4_096


class Vocabulary:
    """Sorted searchable words (facet and other tokens, which start with "_", are left out)."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._sorted = sorted({word for word in words if word and not word.startswith("_")})
        self._added: set[str] = set()
        self._known = set(self._sorted)

    def __getstate__(self) -> dict[str, object]:
        return {"_sorted": self._sorted, "_added": self._added}  # `_known` is rebuilt from them

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._known = set(self._sorted) | self._added

    @staticmethod
    def prepare(conn: sqlite3.Connection, kind: RepoKind) -> None:
        """Give `conn` the temporary fts5vocab table `load` reads (before it is made query-only: the table is
        created in its temp schema, which query_only forbids too)."""
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {_table(kind)} USING fts5vocab(main, {kind.terms_table}, row)"
        )

    @classmethod
    def load(cls, conn: sqlite3.Connection, kind: RepoKind) -> Vocabulary:
        """Read every term of `kind`'s FTS table (~0.5 s at a million rows) through the table `prepare` made."""
        return cls(term for (term,) in conn.execute(f"SELECT term FROM {_table(kind)}"))

    def __len__(self) -> int:
        return len(self._known)

    def add(self, words: Iterable[str]) -> None:
        """Take in the words of rows just written."""
        for word in words:
            if word and word not in self._known and not word.startswith("_"):
                self._known.add(word)
                self._added.add(word)
        if len(self._added) > _MERGE_AT:
            self._sorted = sorted(self._known)
            self._added.clear()

    def starting_with(self, prefix: str, cap: int) -> list[str] | None:
        """The words starting with `prefix`, sorted; None when there are more than `cap`."""
        found: list[str] = []
        start = bisect.bisect_left(self._sorted, prefix)
        for word in self._sorted[start : start + cap + 1]:
            if not word.startswith(prefix):
                break
            found.append(word)
        found.extend(word for word in self._added if word.startswith(prefix))
        return None if len(found) > cap else sorted(found)


def _table(kind: RepoKind) -> str:
    return f"temp.{kind.terms_table}_vocabulary"
