"""How a `ModelQuery` or `DatasetQuery` becomes SQL: FTS terms and `words` tests, the choice of plan, and the
statements for a page, a count and a facet's counts.

How it stays fast at a million rows (bench/index_scale.py measures it):

* The FTS table (`model_terms`, `dataset_terms`) is contentless (rowids only, `detail=none`, prefix indexes
  for 1-5 characters) over each row's `words` (see `words.py`). A text search with filters is one
  intersection of posting lists.
* Each search picks one of two plans by fetching at most `MATCH_CAP + 1` rowids of the FTS match: up to
  `MATCH_CAP` matches, those rowids are looked up in the keys table and sorted ("match"; the FTS query is
  not run a second time); more matches are dense, so walking the sort column's index from the top and testing
  each row's `words` with `instr` fills a page after a few thousand rows ("scan"). The scan tests
  single-valued facet filters on the narrow key columns first, and reads `words` by a correlated lookup,
  never a join (see `page_sql`). Both plans test the same tokens, so they agree exactly.
* `facet_totals` holds each facet value's count over the whole table (kept in step by every write), so an
  unfiltered picker and `len()` are one lookup; other counts are remembered by the store until the file
  changes.
* A filtered picker's counts are not run as SQL (`facet_counts_sql` joins the keys table once per matching row:
  300 ms for a filter matching 300k of 1M rows) but counted on `facet_columns.FacetColumns`, the facet values
  held in memory as numpy codes; with text, over the FTS match's rowids. `facet_counts_sql` stays the
  reference the tests and the bench compare them with.
* With those columns loaded, `plan_query` spells a long last prefix by their vocabulary (`prefix_term`) and
  leaves common filter tokens out of the probe, and `RepoIndex.search` sorts the match plan's rowids on them
  (`FacetColumns.page`) instead of running `page_sql`; tests compare both ways page for page.
"""

from __future__ import annotations

import bisect
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hftui.hub.catalog.query import DatasetQuery, ModelQuery
from hftui.hub.index.kinds import SORT_COLUMNS, RepoKind
from hftui.hub.index.vocabulary import INDEXED_PREFIX
from hftui.hub.index.words import CACHED, GATED, NOT_GATED, PARAMETER_STEPS, facet_token, parameter_token, search_words

# Above this many FTS matches, walking the sort index beats fetching and sorting every match
# (bench/index_scale.py: a page needs ~50 * rows / matches scanned rows; a match costs about one).
MATCH_CAP = 8_000
# A facet value the scan plan can compare on its column (see `Plan.scan_key_conditions`).
_PLAIN_FACET_VALUE = re.compile(r"[!-~]+")
# A typed prefix longer than the prefix indexes is spelled as an OR of at most this many whole terms.
PREFIX_TERMS_CAP = 32

# With the in-memory columns, a filter token on more than this share of rows is left out of the FTS probe and
# tested on the columns (see `plan_query`).
COMMON_TOKEN_SHARE = 0.2

if TYPE_CHECKING:
    from hftui.hub.index.facet_columns import FacetColumns
    from hftui.hub.index.vocabulary import Vocabulary


@dataclass(frozen=True)
class Plan:
    """How one query is answered: the FTS expression, the exact parameter bound, the `words` tests for a
    scan, and which of the two plans `search` uses."""

    match: str | None
    max_parameters: int | None
    word_tests: tuple[str, ...]
    scan: bool
    # The FTS rowids, when the probe found few enough to fetch: the page is then sorted from these alone,
    # without running the match a second time.
    matched_ids: tuple[int, ...] | None = None
    # (column, value) of single-valued facet filters whose value is plain ASCII: see `scan_key_conditions`.
    key_tests: tuple[tuple[str, str], ...] = ()
    # Tokens of `match` left out of `column_match`, to be tested on the in-memory columns (`FacetColumns.page`,
    # `FacetColumns.ids_mask`); `column_match` is then the match of the text and the other tokens.
    column_tokens: tuple[str, ...] = ()
    column_match: str | None = None

    @property
    def filtered(self) -> bool:
        """Whether the plan narrows the rows at all (else counts are the totals kept in `facet_totals`)."""
        return self.match is not None or self.max_parameters is not None

    def key_conditions(self) -> tuple[str, tuple[Any, ...]]:
        """Conditions on the keys table (`k`) alone."""
        if self.max_parameters is None:
            return "", ()
        return " AND k.parameters <= ?", (self.max_parameters,)

    def scan_key_conditions(self) -> tuple[str, tuple[Any, ...]]:
        """`key_conditions` plus a test of each facet filter on its `k` column, for the scan plan.

        The scan walks the sort index and would otherwise read every row's wide `words` row to test the
        facet tokens; testing the narrow column first skips most of those reads. For a stored value of
        printable ASCII without spaces, NOCASE equality is exactly token equality (casefold is lower,
        strip changes nothing); any other stored value passes this test and is decided by the token
        test, which is still applied, so both plans keep agreeing exactly.
        """
        where, params = self.key_conditions()
        for column, value in self.key_tests:
            where += f" AND (k.{column} = ? COLLATE NOCASE OR k.{column} GLOB '*[^!-~]*')"
            params = (*params, value)
        return where, params


def prefix_term(word: str, vocabulary: Vocabulary | None) -> str:
    """The FTS expression for rows with a word starting with `word`.

    Up to `INDEXED_PREFIX` characters the prefix index answers `"word"*` at once; a longer prefix query makes
    FTS5 merge the doclists of every term it covers before the first rowid (see `vocabulary`), so where the
    vocabulary is at hand the prefix is spelled as the whole terms it covers: the same rows, read lazily."""
    if vocabulary is None or len(word) <= INDEXED_PREFIX:
        return f'"{word}"*'
    covered = vocabulary.starting_with(word, PREFIX_TERMS_CAP)
    if covered is None:
        return f'"{word}"*'
    if not covered:  # no term starts with it: the whole word, absent too, matches nothing at once
        return f'"{word}"'
    return "(" + " OR ".join(f'"{term}"' for term in covered) + ")"


def plan_query(
    conn: sqlite3.Connection,
    query: ModelQuery | DatasetQuery,
    kind: RepoKind,
    *,
    probe: bool = True,
    columns: FacetColumns | None = None,
) -> Plan:
    """Turn a query into FTS terms and `words` tests, and (when `probe`) choose the search plan.

    With the index's in-memory `columns`, a long last prefix is spelled as the terms their vocabulary says it
    covers (`prefix_term`), and the probe leaves out filter tokens on more than `COMMON_TOKEN_SHARE` of the rows:
    such a token narrows the match little but makes FTS step through a doclist of most of the table for every
    row it returns (1M rows: "not gated" and "library transformers" took a probe from 3 to 15-25 ms). The plan
    lists them in `column_tokens`, for `FacetColumns.page` to test on the probe's rowids."""
    vocabulary = columns.vocabulary if columns is not None else None
    terms: list[str] = []
    tests: list[str] = []
    words = search_words(query.text)
    for i, word in enumerate(words):
        if i == len(words) - 1:  # typing-as-you-search: the last word is a prefix, earlier ones are whole
            terms.append(prefix_term(word, vocabulary))
            tests.append(f" {word}")
        else:
            terms.append(f'"{word}"')
            tests.append(f" {word} ")
    tokens = [facet_token(facet, getattr(query, facet)) for facet in kind.facets if getattr(query, facet)]
    gated = getattr(query, "gated", None)
    if gated is not None:
        tokens.append(GATED if gated else NOT_GATED)
    if query.cached_only:
        tokens.append(CACHED)
    terms.extend(f'"{token}"' for token in tokens)
    tests.extend(f" {token} " for token in tokens)
    key_tests = tuple(
        (kind.single_facets[facet], value.strip())
        for facet in kind.facets
        if facet in kind.single_facets
        and isinstance(value := getattr(query, facet), str)
        and _PLAIN_FACET_VALUE.fullmatch(value.strip())
    )
    max_parameters: int | None = getattr(query, "max_parameters", None)
    if max_parameters is not None:
        step = bisect.bisect_left(PARAMETER_STEPS, max_parameters)
        if step < len(PARAMETER_STEPS):  # a superset; the exact bound is checked on model_keys
            tokens.append(parameter_token(PARAMETER_STEPS[step]))
            terms.append(f'"{tokens[-1]}"')
    match = " AND ".join(terms) if terms else None
    scan, matched_ids = match is None, None
    column_tokens: tuple[str, ...] = ()
    column_match = match
    if match is not None and columns is not None:
        column_tokens = tuple(token for token in tokens if columns.share(token) > COMMON_TOKEN_SHARE)
        if column_tokens:
            # The text's terms come first in `terms`, then one per token, in the order of `tokens`.
            kept = terms[: len(words)] + [f'"{token}"' for token in tokens if token not in column_tokens]
            column_match = " AND ".join(kept) if kept else None
    if match is not None and probe:
        if column_tokens:
            # With every term common, as many rows match as the sort index needs to fill a page at once.
            matched_ids = _capped_match(conn, column_match, kind) if column_match else None
            if matched_ids is None:
                # Too many without the common tokens; with them the match may still be small (a text common
                # on its own, rare under these filters), which the scan would walk far to fill a page with.
                column_tokens, column_match = (), match
        if not column_tokens:
            matched_ids = _capped_match(conn, match, kind)
        scan = matched_ids is None
    return Plan(match, max_parameters, tuple(tests), scan, matched_ids, key_tests, column_tokens, column_match)


def _capped_match(conn: sqlite3.Connection, match: str, kind: RepoKind) -> tuple[int, ...] | None:
    """The rowids matching `match`, or None when there are more than `MATCH_CAP` (the scan plan is better)."""
    terms = kind.terms_table
    sql = f"SELECT rowid FROM {terms} WHERE {terms} MATCH ? LIMIT ?"
    ids = tuple(row[0] for row in conn.execute(sql, (match, MATCH_CAP + 1)))
    return None if len(ids) > MATCH_CAP else ids


def _matching(select: str, plan: Plan, kind: RepoKind, join: str = "") -> tuple[str, tuple[Any, ...]]:
    """SELECT over every row matching `plan` (FTS first when there is a match: never slower than a scan here,
    since every matching row is read either way)."""
    keys_where, keys_params = plan.key_conditions()
    if plan.match is None:
        return f"SELECT {select} FROM {kind.keys_table} AS k{join} WHERE 1{keys_where}", keys_params
    terms = kind.terms_table
    sql = f"SELECT {select} FROM {terms} AS t CROSS JOIN {kind.keys_table} AS k ON k.id = t.rowid{join} "
    return sql + f"WHERE {terms} MATCH ?{keys_where}", (plan.match, *keys_params)


def page_sql(plan: Plan, kind: RepoKind, sort: str, limit: int, offset: int) -> tuple[str, tuple[Any, ...]] | None:
    """The statement for the ids of one page of `plan`'s rows, best first by `sort` (ties: the later-indexed
    first); None when the probe already found no match."""
    column = SORT_COLUMNS[sort]
    keys_where, keys_params = plan.key_conditions()
    order = f"ORDER BY k.{column} DESC, k.id DESC LIMIT ? OFFSET ?"
    if plan.scan:
        keys_where, keys_params = plan.scan_key_conditions()
        tests = "".join(f" AND instr({kind.alias}.words, ?) > 0" for _ in plan.word_tests)
        if tests and kind.words_table:
            # A correlated lookup, not a join: with sampled statistics (PRAGMA optimize at close)
            # SQLite 3.40 may plan the join with a Bloom filter, built by first reading the whole
            # wide table (1M rows: 0.8 s instead of 2 ms).
            alias = kind.alias
            tests = f" AND EXISTS (SELECT 1 FROM {kind.words_table} AS {alias} WHERE {alias}.id = k.id{tests})"
        sql = f"SELECT k.id FROM {kind.keys_table} AS k INDEXED BY {kind.sort_index}{sort} "
        sql += f"WHERE 1{keys_where}{tests} {order}"
        return sql, (*keys_params, *plan.word_tests, limit, offset)
    assert plan.matched_ids is not None
    if not plan.matched_ids:
        return None
    sql = f"SELECT k.id FROM {kind.keys_table} AS k WHERE k.id IN (SELECT value FROM json_each(?))"
    sql += f"{keys_where} {order}"
    return sql, (json.dumps(plan.matched_ids), *keys_params, limit, offset)


def count_sql(plan: Plan, kind: RepoKind) -> tuple[str, tuple[Any, ...]]:
    """The statement counting the rows of a `filtered` plan."""
    if plan.max_parameters is None:
        terms = kind.terms_table
        return f"SELECT count(*) FROM {terms} WHERE {terms} MATCH ?", (plan.match,)
    return _matching("count(*)", plan, kind)


def facet_counts_sql(plan: Plan, kind: RepoKind, facet: str, limit: int) -> tuple[str, tuple[Any, ...]]:
    """The statement for (value, count) of `facet` over `plan`'s rows, most common first; with no filter it
    reads the totals kept in `facet_totals`."""
    if not plan.filtered:
        sql = "SELECT value, n FROM facet_totals WHERE facet = ? AND n > 0 "
        sql += "ORDER BY n DESC, value LIMIT ?"
        return sql, (kind.facet_prefix + facet, limit)
    if facet in kind.multi_facets:
        value, join = "j.value", f" CROSS JOIN json_each(k.{kind.multi_facets[facet]}) AS j"
    else:
        value, join = f"k.{kind.single_facets[facet]}", ""
    sql, params = _matching(f"{value} AS value, count(*) AS n", plan, kind, join)
    sql += " AND value IS NOT NULL GROUP BY value ORDER BY n DESC, value LIMIT ?"
    return sql, (*params, limit)
