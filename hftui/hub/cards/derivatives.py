"""What a fine-tune may say about its licence, decided by the base model's: the licence a derivative inherits
(`inherited_license`, used when a training run writes its card) and whether a chosen one is allowed
(`derivative_verdict`, used when a card is checked before an upload). Both rules read the same catalogue
(`licenses.py`) and live side by side so they cannot drift apart. `base_model_card` finds the base model's card
locally (a folder, else the HF cache), never on the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.hub.cards.licenses import LicenseTerms, license_terms
from hftui.hub.cards.text import CardText, parse_card, read_card

CARD_FILE = "README.md"


@dataclass(frozen=True)
class LicenseChoice:
    """The licence for the fine-tuned model's card, or None, with the reason in the user's words."""

    license_id: str | None
    note: str
    license_name: str | None = None
    license_link: str | None = None


def inherited_license(base_metadata: Mapping[str, Any]) -> LicenseChoice:
    """What licence a fine-tune of a model with this card metadata can declare, decided by the catalogue."""
    raw = base_metadata.get("license")
    terms = license_terms(
        raw,
        license_name=base_metadata.get("license_name"),
        license_link=base_metadata.get("license_link"),
    )
    if terms.family == "none":
        return LicenseChoice(None, "The base model declares no licence, so none is declared here: ask its author.")
    if terms.family == "unknown" or terms.license_id in ("other", "unknown", "cc"):
        return LicenseChoice(
            None,
            f"The base model's licence ({terms.name}) is not one hftui can read, so it was not carried over: "
            "read it and set `license` before sharing this model.",
        )
    if "-nd" in terms.license_id:
        return LicenseChoice(
            None,
            f"The base model's licence ({terms.name}) does not allow sharing modified versions, so this "
            "fine-tune must not be published; no licence is declared.",
        )
    restricted = (
        " Its use restrictions apply to this model too." if terms.use_restrictions in ("yes", "conditional") else ""
    )
    return LicenseChoice(
        terms.license_id,
        f"Licence inherited from the base model: {terms.name}. {terms.summary}{restricted}",
    )


def base_model_card(base_model: str) -> CardText:
    """The base model's card: a local folder's README.md, else the HF cache's copy (never the network)."""
    folder = Path(base_model).expanduser()
    if folder.is_dir():
        return read_card(folder / CARD_FILE)
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(base_model, CARD_FILE)
    except Exception:  # not a valid repo id, or the cache is unreadable
        cached = None
    if isinstance(cached, str):
        return read_card(Path(cached))
    return CardText({}, "", "The base model's card is not in the local cache.")


def base_license_of(card_text: str) -> object:
    """The licence of the card's `base_model`, from that model's local or cached card; None when not known."""
    base = parse_card(card_text).metadata.get("base_model")
    base = base[0] if isinstance(base, list) and base else base
    if not isinstance(base, str) or not base:
        return None
    card = base_model_card(base)
    return card.metadata.get("license", []) if card.metadata else None


def derivative_verdict(chosen: LicenseTerms, base: LicenseTerms, base_model: str) -> tuple[str, str] | None:
    """Whether a derivative of a model under `base` may be published under `chosen`: None, or (severity, why)."""
    same = chosen.license_id == base.license_id
    if base.family == "none":
        message = (
            f"The base model {base_model} declares no licence, so all rights are reserved: you may not have the "
            "right to publish a derivative. Ask its author."
        )
        return ("warning", message)
    if "-nd" in base.license_id:
        return (
            "error",
            f"The base model's licence ({base.name}) forbids sharing modified versions: do not publish this.",
        )
    if base.commercial_use == "no" and chosen.commercial_use in ("yes", "conditional") and not same:
        return (
            "error",
            f"The base model {base_model} is non-commercial ({base.name}); a derivative cannot be licensed "
            f"for commercial use under {chosen.name}. Keep {base.license_id}.",
        )
    if base.family in ("copyleft", "use-restricted", "custom") and not same:
        why = {
            "copyleft": "modified versions must be shared under the same licence",
            "use-restricted": "its use restrictions must be passed on to derivatives",
            "custom": "its community licence governs derivatives",
        }[base.family]
        return (
            "error",
            f"The base model {base_model} is under {base.name}: {why}. Use license: {base.license_id}.",
        )
    return None
