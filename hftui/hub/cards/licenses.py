"""The licence catalogue: what each Hub licence identifier lets a user do, in plain words.

Every identifier of the Hub's licence list (hub-docs `repositories-licenses.md`) is written as data in
licenses.json beside this module, because the app ships without that page. The answers are a reader's guide,
not legal advice: each summary names the nuance that most often decides whether a model may be used.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

Answer = Literal["yes", "no", "conditional", "unknown"]

FAMILIES = (
    "permissive",
    "copyleft",
    "weak-copyleft",
    "non-commercial",
    "use-restricted",
    "custom",
    "public-domain",
    "none",
    "unknown",
)

# The table column shows a word, never a colour, so that it survives any theme and a screen reader.
_BADGES = {
    "permissive": "permissive",
    "public-domain": "permissive",
    "copyleft": "copyleft",
    "weak-copyleft": "copyleft",
    "non-commercial": "non-commercial",
    "use-restricted": "restricted",
    "custom": "custom",
    "none": "none",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class LicenseTerms:
    """What a licence allows: four short answers, a family, and a summary a user can act on.

    `share_modifications` asks whether modified versions you distribute must carry the same terms;
    "conditional" means the summary says what applies (for example, no modified versions at all).
    `use_restrictions` asks whether the licence forbids particular uses (RAIL, acceptable use policies,
    research-only grants).
    """

    license_id: str
    name: str
    family: str
    commercial_use: Answer
    attribution_required: Answer
    share_modifications: Answer
    use_restrictions: Answer
    summary: str
    link: str | None = None

    @property
    def badge(self) -> str:
        """A short word for a table column (permissive, copyleft, non-commercial, restricted, custom, ...)."""
        return _BADGES.get(self.family, "unknown")


class LicenseCatalogue(Mapping[str, LicenseTerms]):
    """Every Hub licence identifier with its terms, read from licenses.json on first use.

    Reading waits for the first look-up so that start-up does not pay for ~80 entries a screen may never show;
    every look-up after that answers the same `LicenseTerms` objects.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._entries: dict[str, LicenseTerms] | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> dict[str, LicenseTerms]:
        entries = self._entries
        if entries is None:
            # Two threads asking at once must still get the same objects (`license_terms(x) is LICENSES[x]`).
            with self._lock:
                if self._entries is None:
                    self._entries = _read_catalogue(self._path)
                entries = self._entries
        return entries

    def __getitem__(self, license_id: str) -> LicenseTerms:
        return self._loaded()[license_id]

    def __contains__(self, license_id: object) -> bool:
        return license_id in self._loaded()

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def _read_catalogue(path: Path) -> dict[str, LicenseTerms]:
    """licenses.json's entries by identifier, in the file's order (its groups one after another)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {entry["license_id"]: LicenseTerms(**entry) for group in data["groups"] for entry in group["licenses"]}


LICENSES: Mapping[str, LicenseTerms] = LicenseCatalogue(Path(__file__).with_name("licenses.json"))

NO_LICENSE = LicenseTerms(
    license_id="none",
    name="No licence",
    family="none",
    commercial_use="no",
    attribution_required="unknown",
    share_modifications="unknown",
    use_restrictions="unknown",
    summary=(
        "No licence is given: by default all rights are reserved by the author; you may not reuse, modify "
        "or distribute it without permission."
    ),
)


def _identifiers(value: object) -> list[str]:
    """The non-empty identifiers in a card's licence value, in order (a single value or a list)."""
    values = value if isinstance(value, list | tuple) else [value]
    found: list[str] = []
    for item in values:
        # YAML turns some identifiers into numbers or booleans; anything else is not an identifier.
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            found.append(str(item).strip())
    return found


def _other(name: str | None, link: str | None) -> LicenseTerms:
    where = f"at {link}" if link else "usually in the repository's LICENSE file"
    called = f' ("{name}")' if name else ""
    return replace(
        LICENSES["other"],
        name=name or LICENSES["other"].name,
        link=link,
        summary=(
            f"A licence of the author's own{called}, not one of the Hub's standard licences: hftui cannot "
            f"say what it allows. Read its text ({where}) before using the model."
        ),
    )


def _unrecognised(raw: str, name: str | None, link: str | None) -> LicenseTerms:
    return LicenseTerms(
        license_id=raw.lower(),
        name=name or raw,
        family="unknown",
        commercial_use="unknown",
        attribution_required="unknown",
        share_modifications="unknown",
        use_restrictions="unknown",
        summary=(
            f'The card names the licence "{raw}", which is not one of the Hub\'s licence identifiers, so '
            "hftui cannot say what it allows. Read the card or the repository's licence file before use."
        ),
        link=link,
    )


def license_terms(
    license_id: str | list[str] | None,
    *,
    license_name: str | None = None,
    license_link: str | None = None,
) -> LicenseTerms:
    """The terms for a card's `license` value (case-insensitive); a list uses its first and names the rest.

    `license_name` and `license_link` describe a licence of the author's own (`license: other`).
    """
    name = license_name.strip() if isinstance(license_name, str) and license_name.strip() else None
    link = license_link.strip() if isinstance(license_link, str) and license_link.strip() else None
    identifiers = _identifiers(license_id)
    if not identifiers:
        # A card that names and links its own licence without `license: other` still has one.
        return _other(name, link) if name or link else NO_LICENSE
    first, others = identifiers[0], identifiers[1:]
    key = first.lower()
    if key == "other":
        terms = _other(name, link)
    elif key in LICENSES:
        terms = LICENSES[key]
    else:
        terms = _unrecognised(first, name, link)
    if others:
        listed = ", ".join(others)
        terms = replace(
            terms,
            summary=f"{terms.summary} The card also names {listed}; check which licence applies to what.",
        )
    return terms
