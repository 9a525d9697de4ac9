"""Read a repo card (README.md): its YAML metadata and Markdown body, tolerating broken cards.

A card that cannot be parsed still opens: the body is shown and `problem` says what is wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# huggingface_hub logs a warning for every card without metadata; hftui reports that itself.
logging.getLogger("huggingface_hub.repocard").setLevel(logging.ERROR)


@dataclass(frozen=True)
class CardText:
    """A card split into metadata and body, with a note when the card is missing or malformed."""

    metadata: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    problem: str | None = None

    def get_text(self, key: str) -> str | None:
        """A metadata value as a string, or None (lists give their first element)."""
        value = self.metadata.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        return None if value is None else str(value)


def parse_card(content: str) -> CardText:
    """Parse card text with huggingface_hub's RepoCard; never raises."""
    from huggingface_hub import RepoCard
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    try:
        card = RepoCard(content, ignore_metadata_errors=True)
    except Exception as error:  # broken YAML raises yaml errors, non-mapping metadata ValueError
        match = REGEX_YAML_BLOCK.search(content)
        body = content[match.end() :] if match else content
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return CardText({}, body, f"The card's YAML metadata could not be read: {first_line}")
    metadata = card.data.to_dict()
    problem = None if metadata else "The card has no YAML metadata block."
    return CardText(metadata, card.text, problem)


def read_card(path: Path) -> CardText:
    """Read and parse a card file; a missing or undecodable file gives an explanatory CardText."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return CardText({}, "", "This repository has no model card (README.md).")
    except OSError as error:
        return CardText({}, "", f"The card could not be read: {error.strerror or error}")
    try:
        content = raw.decode("utf-8")
        note = None
    except UnicodeDecodeError:
        content = raw.decode("utf-8", errors="replace")
        note = "The card is not valid UTF-8; undecodable bytes are shown as \ufffd."
    card = parse_card(content.replace("\r\n", "\n"))
    if note:
        return CardText(card.metadata, card.body, f"{note} {card.problem or ''}".strip())
    return card
