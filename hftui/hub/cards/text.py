"""Read a repo card (README.md): its YAML metadata and Markdown body, tolerating broken cards.

A card that cannot be parsed still opens: the body is shown and `problem` says what is wrong.
"""

from __future__ import annotations

import logging
import re
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


# huggingface_hub.repocard's REGEX_YAML_BLOCK, spelled here because importing that module loads the Hub's
# HTTP client (~0.25 s), which start-up cache indexing would otherwise wait for; a test keeps them equal.
FRONT_MATTER_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")

MAX_CARD_BYTES = 512_000  # cards above this are cut: a 10 MB README must not stall the page


def decode_card_bytes(raw: bytes) -> tuple[str, str | None]:
    """Card bytes as text, cut at MAX_CARD_BYTES, with a note when cut or not valid UTF-8."""
    notes = []
    if len(raw) > MAX_CARD_BYTES:
        raw = raw[:MAX_CARD_BYTES]
        notes.append(f"The card is larger than {MAX_CARD_BYTES // 1000} kB; only its beginning is shown.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        notes.append("The card is not valid UTF-8; undecodable bytes are shown as \ufffd.")
    return text, " ".join(notes) or None


def parse_card(content: str, *, note: str | None = None) -> CardText:
    """Parse card text as huggingface_hub's RepoCard does; never raises. `note` is put before any problem."""
    card = _parse_card(content.replace("\r\n", "\n"))
    if note:
        return CardText(card.metadata, card.body, f"{note} {card.problem or ''}".strip())
    return card


def split_front_matter(content: str) -> tuple[str | None, str]:
    """A card's YAML front matter (None when it has no `---` block) and the body after it, as written."""
    match = FRONT_MATTER_BLOCK.search(content)
    if match is None:
        return None, content
    return match.group(2), content[match.end() :]


def load_front_matter(front_matter: str) -> object:
    """The YAML of a front matter block as PyYAML builds it ({} when empty); raises yaml.YAMLError when it does
    not parse. Uses the libyaml loader when present (see `_parse_card`); a safe loader either way."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(front_matter, Loader=loader)  # a safe loader: no arbitrary objects
    except (ValueError, OverflowError) as error:
        # A scalar that looks like a date or number but is not one (`date: 2023-13-45`) fails while PyYAML builds
        # the value, with a plain ValueError: for the caller it is YAML that does not parse.
        raise yaml.constructor.ConstructorError(None, None, f"a value cannot be read: {error}") from error
    return {} if data is None else data


def _parse_card(content: str) -> CardText:
    """What `RepoCard(content, ignore_metadata_errors=True)` does, with PyYAML's libyaml loader when present.

    RepoCard parses the front matter with the pure-Python `yaml.safe_load`, which made YAML two thirds of a
    500-repo cache scan; the C loader accepts the same documents and builds the same values.
    """
    from huggingface_hub import CardData

    front_matter, body = split_front_matter(content)
    if front_matter is None:
        return CardText({}, content, "The card has no YAML metadata block.")
    try:
        data = load_front_matter(front_matter)
        if not isinstance(data, dict):
            raise ValueError("repo card metadata block should be a dict")
        metadata = CardData(**data, ignore_metadata_errors=True).to_dict()
    except Exception as error:  # broken YAML raises yaml errors, non-mapping metadata ValueError
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return CardText({}, body, f"The card's YAML metadata could not be read: {first_line}")
    problem = None if metadata else "The card has no YAML metadata block."
    return CardText(metadata, body, problem)


def read_card(path: Path) -> CardText:
    """Read and parse a card file; a missing or undecodable file gives an explanatory CardText."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return CardText({}, "", "This repository has no model card (README.md).")
    except OSError as error:
        return CardText({}, "", f"The card could not be read: {error.strerror or error}")
    text, note = decode_card_bytes(raw)
    return parse_card(text, note=note)
