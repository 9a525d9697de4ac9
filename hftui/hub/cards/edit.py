"""Editing a card's metadata as a form: the fields the card editor offers, how a field's value reads and is
written back into the YAML front matter, and the check of the text being edited.

The card's text stays the truth: a form edit rewrites the front matter (`set_metadata`), keeping the card's own
shapes (a string stays a string), and the form follows what the front matter says once it parses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.hub.cards.check import CardProblem, check_card
from hftui.hub.cards.derivatives import base_license_of
from hftui.hub.cards.draft import CARD_FILE, draft_dataset_card, draft_model_card, guess_card_kind
from hftui.hub.cards.licenses import LICENSES
from hftui.hub.cards.text import load_front_matter, parse_card, split_front_matter
from hftui.hub.pipeline_tags import PIPELINE_TAGS, SIZE_CATEGORIES

CARD_KINDS = ("model", "dataset")


@dataclass(frozen=True)
class CardField:
    """One metadata field of the form: its key, its caption, the card kinds it belongs to, and how it is edited.

    `shape` is "choice" (a Select, one value), "first" (a Select for the first value of a list), "list"
    (comma-separated values) or "text" (one value).
    """

    key: str
    caption: str
    kinds: tuple[str, ...]
    shape: str
    choices: tuple[tuple[str, str], ...] = ()


_LICENCE_CHOICES = tuple((terms.license_id, terms.license_id) for terms in LICENSES.values())
_TASK_CHOICES = tuple((task.tag, task.tag) for task in PIPELINE_TAGS)
CARD_FIELDS = (
    CardField("license", "licence", CARD_KINDS, "choice", _LICENCE_CHOICES),
    CardField("pipeline_tag", "task", ("model",), "choice", _TASK_CHOICES),
    CardField("task_categories", "task", ("dataset",), "first", _TASK_CHOICES),
    CardField("size_categories", "size", ("dataset",), "first", tuple((size, size) for size in SIZE_CATEGORIES)),
    CardField("language", "language", CARD_KINDS, "list"),
    CardField("datasets", "datasets", ("model",), "list"),
    CardField("base_model", "base model", ("model",), "list"),
    CardField("tags", "tags", CARD_KINDS, "list"),
    CardField("metrics", "metrics", ("model",), "list"),
    CardField("library_name", "library", ("model",), "text"),
    CardField("pretty_name", "name", ("dataset",), "text"),
)
CARD_FIELDS_BY_KEY = {field.key: field for field in CARD_FIELDS}


@dataclass(frozen=True)
class CardsToEdit:
    """What the card editor opens on a folder: whether README.md exists, the card of each kind (the README for
    both when it exists, else a draft of each), and the kind the folder's files suggest."""

    existing: bool
    drafts: dict[str, str]
    kind: str


def cards_to_edit(folder: Path) -> CardsToEdit:
    """The folder's README or a draft of each kind; a model draft takes its base model's licence when that
    model's card is at hand. Raises OSError when the folder cannot be read."""
    existing = (folder / CARD_FILE).is_file()
    model = draft_model_card(folder)
    if not existing:
        base_license = base_license_of(model)
        if isinstance(base_license, str) and base_license:
            model = draft_model_card(folder, base_license=base_license)
    drafts = {"model": model, "dataset": draft_dataset_card(folder)}
    return CardsToEdit(existing, drafts, guess_card_kind(folder))


def field_value(field: CardField, value: object) -> tuple[str, ...]:
    """A metadata value as the form compares it: the strings it holds, in order (the first for "first")."""
    if value is None or value == "":
        return ()
    items = [str(item) for item in value] if isinstance(value, list) else [str(value)]
    if field.shape in ("choice", "first"):
        return tuple(items[:1])
    return tuple(item for item in items if item.strip())


def parse_field_text(field: CardField, text: str) -> tuple[str, ...]:
    """What a form box's text means: comma-separated values for lists, one value otherwise."""
    if field.shape == "list":
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return (text.strip(),) if text.strip() else ()


def metadata_value(field: CardField, values: tuple[str, ...], current: object) -> object:
    """The YAML value to write for the form's `values`, keeping the card's own shape (a string stays a string)."""
    if not values:
        return None
    if field.shape == "first":
        rest = current[1:] if isinstance(current, list) else []
        return [values[0], *rest]
    if field.shape == "list":
        if len(values) == 1 and not isinstance(current, list):
            return values[0]
        return list(values)
    return values[0]


def read_front_matter(text: str) -> dict[str, Any] | None:
    """The card's front matter as written, a mapping ({} when it has none); None when its YAML does not parse.

    Unlike `parse_card`'s, the mapping is PyYAML's own (huggingface_hub's CardData drops keys set to null), so
    writing it back changes only what the form changed.
    """
    import yaml

    front_matter, _body = split_front_matter(text)
    if front_matter is None:
        return {}
    try:
        loaded = load_front_matter(front_matter)
    except yaml.YAMLError:
        return None
    return loaded if isinstance(loaded, dict) else None


def set_metadata(text: str, key: str, value: object) -> str | None:
    """The card text with front-matter `key` set to `value` (removed when None); None when the YAML is broken."""
    import yaml

    data = read_front_matter(text)
    if data is None:
        return None
    front_matter, body = split_front_matter(text)
    if front_matter is None:
        if value is None:
            return text
        body = text if text.startswith("\n") else "\n" + text
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
    front = yaml.safe_dump(data, sort_keys=False, allow_unicode=True) if data else ""
    return "---\n" + front + "---\n" + body


@dataclass(frozen=True)
class EditedCardCheck:
    """A card text being edited, parsed and checked: its metadata and body, whether its front matter parsed (the
    form follows it only then), and the problems that fit its kind."""

    metadata: dict[str, Any]
    body: str
    parsed: bool
    problems: tuple[CardProblem, ...]


def check_edited_card(text: str, *, dataset: bool) -> EditedCardCheck:
    """Parse the card text and run the checks of its kind (the base model's licence from its cached card)."""
    card = parse_card(text)
    # A front matter block that gave nothing but a problem did not parse; a card without one did.
    parsed = not (card.problem and not card.metadata and split_front_matter(text)[0] is not None)
    return EditedCardCheck(dict(card.metadata), card.body, parsed, check_card(text, dataset=dataset))
