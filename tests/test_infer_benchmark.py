"""The endpoint benchmark: contestants answering a prompt set over rounds in a rotating order, their numbers
(percentiles, error rate and kinds, failovers, tokens and how they were counted), cancellation, the reports and
the prompt readers, on stand-ins (scripted replies, fake streams); then `hftui bench-endpoints` against the real
`transformers serve`, a dead port and a local tiny GPT-2."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from hftui.commands import bench_endpoints as command
from hftui.infer import benchmark
from hftui.infer.benchmark import (
    CallFinished,
    Contestant,
    ContestantFinished,
    ContestantPrepared,
    EndpointBenchPlan,
    PromptSet,
    PromptsUnreadable,
    Reply,
    RoundStarted,
    prompts_from_dataset,
    read_prompts,
    round_order,
    run_endpoint_bench,
)
from hftui.infer.benchmark_reports import render_csv, render_json, render_markdown, write_report
from hftui.infer.endpoints import Endpoint, EndpointBook
from tests.test_infer_serve import served  # noqa: F401  (the module's fixture: a running transformers serve)

TOKEN_ENV = "HFTUI_TEST_BENCH_TOKEN"
TOKEN = "hf_benchtokenitself42"


def local(name: str) -> Contestant:
    """A stand-in contestant: with scripted replies its kind is never looked at."""
    return Contestant(name, "chain", (Endpoint(name, "openai", base_url="http://127.0.0.1:9/v1"),))


def scripted(replies: dict[str, list[Reply]], log: list[tuple[str, str]]) -> Callable[[Contestant], Any]:
    """A `prepare` whose contestants give their replies in turn (the last one again), logging each call."""

    def prepare(contestant: Contestant) -> Any:
        queue = replies[contestant.name]

        def answer(prompt: str, stop: threading.Event) -> Reply:
            log.append((contestant.name, prompt))
            return queue[min(sum(name == contestant.name for name, _ in log) - 1, len(queue) - 1)]

        return answer

    return prepare


def answered(first: float, total: float, tokens: int = 11, by: str = "x") -> Reply:
    return Reply("answered", "ok", first, total, tokens, "usage", by)


# --- order, rounds, events ------------------------------------------------------------------------------------


def test_the_order_rotates_one_place_a_round() -> None:
    assert [round_order(["a", "b", "c"], r) for r in range(4)] == [
        ("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b"), ("a", "b", "c"),
    ]  # fmt: skip
    assert round_order(["a", "b"], 1) == ("b", "a") and round_order([], 3) == ()


def test_every_round_asks_every_prompt_of_each_contestant_in_the_rounds_order() -> None:
    log: list[tuple[str, str]] = []
    events: list[Any] = []
    ok = [answered(0.1, 0.5)]
    plan = EndpointBenchPlan((local("a"), local("b"), local("c")), PromptSet(("p1", "p2")), rounds=3)
    result = run_endpoint_bench(plan, on_event=events.append, prepare=scripted({"a": ok, "b": ok, "c": ok}, log))
    assert log == [
        ("a", "p1"), ("b", "p1"), ("c", "p1"), ("a", "p2"), ("b", "p2"), ("c", "p2"),
        ("b", "p1"), ("c", "p1"), ("a", "p1"), ("b", "p2"), ("c", "p2"), ("a", "p2"),
        ("c", "p1"), ("a", "p1"), ("b", "p1"), ("c", "p2"), ("a", "p2"), ("b", "p2"),
    ]  # fmt: skip
    firsts = {}
    for record in result.calls:  # no contestant always goes first
        firsts.setdefault(record.round, record.contestant)
    assert firsts == {1: "a", 2: "b", 3: "c"}
    assert [e.order for e in events if isinstance(e, RoundStarted)] == [
        ("a", "b", "c"),
        ("b", "c", "a"),
        ("c", "a", "b"),
    ]
    done = [e for e in events if isinstance(e, CallFinished)]
    assert [e.done for e in done] == list(range(1, 19)) and {e.total for e in done} == {18}
    assert [type(e) for e in events[:3]] == [ContestantPrepared] * 3
    finished = [e for e in events if isinstance(e, ContestantFinished)]
    assert [(e.row.name, e.index, e.total) for e in finished] == [("c", 0, 3), ("a", 1, 3), ("b", 2, 3)]
    assert result.state == "finished" and result.rounds_done == 3 and len(result.calls) == 18
    assert [(r.position, r.prompt) for r in result.calls[6:9]] == [(0, 0), (1, 0), (2, 0)]


def test_a_warm_up_call_each_is_made_first_and_not_kept() -> None:
    log: list[tuple[str, str]] = []
    ok = [answered(0.1, 0.5)]
    plan = EndpointBenchPlan((local("a"), local("b")), PromptSet(("p1", "p2")), rounds=1, warmup=True)
    result = run_endpoint_bench(plan, prepare=scripted({"a": ok, "b": ok}, log))
    assert log[:2] == [("a", "p1"), ("b", "p1")] and len(log) == 6
    assert len(result.calls) == 4 and [row.calls for row in result.rows] == [2, 2]


def test_percentiles_tokens_per_second_and_the_error_rate_by_kind() -> None:
    log: list[tuple[str, str]] = []
    steady = [answered(0.1, 1.1), answered(0.2, 2.2), answered(0.3, 3.3), answered(0.4, 4.4)]
    flaky = [
        answered(0.5, 1.5, tokens=5),
        Reply("connection", detail="cannot connect"),
        answered(0.5, 2.5, tokens=5),
        Reply("timeout", total_s=60.0, detail="timed out"),
    ]
    plan = EndpointBenchPlan((local("steady"), local("flaky")), PromptSet(("a", "b")), rounds=2)
    result = run_endpoint_bench(plan, prepare=scripted({"steady": steady, "flaky": flaky}, log))
    one, two = result.rows
    assert (one.calls, one.answered, one.errors, one.error_rate, one.error_kinds) == (4, 4, 0, 0.0, ())
    assert one.first_token_p50_s == pytest.approx(0.25) and one.first_token_p95_s == pytest.approx(0.385)
    assert one.total_p50_s == pytest.approx(2.75) and one.total_p95_s == pytest.approx(4.235)
    # (11 - 1) tokens after the first, over the time after the first token: 10/1, 10/2, 10/3, 10/4.
    assert one.tokens_per_s == pytest.approx((10 + 5 + 10 / 3 + 2.5) / 4)
    assert one.tokens == 44 and one.tokens_counted == "usage"
    assert (two.calls, two.answered, two.errors, two.error_rate) == (4, 2, 2, 0.5)
    assert two.error_kinds == (("connection", 1), ("timeout", 1))
    assert two.total_p95_s == pytest.approx(2.45)  # over the answers only: a timeout is not a latency
    assert two.tokens_per_s == pytest.approx((4 / 1 + 4 / 2) / 2)
    assert "first token soonest: steady" in result.verdict and "errors: flaky 50%" in result.verdict


# --- endpoints through fake streams -------------------------------------------------------------------------------


def chunk(text: str | None = None, finish: str | None = None, usage: int | None = None) -> Any:
    choices = [] if usage is not None else [SimpleNamespace(delta=SimpleNamespace(content=text), finish_reason=finish)]
    return SimpleNamespace(choices=choices, usage=None if usage is None else SimpleNamespace(completion_tokens=usage))


class Refused(Exception):
    response = SimpleNamespace(status_code=401, reason_phrase="Unauthorized", headers={})


class FakeClients:
    """`client` for the benchmark: per endpoint name, a stream (with or without usage), a refused connection,
    or a refused token; every request's options kept."""

    def __init__(self, modes: dict[str, str], on_chunk: Callable[[str], None] | None = None) -> None:
        self.modes = modes
        self.options: list[dict[str, Any]] = []
        self.on_chunk = on_chunk or (lambda name: None)

    def __call__(self, endpoint: Endpoint) -> Any:
        return SimpleNamespace(chat_completion=lambda messages, **options: self.stream(endpoint.name, options))

    def stream(self, name: str, options: dict[str, Any]) -> Iterator[Any]:
        self.options.append(options)
        mode = self.modes[name]
        if mode == "dead":
            raise ConnectionError(f"cannot connect to {name} (key {TOKEN})")
        if mode == "refused":
            raise Refused("401")
        return self.chunks(name, mode)

    def chunks(self, name: str, mode: str) -> Iterator[Any]:
        yield chunk("")  # the role-only first chunk servers send
        for word in ("Hel", "lo", " there", f" {TOKEN}" if mode == "echo" else "!"):
            self.on_chunk(name)
            yield chunk(word)
        yield chunk(finish="length")
        if mode == "usage":
            yield chunk(usage=7)


def endpoint(name: str, **fields: Any) -> Endpoint:
    return Endpoint(name, "openai", model="m", base_url=f"http://127.0.0.1:9/{name}", retries=0, **fields)


def test_failovers_and_tokens_from_usage_or_streamed_chunks() -> None:
    fake = FakeClients({"dead": "dead", "usage": "usage", "plain": "plain"})
    chain = Contestant.of_chain([endpoint("dead"), endpoint("usage")])
    plan = EndpointBenchPlan((chain, Contestant.of_endpoint(endpoint("plain"))), PromptSet(("hi",)), rounds=3)
    result = run_endpoint_bench(plan, client=fake)
    assert chain.name == "dead->usage"
    over, plain = result.rows
    assert (over.calls, over.answered, over.failovers, over.answered_by) == (3, 3, 3, (("usage", 3),))
    assert over.tokens_counted == "usage" and over.tokens == 21  # the server's count, not the 4 chunks
    assert (plain.failovers, plain.tokens_counted, plain.tokens) == (0, "chunks", 12)
    first = result.calls[0].reply
    assert [a.outcome for a in first.attempts] == ["connection", "answered"] and first.answered_by == "usage"
    assert first.text == "Hello there!" and first.first_token_s is not None and first.first_token_s <= first.total_s
    assert all(o["stream"] and o["stream_options"] == {"include_usage": True} for o in fake.options)
    quiet = FakeClients({"plain": "plain"})
    plan = EndpointBenchPlan((Contestant.of_endpoint(endpoint("plain")),), PromptSet(("hi",)), rounds=1,
                             ask_usage=False)  # fmt: skip
    run_endpoint_bench(plan, client=quiet)
    assert "stream_options" not in quiet.options[0]


def test_a_dead_endpoint_errors_every_call_and_a_refused_token_is_an_auth_error() -> None:
    fake = FakeClients({"dead": "dead", "refused": "refused"})
    contestants = (Contestant.of_endpoint(endpoint("dead")), Contestant.of_endpoint(endpoint("refused")))
    result = run_endpoint_bench(EndpointBenchPlan(contestants, PromptSet(("a", "b")), rounds=2), client=fake)
    dead, refused = result.rows
    assert (dead.calls, dead.errors, dead.error_rate, dead.error_kinds, dead.failovers) == (
        4,
        4,
        1.0,
        (("connection", 4),),
        0,
    )
    assert (refused.error_rate, refused.error_kinds) == (1.0, (("auth", 4),))
    assert dead.first_token_p50_s is None and dead.tokens_per_s is None and not result.answered_any
    assert result.verdict == "No contestant answered; see each one's errors."


def test_the_token_never_reaches_a_record_or_a_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    fake = FakeClients({"dead": "dead", "echo": "echo"})
    contestants = (
        Contestant.of_endpoint(endpoint("dead", token_env=TOKEN_ENV)),
        Contestant.of_endpoint(endpoint("echo", token_env=TOKEN_ENV)),
    )
    result = run_endpoint_bench(EndpointBenchPlan(contestants, PromptSet(("hi",)), rounds=1), client=fake)
    assert "***" in result.calls[0].reply.detail and result.calls[1].reply.text == "Hello there ***"
    assert TOKEN not in repr(result)
    for text in (render_markdown(result), render_json(result), render_csv(result)):
        assert TOKEN not in text and TOKEN_ENV in render_json(result)


def test_a_local_model_that_does_not_load_sits_out(tmp_path: Path) -> None:
    fake = FakeClients({"plain": "plain"})
    contestants = (Contestant.of_local(str(tmp_path / "no-such-model")), Contestant.of_endpoint(endpoint("plain")))
    events: list[Any] = []
    result = run_endpoint_bench(EndpointBenchPlan(contestants, PromptSet(("hi",)), rounds=2), client=fake,
                                on_event=events.append)  # fmt: skip
    missing, plain = result.rows
    assert missing.calls == 0 and missing.error and "NotAPlaygroundModel" in missing.error
    assert plain.calls == 2 and {r.contestant for r in result.calls} == {"plain"}
    assert events[0].error == missing.error and result.warnings == (f"{missing.name} sat out: {missing.error}",)
    assert "did not start" in render_markdown(result) and "did not start" in result.verdict


# --- cancelling ----------------------------------------------------------------------------------------------------


def test_stop_ends_the_running_stream_and_keeps_the_calls_before_it() -> None:
    stop = threading.Event()
    seen: list[str] = []

    def count(name: str) -> None:
        seen.append(name)
        if len(seen) == 9:  # the third call's first word: as Ctrl+C or Escape would, mid-answer
            stop.set()

    fake = FakeClients({"a": "plain", "b": "plain"}, on_chunk=count)
    contestants = (Contestant.of_endpoint(endpoint("a")), Contestant.of_endpoint(endpoint("b")))
    plan = EndpointBenchPlan(contestants, PromptSet(("one", "two")), rounds=3)
    result = run_endpoint_bench(plan, client=fake, stop=stop)
    assert result.state == "cancelled" and result.rounds_done == 0
    assert [(r.contestant, r.reply.outcome) for r in result.calls] == [
        ("a", "answered"),
        ("b", "answered"),
        ("a", "stopped"),
    ]
    assert result.calls[2].reply.text == "Hel"  # what came before the stop is kept
    a, b = result.rows
    assert (a.calls, a.stopped, a.errors, a.error_rate) == (1, 1, 0, 0.0) and b.calls == 1
    assert "cancelled (0 of 3 rounds)" in render_markdown(result)
    stop = threading.Event()
    stop.set()
    before = run_endpoint_bench(plan, client=fake, stop=stop)
    assert before.state == "cancelled" and not before.calls


# --- reports --------------------------------------------------------------------------------------------------------


def test_reports_in_markdown_json_and_csv_by_suffix(tmp_path: Path) -> None:
    log: list[tuple[str, str]] = []
    replies = {"fast": [answered(0.01, 0.1)], "slow": [answered(0.2, 1.0), Reply("server-error", detail="HTTP 503")]}
    prompts = PromptSet(("What | is <b>this</b>?", "second\nline"), "prompts.txt")
    plan = EndpointBenchPlan((local("fast"), local("slow")), prompts, rounds=2, max_tokens=16)
    result = run_endpoint_bench(plan, prepare=scripted(replies, log))
    md = write_report(result, tmp_path / "bench.md").read_text(encoding="utf-8")
    assert md.startswith("# hftui endpoint benchmark: text-generation")
    assert "| fast | 4 | 0 (0%) |  | 0 | 10.0 | 10.0 | 100.0 | 100.0 | 111.1 | usage |" in md
    assert "| slow | 4 | 3 (75%) | server-error 3 |" in md
    assert "1. What \\| is &lt;b&gt;this&lt;/b&gt;?" not in md and "1. What | is &lt;b&gt;this&lt;/b&gt;?" in md
    assert "**Verdict:** first token soonest: fast" in md and "## Calls" in md
    data = json.loads(write_report(result, tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert data["kind"] == "endpoint-benchmark" and data["state"] == "finished" and data["rounds"] == 2
    assert [row["name"] for row in data["rows"]] == ["fast", "slow"] and len(data["calls"]) == 8
    assert data["rows"][1]["error_kinds"] == {"server-error": 3} and data["prompts"]["source"] == "prompts.txt"
    assert data["calls"][0] | {"total_s": 0} == {
        "round": 1, "prompt": 0, "position": 0, "contestant": "fast", "outcome": "answered", "answered_by": "x",
        "first_token_s": 0.01, "total_s": 0, "tokens": 11, "tokens_counted": "usage",
        "tokens_per_s": pytest.approx(10 / 0.09), "failovers": 0, "detail": "", "attempts": [], "text": "ok",
    }  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(write_report(result, tmp_path / "bench.csv").read_text(encoding="utf-8"))))
    assert [(r["contestant"], r["calls"], r["errors"], r["error_kinds"]) for r in rows] == [
        ("fast", "4", "0", ""), ("slow", "4", "3", "server-error:3"),
    ]  # fmt: skip
    assert float(rows[1]["error_rate"]) == 0.75
    with pytest.raises(ValueError, match="cannot tell the report format"):
        write_report(result, tmp_path / "bench.txt")


# --- prompts ----------------------------------------------------------------------------------------------------------


def test_prompts_from_text_jsonl_and_csv_files(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("first\n\n  second  \nthird\n", encoding="utf-8")
    assert read_prompts(tmp_path / "p.txt") == PromptSet(("first", "second", "third"), "p.txt")
    assert read_prompts(tmp_path / "p.txt", limit=2).prompts == ("first", "second")
    (tmp_path / "p.jsonl").write_text('{"prompt": "a", "n": 1}\n\n{"prompt": "b"}\n{"prompt": 3}\n', encoding="utf-8")
    assert read_prompts(tmp_path / "p.jsonl") == PromptSet(("a", "b"), "p.jsonl (prompt)")
    (tmp_path / "p.csv").write_text("id,question\n1,why?\n2,how?\n", encoding="utf-8")
    assert read_prompts(tmp_path / "p.csv", column="question").prompts == ("why?", "how?")
    with pytest.raises(PromptsUnreadable, match="name the prompt column; its columns: id, question"):
        read_prompts(tmp_path / "p.csv")
    with pytest.raises(PromptsUnreadable, match="no column 'q'"):
        read_prompts(tmp_path / "p.csv", column="q")
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(PromptsUnreadable, match="line 2: not JSON"):
        read_prompts(tmp_path / "bad.jsonl")
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    with pytest.raises(PromptsUnreadable, match="holds no prompts"):
        read_prompts(tmp_path / "empty.txt")
    with pytest.raises(PromptsUnreadable, match="No such file"):
        read_prompts(tmp_path / "missing.txt")
    assert (PromptSet.typed(["x", " "]) + read_prompts(tmp_path / "p.txt")).source == "typed + p.txt"
    assert (PromptSet.typed([]) + read_prompts(tmp_path / "p.txt")).source == "p.txt"


def test_prompts_from_a_local_dataset_column(tmp_path: Path) -> None:
    folder = tmp_path / "questions"
    folder.mkdir()
    rows = [{"question": f"question {n}?", "answer": "yes"} for n in range(30)]
    (folder / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    found = prompts_from_dataset(str(folder), "question", limit=3)
    assert found.prompts == ("question 0?", "question 1?", "question 2?")
    assert found.source == f"{folder} [train] (question)"
    assert len(prompts_from_dataset(str(folder), "question")) == benchmark.DATASET_PROMPTS
    with pytest.raises(PromptsUnreadable, match="no column 'prompt'; its columns: question, answer"):
        prompts_from_dataset(str(folder), "prompt")


def test_plans_are_checked() -> None:
    prompts = PromptSet(("hi",))
    for plan, message in [
        (EndpointBenchPlan((), prompts), "nothing to compare"),
        (EndpointBenchPlan((local("a"), local("a")), prompts), "a named twice"),
        (EndpointBenchPlan((local("a"),), PromptSet(())), "no prompts"),
        (EndpointBenchPlan((local("a"),), prompts, rounds=0), "rounds must be"),
        (EndpointBenchPlan((local("a"),), prompts, max_tokens=0), "max tokens must be"),
        (EndpointBenchPlan((Contestant("x", "local"),), prompts), "name the local model"),
    ]:
        with pytest.raises(ValueError, match=message):
            plan.checked()


# --- the command ------------------------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hftui bench-endpoints")
    command.add_bench_endpoints_arguments(parser)
    return parser.parse_args(argv)


def save_book(*endpoints: Endpoint) -> None:
    book = EndpointBook()
    for item in endpoints:
        book.add(item)
    book.save()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nowhere", "--prompt", "hi"], "no endpoint named 'nowhere' (saved: plain)"),
        (["--chain", ",", "--prompt", "hi"], "--chain ',': name saved endpoints"),
        (["--prompt", "hi"], "nothing to compare"),
        (["plain"], "no prompts"),
        (["plain", "plain", "--prompt", "hi"], "plain named twice"),
        (["plain", "--prompt", "hi", "--report", "out.txt"], "cannot tell the report format"),
        (["plain", "--prompt", "hi", "--report", "no/such/out.md"], "does not exist"),
        (["plain", "--dataset", "somewhere"], "--dataset needs --column"),
        (["plain", "--prompt", "hi", "--max-tokens", "5000"], "max tokens must be between 1 and 4096"),
    ],
)
def test_arguments_that_make_no_sense(
    argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    save_book(endpoint("plain"))
    with pytest.raises(command.BenchEndpointsUsageError, match=re.escape(message)):
        command.run_bench_endpoints(parse(*argv))


def test_the_command_prints_the_table_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    save_book(endpoint("plain"), endpoint("dead"), endpoint("usage"))
    monkeypatch.setattr(benchmark, "client_for", FakeClients({"plain": "plain", "dead": "dead", "usage": "usage"}))
    (tmp_path / "prompts.txt").write_text("one\ntwo\n", encoding="utf-8")
    report = tmp_path / "bench.md"
    args = parse("plain", "--chain", "dead,usage", "--prompts", str(tmp_path / "prompts.txt"), "--rounds", "2",
                 "--report", str(report))  # fmt: skip
    assert command.run_bench_endpoints(args) == 0
    out, err = capsys.readouterr()
    assert "2 contestants, 2 prompts, 2 of 2 rounds (finished)" in out
    assert "dead->usage" in out and "streamed chunks (an estimate)" in out and "usage (the server's count)" in out
    assert f"wrote {report}" in err
    assert "| dead-&gt;usage | 4 | 0 (0%) |  | 4 |" in report.read_text(encoding="utf-8")


def test_ctrl_c_reports_the_calls_made_and_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    save_book(endpoint("plain"))
    monkeypatch.setattr(benchmark, "client_for", FakeClients({"plain": "plain"}))
    show = command.BenchDisplay.show

    def interrupt_after_two_calls(self: command.BenchDisplay, event: Any) -> None:
        show(self, event)
        if isinstance(event, CallFinished) and event.done == 2:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl+C in the terminal sends

    monkeypatch.setattr(command.BenchDisplay, "show", interrupt_after_two_calls)
    code = command.run_bench_endpoints(parse("plain", "--prompt", "a", "--prompt", "b", "--rounds", "5", "--json"))
    out, err = capsys.readouterr()
    assert code == command.EXIT_CANCELLED == 130
    data = json.loads(out)
    assert data["state"] == "cancelled" and len(data["calls"]) == 2 and data["rows"][0]["calls"] == 2
    assert "cancelling: stopping the answer in progress" in err


def test_with_the_real_transformers_serve_a_dead_port_and_a_local_gpt2(
    served: tuple[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base_url, model = served
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    save_book(
        Endpoint("serve", "openai", model=model, base_url=base_url, timeout_s=60, retries=0),
        Endpoint("dead", "openai", model=model, base_url=dead, timeout_s=2, retries=0),
    )
    report = tmp_path / "bench.csv"
    args = parse("serve", "dead", "--local", model, "--device", "cpu", "--prompt", "hello there", "--prompt",
                 "how are you", "--rounds", "2", "--max-tokens", "8", "--json", "--report", str(report))  # fmt: skip
    assert command.run_bench_endpoints(args) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in data["rows"]}
    name = f"local:{Path(model).name}"
    assert list(rows) == ["serve", "dead", name] and data["state"] == "finished"
    serve, gone, gpt2 = rows["serve"], rows["dead"], rows[name]
    assert (serve["calls"], serve["errors"], serve["tokens_counted"], serve["tokens"]) == (4, 0, "usage", 32)
    assert 0 < serve["first_token_p50_s"] <= serve["total_p50_s"] <= serve["total_p95_s"] < 60
    assert serve["tokens_per_s"] > 0
    assert (gone["calls"], gone["error_rate"], gone["error_kinds"], gone["failovers"]) == (4, 1.0, {"connection": 4}, 0)
    assert gone["first_token_p50_s"] is None
    assert (gpt2["calls"], gpt2["errors"], gpt2["tokens_counted"], gpt2["tokens"]) == (4, 0, "generated", 32)
    assert gpt2["load_s"] > 0 and 0 < gpt2["first_token_p50_s"] <= gpt2["total_p50_s"] and gpt2["tokens_per_s"] > 0
    orders = [[c["contestant"] for c in data["calls"] if c["round"] == r and c["prompt"] == 0] for r in (1, 2)]
    assert orders == [["serve", "dead", name], ["dead", name, "serve"]]
    assert all(c["text"] for c in data["calls"] if c["outcome"] == "answered")
    table = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert [(r["contestant"], r["calls"], r["error_rate"]) for r in table] == [
        ("serve", "4", "0.0"), ("dead", "4", "1.0"), (name, "4", "0.0"),
    ]  # fmt: skip
