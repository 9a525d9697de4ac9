"""How the index spells a row's searchable words and filter facts, and how typed text is split to match them.

A row's `words` column holds the words of its id, author and tags plus one token per filterable fact
("_t_text_2d_generation" for task=text-generation, "_l_en", "_g_1" for gated, "_k_1" for cached), space-delimited
at both ends so the scan plan can test them with `instr`. The FTS index holds the same words plus parameter-size
tokens ("_p_1000000000" on every model of at most 1B parameters).

Non-ASCII characters in words are spelled `u` + six hex digits, so FTS only ever tokenizes ASCII letters and
digits: what Python splits is exactly what FTS indexes, and a quoted user term can never become a phrase query
(unsupported with `detail=none`), whatever is typed. Facet tokens spell values injectively (case-folded), so
filters are exact, not approximations checked later.

The FTS index is contentless, so removing a row's old terms needs them spelled exactly as inserted; they are
rebuilt from the stored `words` and `parameters` (`fts_terms`). Changing anything here therefore needs a new
`SCHEMA_VERSION` (the old file is then rebuilt).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

# Parameter counts are indexed as "at most T" tokens for these T, so a size filter narrows the FTS match;
# the exact bound is then checked on the row.
PARAMETER_STEPS = (
    10**7, 3 * 10**7, 10**8, 3 * 10**8, 10**9, 2 * 10**9, 4 * 10**9, 8 * 10**9,
    15 * 10**9, 35 * 10**9, 75 * 10**9, 150 * 10**9, 400 * 10**9, 10**12,
)  # fmt: skip

# Token prefixes in `words`; "_" is a token character for FTS but never part of a searched word, so typed
# text cannot reach these.
FACET_TOKENS = {
    "task": "_t_",
    "library": "_b_",
    "language": "_l_",
    "license": "_c_",
    "author": "_a_",
    "provider": "_ip_",
    "task_category": "_tc_",
    "modality": "_mo_",
    "size_category": "_sc_",
}
GATED, NOT_GATED, CACHED = "_g_1", "_g_0", "_k_1"

_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Every model has a "region:us"-style tag; its words would only make short prefixes match everything.
_UNSEARCHED_TAG_KEYS = frozenset({"region"})


def _fold(text: str) -> str:
    """Lowercase without accents, so "Café" and "cafe" are one word."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _ascii_spelling(word: str) -> str:
    """Spell non-ASCII characters as u + six hex digits; the fixed width keeps prefixes prefixes."""
    if word.isascii():
        return word
    return "".join(ch if ch.isascii() else f"u{ord(ch):06x}" for ch in word)


def search_words(text: str) -> list[str]:
    """The words of `text` as the index stores and matches them (split on anything not a letter or digit)."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    words: list[str] = []
    for raw in _WORD.findall(text):
        words.extend(_ASCII_WORD.findall(_ascii_spelling(_fold(raw))))
    return words


def _words_and_parts(source: str) -> list[str]:
    """Words of an id, author or tag, plus camelCase parts of its words ("TinyLlama" is found by "llama")."""
    words = search_words(source)
    if _CAMEL.search(source):
        words += search_words(_CAMEL.sub(" ", source))
    return words


# A million rows share a few thousand authors and tags: their words are worth remembering.
_author_words = lru_cache(maxsize=65536)(_words_and_parts)


@lru_cache(maxsize=65536)
def _tag_words(tag: str) -> tuple[str, ...]:
    """Words of a tag; for "key:value" tags only the value counts ("license:mit" is found by "mit")."""
    key, colon, value = tag.partition(":")
    if not colon:
        return tuple(_words_and_parts(tag))
    if key in _UNSEARCHED_TAG_KEYS:
        return ()
    return tuple(_words_and_parts(value))


@lru_cache(maxsize=65536)
def facet_token(facet: str, value: str) -> str:
    """The token for one facet value: case-folded, every character but a-z0-9 escaped as _hex_ (injective)."""
    spelled = "".join(
        ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else f"_{ord(ch):x}_" for ch in value.strip().casefold()
    )
    return FACET_TOKENS[facet] + spelled


def row_words(row: dict[str, Any], facet_columns: Iterable[tuple[str, str]], *, gated_tokens: bool) -> str:
    """The `words` column of a row: searchable words, then a token for each value of each (facet, column),
    the gating token when the kind is filtered by it, and the cached token."""
    repo_id: str = row["repo_id"]
    owner, slash, name = repo_id.rpartition("/")
    words = _words_and_parts(name)
    if slash:
        words.extend(_author_words(owner))
    if row["author"]:
        words.extend(_author_words(row["author"]))
    for tag in row["tags"]:
        words.extend(_tag_words(tag))
    for facet, column in facet_columns:
        values = row[column]
        if not values:  # None, or an empty value or list: nothing to say
            continue
        if isinstance(values, str):  # a single-valued column
            words.append(facet_token(facet, values))
        else:
            for value in values:
                words.append(facet_token(facet, value))
    if gated_tokens:
        words.append(GATED if row["gated"] else NOT_GATED)
    if row["cache_state"] != "remote":
        words.append(CACHED)
    return " " + " ".join(dict.fromkeys(words)) + " "


PARAMETER_PREFIX = "_p_"


def parameter_token(step: int) -> str:
    """The token every model of at most `step` parameters carries in the FTS index."""
    return f"{PARAMETER_PREFIX}{step}"


@lru_cache(maxsize=4096)
def _parameter_tokens(parameters: int | None) -> str:
    if parameters is None:
        return ""
    first = bisect.bisect_left(PARAMETER_STEPS, parameters)
    return "".join(" " + parameter_token(step) for step in PARAMETER_STEPS[first:])


def fts_terms(words: str, parameters: int | None) -> str:
    """What the FTS table indexes for a row; must be reproducible from the stored row (see the module doc)."""
    return words + _parameter_tokens(parameters)
