"""Endpoints and local models side by side: the same prompts, N rounds, time to first token, latency, tokens/s,
errors and failovers. The course's "provider=auto versus an explicit provider" comparison, made repeatable.

A contestant is a saved endpoint, a failover chain of endpoints, or a local text-generation model. Every round
asks each prompt of the set in turn, of every contestant in the round's order; the order rotates one place each
round, so no contestant always goes first (warm caches, a connection just opened, a server just woken). Local
models are loaded before the first round, so loading is not counted as latency. `stop` is read before every
call and handed to the running stream, so cancelling ends the call in progress and keeps every call before it.

Tokens are counted as well as each side allows: an endpoint's stream is asked for its usage
(`stream_options.include_usage`) and the server's completion tokens are used when it sends them; otherwise the
streamed chunks with text are counted, which is an estimate (a chunk may carry several tokens). A local model's
count is `Generated.new_tokens`. A token never reaches a record: errors are status lines, and any token of the
contestant's endpoints that shows up in a detail or an answer is masked.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hftui.analyze.benchmark import percentile
from hftui.analyze.pipelines import PipelineCache
from hftui.infer.endpoints import Endpoint, client_for, endpoint_token
from hftui.infer.failover import Attempt, AuthRefused, chat

TASK = "text-generation"  # the one task both endpoints (chat) and local models (generate) answer here
CONTESTANT_KINDS = ("endpoint", "chain", "local")
# How a call ended: "answered", "stopped" (cancelled; not counted), or one of the error kinds.
ERROR_KINDS = ("incomplete", "timeout", "connection", "rate-limited", "server-error", "client-error", "auth",
               "bad-response", "local-error")  # fmt: skip
# How a call's tokens were counted.
TOKEN_COUNTS = {
    "usage": "usage (the server's count)",
    "chunks": "streamed chunks (an estimate)",
    "generated": "generated tokens",
}
MAX_TOKENS = 4096
MAX_ROUNDS = 1000
DATASET_PROMPTS = 20  # prompts taken from a dataset column when no limit is given
_MASK = "***"


# --- what is compared ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contestant:
    """One side of the comparison: a saved endpoint, a failover chain of endpoints, or a local model for
    text generation (a folder or a cached Hub id, on `device`)."""

    name: str
    kind: str  # one of CONTESTANT_KINDS
    endpoints: tuple[Endpoint, ...] = ()
    model: str | None = None
    device: str | None = None

    @classmethod
    def of_endpoint(cls, endpoint: Endpoint) -> Contestant:
        return cls(endpoint.name, "endpoint", (endpoint,))

    @classmethod
    def of_chain(cls, endpoints: Sequence[Endpoint], name: str | None = None) -> Contestant:
        """A chain tried in order, as failover.chat does; named "a->b" unless `name` is given."""
        return cls(name or "->".join(e.name for e in endpoints), "chain", tuple(endpoints))

    @classmethod
    def of_local(cls, model: str, *, name: str | None = None, device: str | None = None) -> Contestant:
        return cls(name or f"local:{model}", "local", model=model, device=device)

    def checked(self) -> Contestant:
        """This contestant, or ValueError saying what is missing."""
        if not self.name.strip():
            raise ValueError("a contestant needs a name")
        if self.kind not in CONTESTANT_KINDS:
            raise ValueError(f"contestant {self.name}: kind must be one of {', '.join(CONTESTANT_KINDS)}")
        if self.kind == "local":
            if not (self.model or "").strip():
                raise ValueError(f"contestant {self.name}: name the local model (a folder or a cached Hub id)")
        elif not self.endpoints or (self.kind == "endpoint" and len(self.endpoints) != 1):
            raise ValueError(f"contestant {self.name}: an endpoint is one endpoint, a chain one or more")
        return self

    def describe(self) -> str:
        """One line: where its answers come from (never a token)."""
        if self.kind == "local":
            return f"local model {self.model} on {self.device or 'auto'} (greedy)"
        return "; then ".join(endpoint.describe() for endpoint in self.endpoints)


@dataclass(frozen=True)
class PromptSet:
    """The prompts every contestant answers, and where they came from ("typed", a file, a dataset column)."""

    prompts: tuple[str, ...]
    source: str = "typed"

    @classmethod
    def typed(cls, texts: Iterable[str]) -> PromptSet:
        """Typed prompts, empty ones left out."""
        return cls(tuple(text for text in texts if text.strip()), "typed")

    def __add__(self, other: PromptSet) -> PromptSet:
        """Both sets' prompts, this one's first; the source names those that gave some."""
        sources = [part.source for part in (self, other) if part.prompts]
        return PromptSet(self.prompts + other.prompts, " + ".join(sources) or self.source)

    def __len__(self) -> int:
        return len(self.prompts)


class PromptsUnreadable(ValueError):
    """A prompt file or dataset column that gives no prompts; the message says why."""


def read_prompts(path: str | Path, *, column: str | None = None, limit: int | None = None) -> PromptSet:
    """Prompts from a file: a text file one a line (blank lines skipped), or a `column` of a JSON Lines or CSV
    file (default: "prompt", else "text"). The first `limit` prompts, or all."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PromptsUnreadable(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise PromptsUnreadable(f"{path}: {error.strerror or error}") from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows = _json_lines(path, text)
    elif suffix in (".csv", ".tsv"):
        rows = list(csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
    else:
        found = [line.strip() for line in text.splitlines() if line.strip()]
        if not found:
            raise PromptsUnreadable(f"{path} holds no prompts (one a line)")
        return PromptSet(tuple(found[:limit]), path.name)
    name = _column(rows, column, path.name)
    prompts = _strings(row.get(name) for row in rows)
    if not prompts:
        raise PromptsUnreadable(f"{path}: the column {name!r} holds no text")
    return PromptSet(tuple(prompts[:limit]), f"{path.name} ({name})")


def prompts_from_dataset(
    location: str, column: str, *, split: str = "train", config: str | None = None, limit: int | None = None
) -> PromptSet:
    """Prompts from a dataset's column, streamed by the dataset preview's reader (`data.sampler`): a local
    folder or file, or a Hub dataset (from the HF cache when offline). The first `limit` rows (default 20).
    SampleError when the dataset cannot be read."""
    from hftui.data.sampler import SampleOptions, SampleSource, stream_sample

    kind = "local" if Path(location).expanduser().exists() else "hub"
    wanted = limit or DATASET_PROMPTS
    rows: list[dict[str, Any]] = []
    columns: tuple[str, ...] = ()
    source = SampleSource(kind, location, config=config, split=split)
    for batch in stream_sample(source, SampleOptions(n=wanted, batch_size=wanted)):
        rows.extend(batch.rows)
        columns = batch.columns
    if column not in columns:
        raise PromptsUnreadable(f"{location} has no column {column!r}; its columns: {', '.join(columns) or 'none'}")
    prompts = _strings(row.get(column) for row in rows)
    if not prompts:
        raise PromptsUnreadable(f"{location}: the column {column!r} holds no text in its first {wanted} rows")
    return PromptSet(tuple(prompts[:wanted]), f"{location} [{split}] ({column})")


def _json_lines(path: Path, text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            raise PromptsUnreadable(f"{path}, line {number}: not JSON ({error})") from None
        if not isinstance(row, dict):
            raise PromptsUnreadable(f"{path}, line {number}: expected an object with a prompt column")
        rows.append(row)
    return rows


def _column(rows: Sequence[dict[str, Any]], column: str | None, where: str) -> str:
    names = list(dict.fromkeys(key for row in rows for key in row))
    if column is not None:
        if column not in names:
            raise PromptsUnreadable(f"{where} has no column {column!r}; its columns: {', '.join(names) or 'none'}")
        return column
    found = next((name for name in ("prompt", "text") if name in names), None)
    if found is None:
        raise PromptsUnreadable(f"{where}: name the prompt column; its columns: {', '.join(names) or 'none'}")
    return found


def _strings(values: Iterable[object]) -> list[str]:
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]


@dataclass(frozen=True)
class EndpointBenchPlan:
    """What to compare: the contestants, the prompts, how many rounds, the longest answer, and whether each
    contestant first answers one untimed prompt (`warmup`)."""

    contestants: tuple[Contestant, ...]
    prompts: PromptSet
    rounds: int = 3
    max_tokens: int = 64
    warmup: bool = False
    ask_usage: bool = True  # ask endpoints' streams for their token usage (an OpenAI option most servers know)

    def checked(self) -> EndpointBenchPlan:
        """This plan, or ValueError saying what is wrong with it."""
        if not self.contestants:
            raise ValueError("nothing to compare: name endpoints, chains or local models")
        names = [contestant.checked().name for contestant in self.contestants]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"each contestant once: {', '.join(twice)} named twice")
        if not self.prompts.prompts:
            raise ValueError("no prompts: type some, or read them from a file or a dataset column")
        if not 1 <= self.rounds <= MAX_ROUNDS:
            raise ValueError(f"rounds must be between 1 and {MAX_ROUNDS}")
        if not 1 <= self.max_tokens <= MAX_TOKENS:
            raise ValueError(f"max tokens must be between 1 and {MAX_TOKENS}")
        return self

    @property
    def total_calls(self) -> int:
        return self.rounds * len(self.prompts) * len(self.contestants)


def round_order(contestants: Sequence[str], round_index: int) -> tuple[str, ...]:
    """The contestants' order in round `round_index` (from 0): rotated one place a round."""
    if not contestants:
        return ()
    shift = round_index % len(contestants)
    return tuple(contestants[shift:]) + tuple(contestants[:shift])


# --- what each call gives --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What one contestant gave for one prompt: how it ended (`outcome`: "answered", "stopped" or an error
    kind), the answer, its timings from the call, its tokens and how they were counted, and the attempts."""

    outcome: str
    text: str = ""
    first_token_s: float | None = None
    total_s: float = 0.0
    tokens: int = 0
    tokens_counted: str = ""  # a key of TOKEN_COUNTS
    answered_by: str | None = None  # the endpoint (or local model) that answered
    attempts: tuple[Attempt, ...] = ()
    detail: str = ""  # what went wrong, as a status line

    @property
    def failovers(self) -> int:
        """How many times the call moved on to the chain's next endpoint."""
        return max(0, len(dict.fromkeys(attempt.endpoint for attempt in self.attempts)) - 1)

    @property
    def tokens_per_s(self) -> float | None:
        """Tokens a second after the first one (as `Generated.tokens_per_s`); None below two tokens."""
        if self.first_token_s is None or self.tokens < 2 or self.total_s <= self.first_token_s:
            return None
        return (self.tokens - 1) / (self.total_s - self.first_token_s)


# A prepared contestant: answers one prompt, stopping when the event is set.
Answerer = Callable[[str, threading.Event], Reply]


@dataclass(frozen=True)
class CallRecord:
    """One call of the benchmark: which round (from 1), which prompt (index into the set), the contestant
    and its place in the round's order (from 0), and the reply."""

    round: int
    prompt: int
    position: int
    contestant: str
    reply: Reply

    @property
    def counted(self) -> bool:
        """Whether the call counts in the statistics (a stopped one does not)."""
        return self.reply.outcome != "stopped"

    @property
    def ok(self) -> bool:
        return self.reply.outcome == "answered"


@dataclass(frozen=True)
class ContestantRow:
    """One contestant's numbers over its counted calls: errors (by kind), failovers, time to first token and
    total latency p50/p95 over its answers, mean tokens/s, and how its tokens were counted.

    `error` is set when the contestant could not be prepared (a local model that did not load): it made no call.
    """

    name: str
    kind: str
    description: str
    calls: int
    answered: int
    errors: int
    error_rate: float | None
    error_kinds: tuple[tuple[str, int], ...]
    stopped: int
    failovers: int
    answered_by: tuple[tuple[str, int], ...]
    first_token_p50_s: float | None
    first_token_p95_s: float | None
    total_p50_s: float | None
    total_p95_s: float | None
    tokens_per_s: float | None
    tokens: int
    tokens_counted: str  # a key of TOKEN_COUNTS, "mixed", or "" without answers
    load_s: float | None = None
    error: str | None = None


def contestant_row(
    contestant: Contestant, records: Sequence[CallRecord], *, load_s: float | None = None, error: str | None = None
) -> ContestantRow:
    """`contestant`'s numbers from its records (the others' are ignored)."""
    own = [record for record in records if record.contestant == contestant.name]
    counted = [record.reply for record in own if record.counted]
    answers = [reply for reply in counted if reply.outcome == "answered"]
    kinds = Counter(reply.outcome for reply in counted if reply.outcome != "answered")
    firsts = [reply.first_token_s for reply in answers if reply.first_token_s is not None]
    totals = [reply.total_s for reply in answers]
    speeds = [speed for speed in (reply.tokens_per_s for reply in answers) if speed is not None]
    counts = {reply.tokens_counted for reply in answers}
    by = Counter(reply.answered_by for reply in answers if reply.answered_by)
    errors = len(counted) - len(answers)
    return ContestantRow(
        name=contestant.name,
        kind=contestant.kind,
        description=contestant.describe(),
        calls=len(counted),
        answered=len(answers),
        errors=errors,
        error_rate=errors / len(counted) if counted else None,
        error_kinds=tuple(sorted(kinds.items(), key=lambda pair: (-pair[1], pair[0]))),
        stopped=len(own) - len(counted),
        failovers=sum(reply.failovers for reply in counted),
        answered_by=tuple(sorted(by.items(), key=lambda pair: (-pair[1], pair[0]))),
        first_token_p50_s=percentile(firsts, 0.5),
        first_token_p95_s=percentile(firsts, 0.95),
        total_p50_s=percentile(totals, 0.5),
        total_p95_s=percentile(totals, 0.95),
        tokens_per_s=sum(speeds) / len(speeds) if speeds else None,
        tokens=sum(reply.tokens for reply in answers),
        tokens_counted=counts.pop() if len(counts) == 1 else "mixed" if counts else "",
        load_s=load_s,
        error=error,
    )


@dataclass(frozen=True)
class EndpointBenchResult:
    """How the comparison went: one row per contestant, every call, and how it was run.

    `state` is "finished" or "cancelled" (the rows then hold the calls made before the stop)."""

    plan: EndpointBenchPlan
    rows: tuple[ContestantRow, ...]
    calls: tuple[CallRecord, ...]
    state: str
    rounds_done: int
    started_at: str
    duration_s: float
    verdict: str
    warnings: tuple[str, ...] = ()

    @property
    def answered_any(self) -> bool:
        return any(row.answered for row in self.rows)


# --- events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContestantPrepared:
    """A contestant is ready (a local model loaded, `load_s`), or could not be (`error`) and sits out."""

    name: str
    load_s: float
    error: str | None = None


@dataclass(frozen=True)
class RoundStarted:
    """Round `round` of `rounds` (from 1) began, with the contestants in this order."""

    round: int
    rounds: int
    order: tuple[str, ...]


@dataclass(frozen=True)
class CallFinished:
    """One call ended (answered, failed or stopped): `done` of `total` calls."""

    record: CallRecord
    done: int
    total: int


@dataclass(frozen=True)
class ContestantFinished:
    """A contestant made its last call: its row (`index` of `total`, from 0, in the order they finished)."""

    row: ContestantRow
    index: int
    total: int


BenchEvent = ContestantPrepared | RoundStarted | CallFinished | ContestantFinished


# --- running it ----------------------------------------------------------------------------------------------------


def run_endpoint_bench(
    plan: EndpointBenchPlan,
    *,
    on_event: Callable[[BenchEvent], None] | None = None,
    stop: threading.Event | None = None,
    pipelines: PipelineCache | None = None,
    client: Callable[[Endpoint], Any] | None = None,
    prepare: Callable[[Contestant], Answerer] | None = None,
) -> EndpointBenchResult:
    """Run `plan` in the calling thread (a worker's) and compare. Never raises for a contestant's failure: a
    call that fails is recorded with its kind, a local model that does not load sits out with its error.

    `pipelines`: the cache local models load into (the app's; default a private one, emptied at the end).
    `client` makes endpoints' clients (default `endpoints.client_for`, real InferenceClients) and `prepare`
    replaces how a contestant is made ready (tests)."""
    plan = plan.checked()
    emit = on_event or (lambda event: None)
    stop = stop or threading.Event()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    own_cache = pipelines is None
    local_models = sum(contestant.kind == "local" for contestant in plan.contestants)
    # Every local model stays loaded through the rounds: they take turns.
    cache = pipelines if pipelines is not None else PipelineCache(max_models=max(1, local_models))
    make_client = client or client_for
    ready = prepare or (lambda contestant: prepare_contestant(contestant, plan, cache, client=make_client))
    answerers: dict[str, Answerer] = {}
    load_times: dict[str, float] = {}
    problems: dict[str, str] = {}
    records: list[CallRecord] = []
    warnings: list[str] = []
    state = "finished"
    rounds_done = 0
    try:
        for contestant in plan.contestants:
            if stop.is_set():
                break
            began = time.perf_counter()
            try:
                answerers[contestant.name] = ready(contestant)
            except Exception as error:  # a contestant that cannot start sits out; the others run
                problems[contestant.name] = _one_line(f"{type(error).__name__}: {error}")
            load_times[contestant.name] = time.perf_counter() - began
            emit(ContestantPrepared(contestant.name, load_times[contestant.name], problems.get(contestant.name)))
        active = [c.name for c in plan.contestants if c.name in answerers]
        if plan.warmup and not stop.is_set():
            for name in active:
                answerers[name](plan.prompts.prompts[0], stop)  # untimed: its reply is not kept
        total = plan.rounds * len(plan.prompts) * len(active)
        last_round = plan.rounds
        finished = 0
        for round_index in range(plan.rounds):
            if stop.is_set() or not active:
                break
            order = round_order(active, round_index)
            emit(RoundStarted(round_index + 1, plan.rounds, order))
            for prompt_index, prompt in enumerate(plan.prompts.prompts):
                for position, name in enumerate(order):
                    if stop.is_set():
                        break
                    reply = answerers[name](prompt, stop)
                    if stop.is_set() and reply.outcome != "answered":
                        reply = _stopped(reply)
                    record = CallRecord(round_index + 1, prompt_index, position, name, reply)
                    records.append(record)
                    emit(CallFinished(record, len(records), total))
                    if round_index + 1 == last_round and prompt_index == len(plan.prompts) - 1 and record.counted:
                        contestant = next(c for c in plan.contestants if c.name == name)
                        row = contestant_row(contestant, records, load_s=_load_s(contestant, load_times))
                        emit(ContestantFinished(row, finished, len(active)))
                        finished += 1
            if stop.is_set():
                break
            rounds_done += 1
    finally:
        if own_cache:
            cache.clear()
    if stop.is_set() and (rounds_done < plan.rounds or any(not r.counted for r in records)):
        state = "cancelled"
    for name, problem in problems.items():
        warnings.append(f"{name} sat out: {problem}")
    rows = tuple(
        contestant_row(c, records, load_s=_load_s(c, load_times), error=problems.get(c.name)) for c in plan.contestants
    )
    return EndpointBenchResult(
        plan=plan,
        rows=rows,
        calls=tuple(records),
        state=state,
        rounds_done=rounds_done,
        started_at=started_at,
        duration_s=time.perf_counter() - started,
        verdict=verdict(rows),
        warnings=tuple(warnings),
    )


def _load_s(contestant: Contestant, load_times: dict[str, float]) -> float | None:
    return load_times.get(contestant.name) if contestant.kind == "local" else None


def _stopped(reply: Reply) -> Reply:
    return Reply("stopped", reply.text, reply.first_token_s, reply.total_s, reply.tokens, reply.tokens_counted,
                 reply.answered_by, reply.attempts, "stopped by the user")  # fmt: skip


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def verdict(rows: Sequence[ContestantRow]) -> str:
    """One line for the user: who was first to the first token, who finished soonest, who streamed fastest,
    and who failed."""
    answered = [row for row in rows if row.answered]
    if not answered:
        return "No contestant answered; see each one's errors."
    parts: list[str] = []
    firsts = [row for row in answered if row.first_token_p50_s is not None]
    if firsts:
        best = min(firsts, key=lambda row: row.first_token_p50_s or 0.0)
        parts.append(f"first token soonest: {best.name} (p50 {(best.first_token_p50_s or 0.0) * 1000:.0f} ms)")
    soonest = min(answered, key=lambda row: row.total_p50_s or 0.0)
    parts.append(f"lowest total latency: {soonest.name} (p50 {(soonest.total_p50_s or 0.0) * 1000:.0f} ms)")
    fast = [row for row in answered if row.tokens_per_s is not None]
    if fast:
        best = max(fast, key=lambda row: row.tokens_per_s or 0.0)
        parts.append(f"most tokens/s: {best.name} ({best.tokens_per_s or 0.0:.1f})")
    failing = [row for row in rows if row.errors or row.error]
    if failing:
        parts.append(
            "errors: "
            + ", ".join(
                f"{row.name} {'did not start' if row.error else f'{row.error_rate or 0.0:.0%}'}" for row in failing
            )
        )
    return "; ".join(parts) + "."


# --- making contestants ready ----------------------------------------------------------------------------------


def prepare_contestant(
    contestant: Contestant,
    plan: EndpointBenchPlan,
    pipelines: PipelineCache,
    *,
    client: Callable[[Endpoint], Any] = client_for,
) -> Answerer:
    """The answerer for `contestant`: a chat through its endpoints, or its local model loaded into `pipelines`
    (which raises when the model cannot be loaded)."""
    if contestant.kind == "local":
        return _local_answerer(contestant, plan, pipelines)
    return _endpoint_answerer(contestant, plan, client)


def _ignore(text: str) -> None:
    """The benchmark times the text; it does not show it."""


def _endpoint_answerer(contestant: Contestant, plan: EndpointBenchPlan, client: Callable[[Endpoint], Any]) -> Answerer:
    chain = contestant.endpoints
    secrets = tuple(token for token in (endpoint_token(endpoint) for endpoint in chain) if token)

    def answer(prompt: str, stop: threading.Event) -> Reply:
        watch = _UsageWatch(client, ask=plan.ask_usage)
        messages = [{"role": "user", "content": prompt}]
        try:
            said = chat(chain, messages, on_text=_ignore, stop=stop, max_tokens=plan.max_tokens, client=watch)
        except AuthRefused as refused:
            said = refused.answer
            last = said.attempts[-1] if said.attempts else None
            return Reply("auth", first_token_s=None, total_s=said.total_s, attempts=_masked(said.attempts, secrets),
                         detail=_mask(last.detail if last else "refused", secrets))  # fmt: skip
        attempts = _masked(said.attempts, secrets)
        if said.endpoint is None:
            last = attempts[-1] if attempts else None
            outcome = "stopped" if stop.is_set() or last is None else last.outcome
            return Reply(outcome, total_s=said.total_s, attempts=attempts, detail=last.detail if last else "")
        final = attempts[-1] if attempts else None
        if final is not None and final.outcome == "stopped":
            outcome = "stopped"
        else:
            outcome = "answered" if said.complete else "incomplete"
        tokens, counted = (watch.usage, "usage") if watch.usage is not None else (watch.chunks, "chunks")
        return Reply(outcome, _mask(said.text, secrets), said.first_token_s, said.total_s, tokens, counted,
                     said.endpoint, attempts, final.detail if final and outcome != "answered" else "")  # fmt: skip

    return answer


class _UsageWatch:
    """The client factory handed to failover.chat: each client's stream is watched for the server's token
    usage and its chunks with text, counted afresh for every attempt (the last one is the answer's)."""

    def __init__(self, client: Callable[[Endpoint], Any], *, ask: bool) -> None:
        self.client = client
        self.ask = ask
        self.usage: int | None = None
        self.chunks = 0

    def __call__(self, endpoint: Endpoint) -> _WatchedClient:
        return _WatchedClient(self, self.client(endpoint))

    def watched(self, stream: Iterable[Any]) -> Iterator[Any]:
        for chunk in stream:
            completion = getattr(getattr(chunk, "usage", None), "completion_tokens", None)
            if isinstance(completion, int):
                self.usage = completion
            choices = getattr(chunk, "choices", None) or ()
            if any(getattr(getattr(choice, "delta", None), "content", None) for choice in choices):
                self.chunks += 1
            yield chunk


class _WatchedClient:
    def __init__(self, watch: _UsageWatch, inner: Any) -> None:
        self.watch = watch
        self.inner = inner  # held while streaming: a client closes its responses when collected

    def chat_completion(self, messages: Any, **options: Any) -> Iterator[Any]:
        self.watch.usage, self.watch.chunks = None, 0
        if self.watch.ask and options.get("stream"):
            options.setdefault("stream_options", {"include_usage": True})
        return self.watch.watched(self.inner.chat_completion(messages, **options))


def _mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


def _masked(attempts: Sequence[Attempt], secrets: Sequence[str]) -> tuple[Attempt, ...]:
    return tuple(Attempt(a.endpoint, a.outcome, _mask(a.detail, secrets), a.elapsed_s) for a in attempts)


def _local_answerer(contestant: Contestant, plan: EndpointBenchPlan, pipelines: PipelineCache) -> Answerer:
    from hftui.infer.generate import GenerationSettings, Message
    from hftui.infer.playground import load, open_model, reply

    loaded = load(open_model(contestant.model or ""), TASK, pipelines, device=contestant.device)
    settings = GenerationSettings(max_new_tokens=plan.max_tokens, temperature=0.0)  # greedy: repeatable

    def answer(prompt: str, stop: threading.Event) -> Reply:
        began = time.perf_counter()
        try:
            made = reply(loaded, [Message("user", prompt)], settings, on_text=_ignore, stop=stop)
        except Exception as error:  # an input the model cannot take, out of memory: this call failed
            detail = _one_line(f"{type(error).__name__}: {error}", 200)
            return Reply("local-error", total_s=time.perf_counter() - began, detail=detail)
        return Reply("stopped" if made.stopped else "answered", made.text, made.first_token_s, made.total_s,
                     made.new_tokens, "generated", contestant.name)  # fmt: skip

    return answer
