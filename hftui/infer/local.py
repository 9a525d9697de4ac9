"""One input through a loaded transformers pipeline, for the playground's text tasks, as plain values.

Each function takes a pipeline already loaded (the Analyzer's `PipelineCache` keeps it for the next input)
and returns frozen values the screen and the headless command show as they like; bad input raises
`PlaygroundInputError` with a message for the user. Nothing here imports Textual, and nothing styles text:
entities are marked by brackets in the text itself, so they show without colour too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class PlaygroundInputError(ValueError):
    """The input cannot go to this task as it is (the message says what to change)."""


@dataclass(frozen=True)
class MaskGuess:
    """One candidate for a masked token: the token, its probability and the text with it filled in."""

    token: str
    score: float
    sequence: str


@dataclass(frozen=True)
class Entity:
    """A span of the input the model labelled (offsets into the input text, end exclusive)."""

    label: str
    start: int
    end: int
    score: float
    text: str


def fill_mask(pipe: Any, text: str, *, top_k: int = 5) -> list[MaskGuess]:
    """The model's `top_k` guesses for the one mask token in `text` (the model's own mask token, e.g. [MASK])."""
    tokenizer = pipe.tokenizer
    mask = tokenizer.mask_token or "[MASK]"
    text = text.strip()
    if not text:
        raise PlaygroundInputError(f"Type a sentence with {mask} where a word is missing.")
    count = text.count(mask)
    if count != 1:
        raise PlaygroundInputError(
            f"Put exactly one {mask} in the sentence ({count} found); this model's mask token is {mask}."
        )
    top_k = max(1, int(top_k))
    # A special token ([SEP], [MASK]) is never a word for the blank: ask for enough guesses to drop them (but
    # never more than the vocabulary holds).
    specials = set(tokenizer.all_special_tokens)
    guesses = pipe(text, top_k=min(top_k + len(specials), len(tokenizer)))
    words = [guess for guess in guesses if str(guess.get("token_str", "")).strip() not in specials]
    return [
        MaskGuess(str(guess.get("token_str", "")).strip(), float(guess["score"]), str(guess.get("sequence", "")))
        for guess in words[:top_k]
    ]


def entities(pipe: Any, text: str) -> list[Entity]:
    """The labelled spans of `text`, word pieces grouped into words (`aggregation_strategy="simple"`)."""
    if not text.strip():
        raise PlaygroundInputError("Type a sentence to tag.")
    found = pipe(text, aggregation_strategy="simple")
    spans = []
    for item in found:
        start, end = item.get("start"), item.get("end")
        if start is None or end is None:  # a slow tokenizer without offsets: no span to mark
            continue
        label = str(item.get("entity_group") or item.get("entity") or "?")
        spans.append(Entity(label, int(start), int(end), float(item.get("score", 0.0)), text[int(start) : int(end)]))
    return sorted(spans, key=lambda span: (span.start, span.end))


def bracketed(text: str, spans: Sequence[Entity]) -> str:
    """`text` with each entity written as [LABEL words], so the tags read without colour (NO_COLOR)."""
    parts: list[str] = []
    at = 0
    for span in spans:
        if span.start < at:  # overlapping spans: the first one wins
            continue
        parts.append(text[at : span.start])
        parts.append(f"[{span.label} {text[span.start : span.end]}]")
        at = span.end
    parts.append(text[at:])
    return "".join(parts)


def zero_shot(pipe: Any, text: str, labels: Sequence[str], *, multi_label: bool = False) -> list[tuple[str, float]]:
    """How well `text` fits each candidate label, best first (an NLI model's entailment of "This example is
    {label}.")."""
    candidates = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
    if not text.strip():
        raise PlaygroundInputError("Type a text to classify.")
    if not candidates:
        raise PlaygroundInputError("Give at least one candidate label (comma-separated).")
    answer = pipe(text, candidate_labels=candidates, multi_label=multi_label)
    return [(str(label), float(score)) for label, score in zip(answer["labels"], answer["scores"], strict=True)]


def embed(pipe: Any, sentences: Sequence[str]) -> list[list[float]]:
    """One unit-length vector per sentence: the mean of its token features, as sentence-transformers models
    such as all-MiniLM-L6-v2 pool them (with a Normalize module), so a dot product is the cosine."""
    texts = [sentence.strip() for sentence in sentences]
    if len(texts) < 1 or not all(texts):
        raise PlaygroundInputError("Give one sentence a line, none of them empty.")
    vectors = []
    for text in texts:
        features = pipe(text, return_tensors=True)  # (1, tokens, hidden): one sentence, no padding
        mean = features[0].float().mean(dim=0)
        norm = float(mean.norm())
        vectors.append([float(value) / norm if norm else 0.0 for value in mean.tolist()])
    return vectors


def cosine_matrix(vectors: Sequence[Sequence[float]]) -> list[list[float]]:
    """Cosine similarity of every pair of `vectors` (1.0 on the diagonal for non-zero vectors)."""

    def cosine(a: Sequence[float], b: Sequence[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        size = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
        return dot / size if size else 0.0

    return [[cosine(a, b) for b in vectors] for a in vectors]
