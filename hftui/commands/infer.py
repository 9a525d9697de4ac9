"""`hftui infer` and `hftui chat`: the inference playground headless, on a model on disk or on saved endpoints.

The target is a model on disk (a folder, or a Hub id whose files are in the HF cache) or `@NAME`, an endpoint
saved with `hftui endpoints add`. The `@` is required for endpoints: a folder, a Hub id and an endpoint may
share a name, and a command must not change meaning when a folder appears or a model is downloaded.

Answers go to stdout, everything else (load time, device, latency, tokens/s, who answered and what failed) to
stderr; model output is untrusted and always printed as plain text, terminal controls made visible. Answers
run in a thread so that Ctrl+C stops the one being written and keeps what came (`endpoints.Stoppable`).
Local models are loaded with the Hub switched off: the playground runs what is on disk.
"""

from __future__ import annotations

import argparse
import errno
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.commands.arguments import positive_int
from hftui.commands.endpoints import (
    EndpointFailed,
    Redactor,
    Stoppable,
    auth_refused_message,
    endpoint_chain,
    say,
    show,
)

if TYPE_CHECKING:
    from hftui.infer.endpoints import Endpoint
    from hftui.infer.generate import Chat, GenerationSettings, Message
    from hftui.infer.playground import Answer, LoadedModel, PlaygroundModel, Request

EXIT_INCOMPLETE = 1
EXIT_CANCELLED = 130  # 128 + SIGINT, as a shell reports a job stopped by Ctrl+C
# The tasks an endpoint answers here: chat through the failover chain, and the InferenceClient's own two.
ENDPOINT_TASKS = ("text-generation", "text-classification", "feature-extraction")
# Short names a user may type for a playground task.
TASK_ALIASES = {
    "chat": "text-generation",
    "generate": "text-generation",
    "sentiment-analysis": "text-classification",
    "classify": "text-classification",
    "ner": "token-classification",
    "entities": "token-classification",
    "zero-shot": "zero-shot-classification",
    "similarity": "sentence-similarity",
    "embeddings": "feature-extraction",
    "image-to-text": "image-text-to-text",
    "asr": "automatic-speech-recognition",
}
_DEVICE = re.compile(r"auto|cpu|cuda|gpu|cuda:\d+|mps", re.IGNORECASE)
TARGET_HELP = (
    "a model on disk (a folder, or a Hub id in the HF cache), or @NAME: an endpoint saved with `hftui endpoints "
    "add` (the @ is required, so a folder or a cached model of the same name is never mistaken for it)"
)
CHAT_HELP = """commands (type them at the prompt):
  /help          these commands
  /system TEXT   set the system message (/system alone removes it)
  /clear         forget the conversation (the system message stays)
  /save FILE     save the conversation as JSON
  /load FILE     continue a conversation saved with /save
  /quit          leave (so do Ctrl+D and the end of piped input)
  //TEXT         send a line that starts with /
Ctrl+C stops an answer and keeps what came; at the prompt it leaves (exit 130)."""


class InferUsageError(ValueError):
    """An argument that cannot be used: a task the model does not do, an empty prompt, a missing file
    (exit 2, with the command's usage)."""


class InferFailed(Exception):
    """The model or the endpoint could not answer (exit 1); the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- arguments --------------------------------------------------------------------------------------------------


def _device(text: str) -> str:
    if not _DEVICE.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r}: use auto, cpu, cuda, cuda:N or mps")
    return text.strip().lower()


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """TARGET, --fallback and how a local model runs: shared by infer and chat."""
    parser.add_argument("target", metavar="MODEL_OR_@ENDPOINT", help=TARGET_HELP)
    parser.add_argument(
        "--fallback",
        action="append",
        default=[],
        metavar="NAME",
        help="a saved endpoint to try when the ones before fail (repeatable, in order; endpoints only)",
    )
    parser.add_argument("--device", type=_device, default=None, metavar="D", help="auto (default), cpu, cuda[:N], mps")
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="let this one model run its repository's own Python code; only for authors you trust",
    )


def _add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-new-tokens", type=positive_int, default=None, metavar="N", help="answer length (128)")
    parser.add_argument("--temperature", type=float, default=None, metavar="T", help="0 is greedy (default 0.7)")
    parser.add_argument("--top-p", type=float, default=None, metavar="P", help="nucleus sampling (default 0.95)")
    parser.add_argument("--seed", type=int, default=None, metavar="N", help="make sampling repeatable")
    parser.add_argument("--system", default=None, metavar="TEXT", help="a system message to start with")


def add_infer_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui infer`."""
    from hftui.infer.tasks import TASK_NAMES

    _add_target_arguments(parser)
    parser.add_argument(
        "--task",
        default=None,
        metavar="T",
        help=f"default: the model's own task (endpoints: text-generation); one of {', '.join(TASK_NAMES)}",
    )
    parser.add_argument(
        "--text",
        action="append",
        default=[],
        metavar="TEXT",
        help="the input (repeatable: one answer each; for sentence-similarity, the sentences to compare)",
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="F",
        help="an image or audio file for those tasks; for text tasks a UTF-8 text file, read whole ('-': stdin)",
    )
    parser.add_argument(
        "--labels", action="append", default=[], metavar="A,B", help="zero-shot candidate labels, comma-separated"
    )
    parser.add_argument("--top-k", type=positive_int, default=None, metavar="K", help="how many guesses or labels (5)")
    _add_generation_arguments(parser)
    parser.add_argument("--stream", action="store_true", help="print generated text as it arrives")
    parser.add_argument("--json", action="store_true", help="print one JSON object per answer instead of text")
    parser.epilog = (
        "Endpoints answer text-generation (a chat, through the chain of --fallback endpoints), "
        "text-classification and feature-extraction. Exit status: 0 answered, 1 the model or endpoint could not "
        "answer (or the answer was cut off), 2 arguments that cannot be used, 130 Ctrl+C (what came is kept)."
    )


def add_chat_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui chat`."""
    _add_target_arguments(parser)
    _add_generation_arguments(parser)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = CHAT_HELP


# --- the target -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What the command runs on: a model on disk or the first endpoint of a chain."""

    model: str | None = None
    endpoint: str | None = None


def parse_target(text: str, fallbacks: Sequence[str] = ()) -> Target:
    """TARGET as the user typed it: `@NAME` names an endpoint, anything else a model on disk."""
    text = text.strip()
    if text.startswith("@"):
        if not text[1:].strip():
            raise InferUsageError("'@' needs an endpoint's name after it, e.g. @local")
        return Target(endpoint=text[1:].strip())
    if not text:
        raise InferUsageError("name a model (a folder or a cached Hub id) or @ENDPOINT")
    if fallbacks:
        raise InferUsageError("--fallback chains endpoints: give the first one as @NAME, not a local model")
    return Target(model=text)


def task_name(text: str) -> str:
    """A typed task: a playground task or one of its short names; InferUsageError lists the known ones."""
    from hftui.infer.tasks import TASK_NAMES

    name = text.strip().lower()
    name = TASK_ALIASES.get(name, name)
    if name not in TASK_NAMES:
        raise InferUsageError(f"unknown task {text!r}; choose from {', '.join(TASK_NAMES)}")
    return name


def open_local(model: str, task: str | None, *, trust_remote_code: bool) -> tuple[PlaygroundModel, str]:
    """Find `model` on disk and the task to run (`task`, checked against what it does, else its own)."""
    from hftui.analyze.pipelines import ModelRefused, model_folder
    from hftui.hub.connectivity import set_offline_mode
    from hftui.infer.playground import open_model
    from hftui.infer.tasks import NotAPlaygroundModel

    set_offline_mode(True)  # only files on disk are loaded: never wait on the Hub
    if model_folder(model) is None:
        from hftui.infer.endpoints import EndpointBook

        if model in EndpointBook.load().endpoints:
            raise InferUsageError(f"{model} is not a model on disk, but a saved endpoint is: use @{model}")
        raise NotAPlaygroundModel(
            f"{model} is neither a folder nor a model in the HF cache: download it first (`hf download {model}`, "
            "or from its page in the app), or give its folder"
        )
    allowed = frozenset({model}) if trust_remote_code else frozenset()
    try:
        opened = open_model(model, allow_remote_code=allowed)
    except ModelRefused as refused:
        if refused.needs_remote_code:
            raise ModelRefused(
                f"{refused.message} Pass --trust-remote-code to allow it for this model.", needs_remote_code=True
            ) from None
        raise
    for warning in opened.warnings:
        say("warning:", warning)
    chosen = task_name(task) if task else opened.tasks.default
    if chosen not in opened.tasks.supported:
        raise InferUsageError(
            f"{model} does not do {chosen}; it does {', '.join(opened.tasks.supported)} "
            f"(default {opened.tasks.default})"
        )
    return opened, chosen


def load_local(opened: PlaygroundModel, task: str, *, device: str | None) -> LoadedModel:
    """`opened`'s pipeline for `task` on `device`, saying on stderr where it runs and how long loading took."""
    from hftui.analyze.pipelines import DeviceUnavailable, PipelineCache
    from hftui.infer.playground import load

    if sys.stderr.isatty():
        say(f"loading {opened.model} for {task}…")
    try:
        with _quiet_transformers():
            loaded = load(opened, task, PipelineCache(max_models=1), device=device)
    except DeviceUnavailable:
        raise
    except Exception as error:  # transformers' load errors are many; they are the user's to read, not a bug
        from hftui.analyze.batches import first_line
        from hftui.analyze.pipelines import is_out_of_memory

        if is_out_of_memory(error):
            raise InferFailed(f"out of memory loading {opened.model}: choose --device cpu or a smaller model") from None
        raise InferFailed(f"could not load {opened.model} for {task}: {first_line(error)}") from None
    say(f"{task} · {opened.model} · {loaded.device} ({loaded.dtype}) · loaded in {loaded.load_s:.2f} s")
    return loaded


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """transformers' load warnings (a table of unused head weights, in colour) say nothing a user of one input
    can act on; errors still rise."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)


# --- one answer to a chat, from a local model or a chain of endpoints --------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One generated answer: its text, whether it is whole, a line about how it went, and its facts."""

    text: str
    complete: bool  # False: stopped by the user or cut off
    stopped: bool
    summary: str
    record: dict[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)


class TurnFailed(Exception):
    """Nothing was answered (no endpoint answered, a refused token, an input the model cannot take)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LocalChat:
    """Answers from a text-generation model on disk."""

    def __init__(self, loaded: LoadedModel, settings: GenerationSettings) -> None:
        self.loaded = loaded
        self.settings = settings
        self.name = loaded.opened.model

    def answer(self, messages: Sequence[Message], on_text: Callable[[str], None], stop: threading.Event) -> Turn:
        from hftui.infer.local import PlaygroundInputError
        from hftui.infer.playground import reply

        try:
            made = reply(self.loaded, list(messages), self.settings, on_text=on_text, stop=stop)
        except PlaygroundInputError as error:
            raise TurnFailed(str(error)) from None
        first = f" · first token {made.first_token_s * 1000:.0f} ms" if made.first_token_s is not None else ""
        summary = (
            f"{made.new_tokens} tokens in {made.total_s:.2f} s · {made.tokens_per_s:.1f} tokens/s{first} · "
            f"{made.device}" + (" · stopped" if made.stopped else "")
        )
        notes: tuple[str, ...] = ()
        if made.truncated_tokens:
            notes = (
                f"note: the prompt was longer than the model's context: its oldest {made.truncated_tokens} tokens "
                f"were dropped ({made.prompt_tokens} kept)",
            )
        record = {"task": "text-generation", "model": self.name, **asdict(made), "tokens_per_s": made.tokens_per_s}
        return Turn(made.text, not made.stopped, made.stopped, summary, record, notes)


class EndpointChat:
    """Answers from a chain of saved endpoints, through the failover chain (`infer.failover.chat`)."""

    def __init__(
        self, chain: Sequence[Endpoint], max_tokens: int | None, sampling: dict[str, float | int] | None = None
    ) -> None:
        self.chain = list(chain)
        self.max_tokens = max_tokens
        self.sampling = sampling or {}
        self.redact = Redactor(self.chain)
        self.name = ", then ".join("@" + endpoint.name for endpoint in self.chain)

    def answer(self, messages: Sequence[Message], on_text: Callable[[str], None], stop: threading.Event) -> Turn:
        from hftui.infer.failover import AuthRefused, chat

        pieces = 0

        def counted(text: str) -> None:
            nonlocal pieces
            pieces += 1
            on_text(self.redact(text))

        sent = [{"role": m.role, "content": m.content} for m in messages]
        try:
            got = chat(self.chain, sent, on_text=counted, stop=stop, max_tokens=self.max_tokens, sampling=self.sampling)
        except AuthRefused as error:
            raise TurnFailed(auth_refused_message(error, self.chain, self.redact)) from None
        who = self.redact(got.summary())
        if got.endpoint is None:
            if stop.is_set():
                raise TurnFailed("stopped before any endpoint answered")
            tried = "; ".join(f"{a.endpoint} {a.outcome} ({a.detail})" for a in got.attempts)
            raise TurnFailed(self.redact(f"no endpoint answered: {tried or 'nothing was tried'}"))
        stopped = any(a.outcome == "stopped" for a in got.attempts)
        rate = (pieces - 1) / (got.total_s - got.first_token_s) if got.first_token_s is not None and pieces > 1 else 0
        first = f" · first token {got.first_token_s * 1000:.0f} ms" if got.first_token_s is not None else ""
        summary = f"{who} · {got.total_s:.2f} s{first} · ~{rate:.1f} tokens/s ({pieces} pieces)"
        notes: tuple[str, ...] = ()
        if not got.complete and not stopped:
            notes = ("incomplete: the stream stopped before the answer's end; what arrived is kept",)
        record = {
            "task": "text-generation",
            "endpoint": got.endpoint,
            "text": self.redact(got.text),
            "complete": got.complete,
            "stopped": stopped,
            "first_token_s": got.first_token_s,
            "total_s": got.total_s,
            "pieces": pieces,
            "tokens_per_s": rate,
            "attempts": [{**asdict(a), "detail": self.redact(a.detail)} for a in got.attempts],
        }
        return Turn(self.redact(got.text), got.complete, stopped, summary, record, notes)


def settings_from(args: argparse.Namespace) -> GenerationSettings:
    """The generation settings the arguments give (GenerationSettings' defaults for the rest), checked."""
    from hftui.infer.generate import GenerationSettings

    given = {
        "max_new_tokens": args.max_new_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "seed": args.seed,
    }
    return GenerationSettings(**{key: value for key, value in given.items() if value is not None}).checked()


def chat_session(args: argparse.Namespace, target: Target) -> LocalChat | EndpointChat:
    """The generator the arguments name: a local model loaded for text-generation, or an endpoint chain."""
    if target.endpoint is not None:
        settings_from(args)  # the same checks as for a local model
        # Only what was given: a server keeps its own defaults for the rest.
        given = {name: getattr(args, name) for name in ("temperature", "top_p", "seed")}
        sampling = {name: value for name, value in given.items() if value is not None}
        return EndpointChat(endpoint_chain(target.endpoint, args.fallback), args.max_new_tokens, sampling)
    assert target.model is not None
    settings = settings_from(args)
    opened, task = open_local(target.model, "text-generation", trust_remote_code=args.trust_remote_code)
    return LocalChat(load_local(opened, task, device=args.device), settings)


def write_out(text: str) -> None:
    """Model text on stdout as it arrives: plain (escapes visible, no markup), flushed."""
    from hftui.hub.plain_text import printable

    sys.stdout.write(printable(text))
    sys.stdout.flush()


# --- hftui infer ------------------------------------------------------------------------------------------------


def run_infer(args: argparse.Namespace) -> int:
    """Answer each input with the target: 0 answered, 1 it could not (or an answer was cut off), 130 Ctrl+C.
    Raises InferUsageError for arguments that cannot be used."""
    target = parse_target(args.target, args.fallback)
    if args.stream and args.json:
        raise InferUsageError("--stream prints text as it comes and --json one object at the end: choose one")
    if target.endpoint is not None:
        task = task_name(args.task) if args.task else "text-generation"
        if task not in ENDPOINT_TASKS:
            raise InferUsageError(f"endpoints answer {', '.join(ENDPOINT_TASKS)} here, not {task}")
        if task != "text-generation":
            return _endpoint_task(args, endpoint_chain(target.endpoint, args.fallback), task)
        texts = _texts(args, task)
        return _generate(args, chat_session(args, target), texts)
    assert target.model is not None
    settings = settings_from(args)  # bad settings are refused before a model loads, whatever the task
    opened, task = open_local(target.model, args.task, trust_remote_code=args.trust_remote_code)
    if task == "text-generation":
        texts = _texts(args, task)
        return _generate(args, LocalChat(load_local(opened, task, device=args.device), settings), texts)
    requests = _requests(args, task)
    return _answer_each(args, load_local(opened, task, device=args.device), requests)


def _read_file(name: str) -> str:
    """A text file the user named ('-': stdin), as UTF-8. OSError rises (exit 1, with the path)."""
    if name == "-":
        return sys.stdin.read()
    path = Path(name).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InferFailed(
            f"{path} is not UTF-8 text (byte {error.object[error.start]:#04x} at {error.start})"
        ) from None


def _texts(args: argparse.Namespace, task: str) -> list[str]:
    """The text inputs: each --text, then each --file read whole. InferUsageError when all are empty."""
    texts = [*args.text, *(_read_file(name) for name in args.file)]
    kept = [text for text in texts if text.strip()]
    if not kept:
        what = "the prompt is empty" if texts else "nothing to answer"
        raise InferUsageError(f"{what}: give --text TEXT or --file FILE for {task}")
    if len(kept) < len(texts):
        say(f"warning: {len(texts) - len(kept)} empty input(s) skipped")
    return kept


def _requests(args: argparse.Namespace, task: str) -> list[Request]:
    """One playground Request per answer the arguments ask for."""
    from hftui.infer.playground import Request, task_modality

    top_k = args.top_k or 5
    labels = tuple(label.strip() for item in args.labels for label in item.split(",") if label.strip())
    if labels and task != "zero-shot-classification":
        say(f"warning: --labels is for zero-shot-classification; {task} does not use it")
    if task == "zero-shot-classification" and not labels:
        raise InferUsageError("zero-shot-classification needs candidate labels: --labels sports,politics,music")
    if task_modality(task) != "text":
        if not args.file:
            kind = "an audio file" if task_modality(task) == "audio" else "an image file"
            raise InferUsageError(f"{task} takes {kind}: give --file PATH")
        for name in args.file:  # before the model loads, as a text file would be read
            if not Path(name).expanduser().is_file():
                raise FileNotFoundError(errno.ENOENT, "no such file", name)
        prompt = " ".join(text.strip() for text in args.text)
        max_new = args.max_new_tokens or 40
        return [Request(file=name, prompt=prompt, top_k=top_k, max_new_tokens=max_new) for name in args.file]
    texts = _texts(args, task)
    if task == "sentence-similarity":
        sentences = [line.strip() for text in texts for line in text.splitlines() if line.strip()]
        return [Request("\n".join(sentences))]
    return [Request(text, labels=labels, top_k=top_k) for text in texts]


def _answer_each(args: argparse.Namespace, loaded: LoadedModel, requests: Sequence[Request]) -> int:
    from hftui.infer.playground import answer

    done = 0
    try:
        for request in requests:
            got = answer(loaded, request)
            _show_answer(got, args.json, {"load_s": loaded.load_s, "dtype": loaded.dtype})
            say(f"{got.task} · answered in {got.latency_s * 1000:.0f} ms on {got.device}")
            done += 1
    except KeyboardInterrupt:
        say(f"stopped: {done} of {len(requests)} answered")
        return EXIT_CANCELLED
    return 0


def _show_answer(got: Answer, as_json: bool, extra: dict[str, Any], redact: Callable[[str], str] = str) -> None:
    if as_json:
        show(redact(json.dumps({**got.as_json(), **extra})))
    else:
        for line in got.lines():
            show(redact(line))
    sys.stdout.flush()  # each answer before the line about it on stderr


def _generate(args: argparse.Namespace, session: LocalChat | EndpointChat, texts: Sequence[str]) -> int:
    """Answer each text as a new one-message chat (after --system), printed as it comes with --stream."""
    from hftui.infer.generate import Message

    code = 0
    for number, text in enumerate(texts, start=1):
        messages = [Message("system", args.system)] if args.system else []
        messages.append(Message("user", text))
        runner = Stoppable()
        on_text = runner.shown(write_out) if args.stream else _ignore
        try:
            ran = runner.run(partial(session.answer, messages, on_text), on_stop=_stopping_again_leaves)
        except TurnFailed as error:
            if isinstance(session, EndpointChat):
                raise EndpointFailed(error.message) from None
            raise InferFailed(error.message) from None
        turn = ran.result
        if turn is None:  # abandoned by a second Ctrl+C
            if args.stream:
                sys.stdout.write("\n")
            say(f"stopped: {number - 1} of {len(texts)} answered")
            return EXIT_CANCELLED
        if args.json:
            show(json.dumps(turn.record))
        elif args.stream:
            sys.stdout.write("\n")
            sys.stdout.flush()
        else:
            show(turn.text)
        for note in turn.notes:
            say(note)
        say(turn.summary)
        if ran.interrupted or turn.stopped:
            say(f"stopped: {number - 1} of {len(texts)} answered in full; this one's text is kept")
            return EXIT_CANCELLED
        if not turn.complete:
            code = EXIT_INCOMPLETE
    return code


def _ignore(text: str) -> None:
    """Without --stream the answer is printed whole at the end."""


def _stopping_again_leaves() -> None:
    say("\nstopping: the answer so far is kept (Ctrl+C again to leave)")


def _endpoint_task(args: argparse.Namespace, chain: Sequence[Endpoint], task: str) -> int:
    """text-classification and feature-extraction on endpoints, through the InferenceClient's own methods:
    each endpoint of the chain in turn until one answers."""
    texts = _texts(args, task)
    redact = Redactor(chain)
    for text in texts:
        got, endpoint = endpoint_answer(chain, task, text, top_k=args.top_k or 5, redact=redact)
        _show_answer(got, args.json, {"endpoint": endpoint.name}, redact)
        say(f"{task} · answered by {endpoint.name} in {got.latency_s * 1000:.0f} ms")
    return 0


def endpoint_answer(
    chain: Sequence[Endpoint], task: str, text: str, *, top_k: int, redact: Callable[[str], str]
) -> tuple[Answer, Endpoint]:
    """The first answer to `text` for `task` from `chain`, as a playground Answer; EndpointFailed says what each
    endpoint did when none answered (or one refused its token)."""
    import math
    import time

    from hftui.infer.endpoints import client_for
    from hftui.infer.failover import classify
    from hftui.infer.playground import Answer

    failures: list[str] = []
    for endpoint in chain:
        started = time.perf_counter()
        try:
            client = client_for(endpoint)
            if task == "text-classification":
                found = client.text_classification(text, top_k=top_k)
                scores = tuple((str(item.label), float(item.score)) for item in found)
                fields: dict[str, Any] = {"scores": scores}
            else:
                vector = _pooled(client.feature_extraction(text))
                norm = math.sqrt(sum(value * value for value in vector))
                fields = {"features": tuple(value / norm if norm else 0.0 for value in vector)}
        except Exception as error:  # every client failure is classified, as the chat chain does
            outcome, detail, _ = classify(error)
            if outcome == "auth":
                raise EndpointFailed(f"{endpoint.name} refused the token ({detail}); check where it comes from "
                                     "(`hftui endpoints list`)") from None  # fmt: skip
            failures.append(f"{endpoint.name} {outcome} ({detail})")
            continue
        latency = time.perf_counter() - started
        return Answer(task, endpoint.name, latency_s=latency, device="remote", **fields), endpoint
    hint = ""
    if any(endpoint.kind == "openai" for endpoint in chain):
        hint = "; OpenAI-compatible servers usually answer chat only (text-generation)"
    raise EndpointFailed(redact(f"no endpoint answered {task}: {'; '.join(failures)}{hint}"))


def _pooled(array: Any) -> list[float]:
    """One vector from what an endpoint's feature extraction returns: (dims), (1, dims) or (1, tokens, dims),
    token vectors averaged."""
    import numpy as np

    values = np.asarray(array, dtype="float64")
    while values.ndim > 2:
        values = values[0]
    if values.ndim == 2:
        values = values.mean(axis=0)
    return [float(value) for value in values.reshape(-1)]


# --- hftui chat -------------------------------------------------------------------------------------------------


def run_chat(args: argparse.Namespace) -> int:
    """A line-mode chat: 0 at /quit or the end of input (1 if nothing asked was answered), 130 for Ctrl+C at
    the prompt. Each answer streams; Ctrl+C during one stops it and keeps its text."""
    from hftui.infer.generate import Chat

    target = parse_target(args.target, args.fallback)
    session = chat_session(args, target)
    chat = Chat()
    if args.system:
        chat.add("system", args.system)
    interactive = sys.stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:  # pragma: no cover - not on every platform
            pass
    say(f"chat with {session.name}; /help for commands, /quit or Ctrl+D to leave")
    asked = answered = 0
    while True:
        try:
            line = input("you> ") if interactive else _read_line()
        except KeyboardInterrupt:
            say("\ninterrupted")
            return EXIT_CANCELLED
        except EOFError:
            break
        if not line.strip():
            continue
        if line.startswith("/") and not line.startswith("//"):
            if chat_command(line, chat) == "quit":
                break
            continue
        chat.add("user", line.removeprefix("/") if line.startswith("//") else line)
        asked += 1
        answered += _chat_turn(session, chat)
    return 1 if asked and not answered else 0


def _read_line() -> str:
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\r\n")


def _chat_turn(session: LocalChat | EndpointChat, chat: Chat) -> bool:
    """Answer the chat's last message, streaming; the answer (whole, stopped or cut) joins the chat. False when
    nothing was answered (the user's message is taken back, so it can be asked again)."""
    runner = Stoppable()
    try:
        ran = runner.run(partial(session.answer, list(chat.messages), runner.shown(write_out)), on_stop=_stopping)
    except TurnFailed as error:
        say("error:", error.message)
        chat.messages.pop()
        return False
    turn = ran.result
    sys.stdout.write("\n")
    sys.stdout.flush()
    if turn is None:
        say("stopped: the answer was abandoned")
        chat.messages.pop()
        return False
    if turn.text:
        chat.add("assistant", turn.text)
    for note in turn.notes:
        say(note)
    say(turn.summary)
    return bool(turn.text)


def _stopping() -> None:
    say("\nstopping: the answer so far is kept")


def chat_command(line: str, chat: Chat) -> str | None:
    """Run one /command on `chat`; "quit" when the chat should end."""
    from hftui.infer.generate import Chat, Message

    command, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    command = command.lower()
    if command in ("/quit", "/exit", "/q"):
        return "quit"
    if command in ("/help", "/?"):
        print(CHAT_HELP, file=sys.stderr)
    elif command == "/clear":
        chat.messages[:] = [m for m in chat.messages if m.role == "system"]
        say("the conversation is cleared" + (" (the system message stays)" if chat.messages else ""))
    elif command == "/system":
        chat.messages[:] = [m for m in chat.messages if m.role != "system"]
        if rest:
            chat.messages.insert(0, Message("system", rest))
        say("system message set" if rest else "system message removed")
    elif command in ("/save", "/load"):
        if not rest:
            say(f"error: {command} needs a file name, e.g. {command} chat.json")
            return None
        path = Path(rest).expanduser()
        try:
            if command == "/save":
                chat.save(path)
                say(f"saved {len(chat.messages)} messages to {path}")
            else:
                chat.messages[:] = Chat.load(path).messages
                say(f"loaded {len(chat.messages)} messages from {path}")
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            say(f"error: {path}: {reason}" if isinstance(error, OSError) else f"error: {reason}")
    else:
        say(f"error: unknown command {command}; /help lists them (//TEXT sends a line starting with /)")
    return None
