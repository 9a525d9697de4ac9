"""One model, one input at a time: open a local model, load it for a task, and answer one request.

The playground's screen and its headless twin (`hftui infer`) share this: `open_model` finds the model's
files (a folder, or its HF cache snapshot; never the network) and reads what it can do before loading
(`tasks.model_tasks`), what could make loading it unsafe (remote code, pickle weights) and whether it would
fit in memory. `load` puts its pipeline in the Analyzer's `PipelineCache`, so the next input (and the next
job in the Analyzer) finds it loaded. `answer` runs one request of any task but generation, which streams
through `generate.generate` (`reply`). Everything here is blocking: callers run it in a worker thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hftui.analyze.adapters import TaskAdapter
from hftui.analyze.events import JobSpec
from hftui.analyze.media import MediaError
from hftui.analyze.pipelines import (
    ModelChoice,
    PipelineCache,
    code_and_weights_check,
    dtype_name,
    model_folder,
    resolve_device,
    resolve_dtype,
    weight_bytes,
)
from hftui.humanize import human_size
from hftui.infer.generate import Chat, Generated, GenerationSettings, generate
from hftui.infer.local import (
    Entity,
    PlaygroundInputError,
    bracketed,
    cosine_matrix,
    embed,
    entities,
    fill_mask,
    zero_shot,
)
from hftui.infer.tasks import PLAYGROUND_TASKS, ModelTasks, NotAPlaygroundModel, model_tasks

# transformers has no sentence-similarity pipeline: similarities are cosines of feature-extraction vectors.
_PIPELINE_TASKS = {"sentence-similarity": "feature-extraction"}
# Weights plus activations for one short input: the model page's fit estimate uses the same margin.
LOAD_OVERHEAD = 1.2
# The first feature values an embedding answer shows (the vector itself goes to --json).
SHOWN_FEATURES = 8


def pipeline_task(task: str) -> str:
    """The transformers pipeline that runs playground task `task`."""
    return _PIPELINE_TASKS.get(task, task)


def task_modality(task: str) -> str:
    """ "text", "image" or "audio": what `task` takes as input."""
    return next((t.modality for t in PLAYGROUND_TASKS if t.name == task), "text")


@dataclass(frozen=True)
class PlaygroundModel:
    """A model found on disk and read before loading: its tasks, what to warn about, whether it may run its
    repo's code (allowed by the user), and its weights' size."""

    model: str  # as the user named it: a Hub id or a folder
    folder: Path
    tasks: ModelTasks
    warnings: tuple[str, ...]
    trust_remote_code: bool
    weight_bytes: int


def open_model(
    model: str, *, allow_remote_code: frozenset[str] = frozenset(), available_bytes: int | None = None
) -> PlaygroundModel:
    """Find `model` on disk and read it. NotAPlaygroundModel when it is not there or not a transformers model;
    `analyze.pipelines.ModelRefused` (needs_remote_code) when it would run its repo's code unallowed.
    `available_bytes`: the memory the device offers, for a warning when the weights would not fit."""
    model = model.strip()
    if not model:
        raise NotAPlaygroundModel("Name a model: a Hub id in the HF cache (org/name) or a local folder.")
    folder = model_folder(model)
    if folder is None:
        raise NotAPlaygroundModel(
            f"{model} is neither a local folder nor in the HF cache: the playground runs models on disk "
            "(download it from its model page first)."
        )
    tasks = model_tasks(folder)
    warnings, trust = code_and_weights_check(model, folder, allow_remote_code=allow_remote_code)
    size = weight_bytes(folder)
    notes = list(warnings)
    if available_bytes is not None and size and size * LOAD_OVERHEAD > available_bytes:
        notes.append(
            f"{model}'s weights take {human_size(size)}; with room to run that is more than the "
            f"{human_size(available_bytes)} this device has free, so loading may fail or swap."
        )
    return PlaygroundModel(model, folder, tasks, tuple(notes), trust, size)


@dataclass(frozen=True)
class LoadedModel:
    """A model's pipeline for one task, loaded (or found loaded) on a device."""

    opened: PlaygroundModel
    task: str
    pipe: Any
    device: str
    dtype: str
    load_s: float
    was_loaded: bool  # it came from the cache, not from disk


def load(
    opened: PlaygroundModel,
    task: str,
    cache: PipelineCache,
    *,
    device: str | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> LoadedModel:
    """`opened`'s pipeline for `task` on `device` (auto: CUDA, else MPS, else the CPU), from `cache` or loaded
    into it. `on_phase` hears "loading" then "ready", or "cached"."""
    opened.tasks.check(task)
    where = resolve_device(device)
    dtype = resolve_dtype(None, where)
    phases: list[str] = []

    def phased(phase: str) -> None:
        phases.append(phase)
        if on_phase is not None:
            on_phase(phase)

    started = time.perf_counter()
    choice = ModelChoice(pipeline_task(task), opened.model, "requested")
    pipe = cache.get(choice, where, dtype, on_phase=phased, trust_remote_code=opened.trust_remote_code)
    return LoadedModel(opened, task, pipe, where, dtype_name(dtype), time.perf_counter() - started, "cached" in phases)


def unload(loaded: LoadedModel, cache: PipelineCache) -> int:
    """Drop every pipeline of `loaded`'s model from `cache`, for any task or device (its memory is freed once
    nothing else holds it); how many there were."""
    keys = [key for key in cache.loaded() if key[1] == loaded.opened.model]
    return sum(cache.drop(key) for key in keys)


@dataclass(frozen=True)
class Request:
    """One input for a task: text (one sentence a line for similarity), candidate labels (zero-shot), or a
    file (image, audio) with an optional prompt (image-text-to-text)."""

    text: str = ""
    labels: tuple[str, ...] = ()
    file: str | None = None
    prompt: str = ""
    top_k: int = 5
    max_new_tokens: int = 40


@dataclass(frozen=True)
class Answer:
    """What one request gave, as plain values (model output is untrusted text: callers show it plainly)."""

    task: str
    model: str
    text: str = ""  # the answer as text: entities bracketed, a caption, a transcript
    scores: tuple[tuple[str, float], ...] = ()  # labels, tokens or candidates with their scores, best first
    entities: tuple[Entity, ...] = ()
    sentences: tuple[str, ...] = ()
    similarities: tuple[tuple[float, ...], ...] = ()  # cosine of sentence i and j
    features: tuple[float, ...] = ()
    latency_s: float = 0.0
    device: str = "cpu"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        """The answer for a plain terminal (and the screen's text view): one fact a line."""
        out: list[str] = []
        if self.text:
            out.append(self.text)
        if self.entities:
            out += [f"  {e.label:<8} {e.score:6.3f}  {e.text}" for e in self.entities]
        elif self.task == "token-classification":
            out.append("  (no entities found)")
        if self.scores:
            width = min(40, max(len(label) for label, _ in self.scores))
            out += [f"  {score:6.3f}  {label:<{width}}" for label, score in self.scores]
        if self.similarities:
            out.append("cosine similarity:")
            for i, row in enumerate(self.similarities):
                out.append(f"  [{i + 1}] " + " ".join(f"{value:6.3f}" for value in row) + f"   {self.sentences[i]}")
        if self.features:
            shown = ", ".join(f"{value:.4f}" for value in self.features[:SHOWN_FEATURES])
            out.append(f"{len(self.features)} features (unit length): {shown}, …")
        out += self.notes
        return out

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def answer(loaded: LoadedModel, request: Request) -> Answer:
    """Run `request` through `loaded` for every task but text generation (`reply` streams that one).
    PlaygroundInputError for an input the task cannot take."""
    task = loaded.task
    pipe = loaded.pipe
    if task == "text-generation":
        raise PlaygroundInputError("Text generation streams: use reply().")
    started = time.perf_counter()
    fields: dict[str, Any] = {}
    if task == "fill-mask":
        guesses = fill_mask(pipe, request.text, top_k=request.top_k)
        fields["text"] = guesses[0].sequence if guesses else ""
        fields["scores"] = tuple((guess.token, guess.score) for guess in guesses)
    elif task == "token-classification":
        spans = entities(pipe, request.text)
        fields["text"] = bracketed(request.text, spans)
        fields["entities"] = tuple(spans)
    elif task == "zero-shot-classification":
        fields["scores"] = tuple(zero_shot(pipe, request.text, request.labels, multi_label=len(request.labels) == 1))
    elif task == "sentence-similarity":
        sentences = tuple(line.strip() for line in request.text.splitlines() if line.strip())
        if len(sentences) < 2:
            raise PlaygroundInputError("Type two or more sentences, one a line, to compare them.")
        fields["sentences"] = sentences
        fields["similarities"] = tuple(tuple(row) for row in cosine_matrix(embed(pipe, sentences)))
    elif task == "feature-extraction":
        fields["features"] = tuple(embed(pipe, [request.text])[0]) if request.text.strip() else ()
        if not fields["features"]:
            raise PlaygroundInputError("Type a text to embed.")
    else:
        fields.update(_analyzer_task(loaded, request))
    return Answer(task, loaded.opened.model, latency_s=time.perf_counter() - started, device=loaded.device, **fields)


def _analyzer_task(loaded: LoadedModel, request: Request) -> dict[str, Any]:
    """text-classification and the file tasks, through the Analyzer's adapter (the same inputs and readings)."""
    task = loaded.task
    spec = JobSpec(inputs=(), top_k=max(1, request.top_k), caption_prompt=request.prompt,
                   max_new_tokens=request.max_new_tokens)  # fmt: skip
    adapter = TaskAdapter(task, loaded.pipe, spec)
    if task == "text-classification":
        if not request.text.strip():
            raise PlaygroundInputError("Type a text to classify.")
        value: Any = request.text
    else:
        if not request.file or not request.file.strip():
            kind = "an audio file" if task_modality(task) == "audio" else "an image file"
            raise PlaygroundInputError(f"Give {kind} (a path) for {task}.")
        path = Path(request.file.strip()).expanduser()
        try:
            value = adapter.prepare_for(task)(str(path))
        except MediaError as problem:
            raise PlaygroundInputError(f"{path}: {problem.message}") from None
    outputs = list(loaded.pipe(_one(value), batch_size=1, **adapter.kwargs))
    label, score, top, text = adapter.parse(outputs[0]) if outputs else (None, None, (), None)
    if top:
        return {"scores": top}
    if label is not None and score is not None:
        return {"scores": ((label, score),)}
    return {"text": text or ""}


def _one(value: Any) -> Iterator[Any]:
    # A generator, not a list: pipelines read a list of dicts as a chat (as the Analyzer's batches do).
    yield value


def reply(
    loaded: LoadedModel,
    chat: Chat | Sequence[Any],
    settings: GenerationSettings,
    *,
    on_text: Callable[[str], None],
    stop: threading.Event,
) -> Generated:
    """Stream the answer to `chat`'s last user message from a loaded text-generation model."""
    if loaded.task != "text-generation":
        raise PlaygroundInputError(f"{loaded.opened.model} is loaded for {loaded.task}, not text generation.")
    messages = chat.messages if isinstance(chat, Chat) else list(chat)
    return generate(loaded.pipe.model, loaded.pipe.tokenizer, messages, settings, on_text=on_text, stop=stop)
