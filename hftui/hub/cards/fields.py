"""Readers of single card metadata fields, shared by the model and the dataset card facts.

Card metadata is written by hand, so any field may hold the wrong type. Each reader takes the metadata
mapping, the key(s) to read and a `problems` list: what cannot be read is left out and explained there in a
plain sentence, and the reader never raises. Values are kept as the card gives them; only their types are
made certain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from hftui.hub.cards.licenses import LicenseTerms, license_terms

# Nested lists deeper than this are not metadata anyone meant; YAML anchors can even make them endless.
_MAX_DEPTH = 4


def kind_of(value: object) -> str:
    """How a value of the wrong type is described in a problem sentence ("a list", "a number", "empty", ...)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty"
    return "text" if isinstance(value, str) else f"a {type(value).__name__}"


def scalar_text(value: object) -> str | None:
    """A single value as text: strings as given, numbers and dates written out; anything else is None."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):  # YAML reads an unquoted 2023-01-01 as a date
        return value.isoformat()
    return None


def read_name(metadata: Mapping[Any, Any], key: str, problems: list[str]) -> str | None:
    """A field that holds one value; a list gives its first entry, with a problem when it lists several."""
    value = metadata.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        texts = [text for text in map(scalar_text, value) if text is not None]
        if not texts:
            problems.append(f"{key} should be a single name, but it is a list with nothing readable in it.")
            return None
        if len(value) > 1:
            problems.append(f"{key} should be a single name, but it lists {len(value)}; the first is shown.")
        return texts[0]
    text = scalar_text(value)
    if text is None:
        problems.append(f"{key} should be a name, but it is {kind_of(value)}, so it is not shown.")
    return text


def read_names(
    metadata: Mapping[Any, Any], keys: tuple[str, ...], problems: list[str], *, language: bool = False
) -> tuple[str, ...]:
    """A field that holds a list of names (a single name counts as a list of one), over its legacy keys."""
    found: list[str] = []
    for key in keys:
        value = metadata.get(key)
        if value is None:
            continue
        skipped: list[str] = []
        if isinstance(value, Mapping) and not language:
            problems.append(f"{key} should be a list of names, but it is a mapping, so it is not shown.")
            continue
        found.extend(_flatten(value, skipped, language=language, depth=0))
        if skipped:
            kinds = ", ".join(sorted(set(skipped)))
            problems.append(f"Some entries of {key} are not names ({kinds}), so they are not shown.")
    return tuple(dict.fromkeys(found))


def _flatten(value: object, skipped: list[str], *, language: bool, depth: int) -> Iterable[str]:
    if depth > _MAX_DEPTH:
        skipped.append("nested too deeply")
        return
    if language and value is False:
        # YAML 1.1 reads an unquoted `no` (Norwegian) as false; the Hub's YAML 1.2 reader keeps it as "no".
        yield "no"
        return
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item, skipped, language=language, depth=depth + 1)
        return
    if isinstance(value, Mapping):
        if language:
            # Old dataset cards give languages per configuration, as a mapping of configuration to codes.
            for item in value.values():
                yield from _flatten(item, skipped, language=language, depth=depth + 1)
        else:
            skipped.append(kind_of(value))
        return
    text = scalar_text(value)
    if text is None:
        if value is not None and value != "":
            skipped.append(kind_of(value))
        return
    yield text


def read_license(metadata: Mapping[Any, Any], problems: list[str]) -> LicenseTerms:
    """The licence from `license` or the legacy `licenses`; `license_name`/`license_link` serve `other`."""
    name = read_name(metadata, "license_name", problems)
    link = read_name(metadata, "license_link", problems)
    for key in ("license", "licenses"):
        raw = metadata.get(key)
        if raw is None or raw == "" or raw == []:
            continue
        identifiers = list(read_names(metadata, (key,), problems))
        if identifiers:
            return license_terms(identifiers, license_name=name, license_link=link)
        return LicenseTerms(
            license_id="unreadable",
            name="Unreadable licence",
            family="unknown",
            commercial_use="unknown",
            attribution_required="unknown",
            share_modifications="unknown",
            use_restrictions="unknown",
            summary=(
                f"The card's {key} field could not be read, so hftui cannot say what the licence allows. "
                "Read the card or the repository's licence file before use."
            ),
            link=link,
        )
    return license_terms(None, license_name=name, license_link=link)
