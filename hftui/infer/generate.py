"""Text generation and chat with a local causal LM, streamed piece by piece, stoppable at once.

`generate` runs `model.generate` in the calling thread (a worker's): a streamer hands each new token's text
to `on_text` as soon as it decodes to whole characters, and a stopping criterion reads `stop` before every
new token, so Escape stops within one token and keeps what was produced. A chat goes through the
tokenizer's chat template when it has one; otherwise the conversation is written out as plain text and
continued (a base model has no template). A prompt longer than the model's context loses its oldest
tokens, and the result says so. Model output is untrusted text: the screen shows it as plain text.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hftui.atomic_write import write_text_atomically
from hftui.infer.local import PlaygroundInputError

ROLES = ("system", "user", "assistant")
# Tokens decoded before new ones so that word-piece spacing decodes as in the whole answer.
CONTEXT_TOKENS = 5


@dataclass(frozen=True)
class GenerationSettings:
    """What the user may change between answers. Temperature 0 means greedy decoding."""

    max_new_tokens: int = 128
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int | None = None

    def checked(self) -> GenerationSettings:
        """These settings, or PlaygroundInputError naming the one out of range."""
        if not 1 <= self.max_new_tokens <= 32_768:
            raise PlaygroundInputError("Max new tokens must be between 1 and 32768.")
        if not 0 <= self.temperature <= 5:
            raise PlaygroundInputError("Temperature must be between 0 (greedy) and 5.")
        if not 0 < self.top_p <= 1:
            raise PlaygroundInputError("Top-p must be above 0 and at most 1.")
        return self

    def as_text(self) -> str:
        """The settings as `key=value` words, as `from_text` reads them (a settings box shows this)."""
        seed = "none" if self.seed is None else str(self.seed)
        return f"max_new_tokens={self.max_new_tokens} temperature={self.temperature:g} top_p={self.top_p:g} seed={seed}"

    @classmethod
    def from_text(cls, text: str, base: GenerationSettings | None = None) -> GenerationSettings:
        """Settings from `key=value` words (any subset; the rest from `base`), checked; PlaygroundInputError
        naming the word that is wrong. Short keys work too: max, temp, top_p, seed (none: random)."""
        aliases = {"max": "max_new_tokens", "max_tokens": "max_new_tokens", "temp": "temperature", "topp": "top_p",
                   "top-p": "top_p"}  # fmt: skip
        values: dict[str, Any] = asdict(base or cls())
        for word in text.replace(",", " ").split():
            key, equals, value = word.partition("=")
            key = aliases.get(key.strip().lower(), key.strip().lower())
            if not equals or key not in values:
                raise PlaygroundInputError(f"{word!r}: write key=value with max_new_tokens, temperature, top_p or seed")
            try:
                if key == "seed":
                    values[key] = None if value.lower() in ("", "none", "random", "-") else int(value)
                elif key == "max_new_tokens":
                    values[key] = int(value)
                else:
                    values[key] = float(value)
            except ValueError:
                raise PlaygroundInputError(f"{word!r}: {value!r} is not a number") from None
        return cls(**values).checked()


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass
class Chat:
    """A conversation: what was said, in order. Saved and loaded as JSON (`{"messages": [...]}`)."""

    messages: list[Message] = field(default_factory=list)

    def add(self, role: str, content: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        self.messages.append(Message(role, content))

    def clear(self) -> None:
        self.messages.clear()

    def save(self, path: Path) -> None:
        write_text_atomically(path, json.dumps({"messages": [asdict(m) for m in self.messages]}, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Chat:
        """A saved chat; ValueError with the reason for a file that is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"{path} could not be read as a chat: {error}") from None
        items = data.get("messages") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"{path} is not a saved chat (no list of messages)")
        chat = cls()
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict) or item.get("role") not in ROLES or not isinstance(item.get("content"), str):
                raise ValueError(f"{path}: message {number} needs a role ({', '.join(ROLES)}) and text content")
            chat.add(item["role"], item["content"])
        return chat


@dataclass(frozen=True)
class Generated:
    """One answer: its text and how it went."""

    text: str
    new_tokens: int
    prompt_tokens: int
    first_token_s: float | None  # from the call to the first piece of text
    total_s: float
    stopped: bool  # the user stopped it; `text` is what came before
    truncated_tokens: int  # oldest prompt tokens dropped to fit the context
    used_chat_template: bool
    device: str

    @property
    def tokens_per_s(self) -> float:
        """New tokens a second, counted from the first token (the prompt's processing is `first_token_s`)."""
        if self.first_token_s is None or self.new_tokens < 2:
            return 0.0
        decoding = self.total_s - self.first_token_s
        return (self.new_tokens - 1) / decoding if decoding > 0 else 0.0


def prompt_ids(tokenizer: Any, chat: Sequence[Message]) -> tuple[Any, bool]:
    """The token ids (a 1 x n tensor) for continuing `chat`, and whether the chat template made them."""
    if not chat or not any(m.role == "user" and m.content.strip() for m in chat):
        raise PlaygroundInputError("Type a prompt first.")
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": m.role, "content": m.content} for m in chat]
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        return ids["input_ids"], True
    if len(chat) == 1:
        text = chat[0].content
    else:  # no template: the conversation as plain lines, the model continues after "assistant:"
        text = "".join(f"{m.role}: {m.content}\n" for m in chat) + "assistant:"
    return tokenizer(text, return_tensors="pt")["input_ids"], False


def generate(
    model: Any,
    tokenizer: Any,
    chat: Sequence[Message],
    settings: GenerationSettings,
    *,
    on_text: Callable[[str], None],
    stop: threading.Event,
) -> Generated:
    """Answer `chat` (the last message is the user's), handing text to `on_text` as it is produced; returns
    when the answer ends, reaches `settings.max_new_tokens`, or `stop` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList
    from transformers.generation.streamers import BaseStreamer

    settings = settings.checked()
    ids, templated = prompt_ids(tokenizer, chat)
    context = _context_length(model, tokenizer)
    truncated = 0
    room = context - settings.max_new_tokens if context else None
    if room is not None and room < 1:
        raise PlaygroundInputError(
            f"Max new tokens ({settings.max_new_tokens}) leaves no room for the prompt in this model's context"
            f" of {context} tokens."
        )
    if room is not None and ids.shape[1] > room:
        truncated = int(ids.shape[1] - room)
        ids = ids[:, -room:]
    device = next(model.parameters()).device
    ids = ids.to(device)
    started = time.perf_counter()
    first: list[float] = []
    pieces: list[str] = []

    def emit(text: str) -> None:
        if text:
            if not first:
                first.append(time.perf_counter() - started)
            pieces.append(text)
            on_text(text)

    class Streamer(BaseStreamer):
        """Each token's text as soon as it decodes to whole characters (transformers' TextStreamer waits for
        the end of a word, which a user watching a slow model feels). Only a few tokens are decoded per new
        token (those since the last text, with a few before for context), so a long answer costs the same per
        token as a short one."""

        def __init__(self) -> None:
            self.tokens: list[int] = []
            self.start = 0  # the context the next text is decoded after
            self.shown = 0  # tokens[:shown] have been handed over as text
            self.prompt = True

        def put(self, value: Any) -> None:
            if self.prompt:  # generate hands the prompt over first
                self.prompt = False
                return
            self.tokens.extend(int(token) for token in value.reshape(-1).tolist())
            before = tokenizer.decode(self.tokens[self.start : self.shown], skip_special_tokens=True)
            text = tokenizer.decode(self.tokens[self.start :], skip_special_tokens=True)
            if text.endswith("\ufffd") or len(text) <= len(before):  # a character split across tokens: wait
                return
            emit(text[len(before) :])
            self.start, self.shown = max(self.start, self.shown - CONTEXT_TOKENS), len(self.tokens)

        def end(self) -> None:
            before = tokenizer.decode(self.tokens[self.start : self.shown], skip_special_tokens=True)
            text = tokenizer.decode(self.tokens[self.start :], skip_special_tokens=True)
            emit(text[len(before) :])

    class Stopped(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    if settings.seed is not None:
        torch.manual_seed(settings.seed)
    sampling = settings.temperature > 0
    options: dict[str, Any] = {"do_sample": sampling}
    if sampling:
        options.update(temperature=settings.temperature, top_p=settings.top_p)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with torch.inference_mode():
        output = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=settings.max_new_tokens,
            streamer=Streamer(),
            stopping_criteria=StoppingCriteriaList([Stopped()]),
            pad_token_id=pad,
            **options,
        )
    total = time.perf_counter() - started
    new_tokens = int(output.shape[1] - ids.shape[1])
    return Generated(
        "".join(pieces),
        new_tokens,
        int(ids.shape[1]),
        first[0] if first else None,
        total,
        stop.is_set(),
        truncated,
        templated,
        str(device),
    )


def _context_length(model: Any, tokenizer: Any) -> int | None:
    """The most tokens the model attends to: its config's positions, else the tokenizer's limit."""
    config = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if isinstance(limit, int) and 0 < limit < 10**7 else None
