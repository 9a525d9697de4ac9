"""Chat through hftui's failover chain with the real OpenAI-compatible server `transformers serve`, serving a
tiny random-weight GPT-2 with a chat template on 127.0.0.1, offline. The chain is a dead port, then the server
behind a fault proxy that fails as servers do (429 with Retry-After, 503, a hang past the timeout, a stream cut
mid-answer, a refused token, an HTML page, malformed JSON), then the live server (behind a clean proxy that
records what reached it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hftui.infer.endpoints import Endpoint
from hftui.infer.failover import AuthRefused, ChainAnswer, chat
from tests.fault_proxy import Fault, FaultProxy
from tests.test_infer_generate import TEMPLATE, silent_tokens, tiny_gpt2

TOKEN_ENV = "HFTUI_TEST_SERVE_TOKEN"
TOKEN = "hf_faultproxytokenitself42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, model name) of a running `transformers serve`."""
    pytest.importorskip("fastapi", reason="transformers[serving] (the dev extra) is not installed")
    pytest.importorskip("uvicorn", reason="transformers[serving] (the dev extra) is not installed")
    cli = shutil.which("transformers", path=str(Path(sys.executable).parent)) or shutil.which("transformers")
    assert cli, "the transformers command should be installed beside this Python"
    from transformers import GenerationConfig

    folder = tiny_gpt2(tmp_path_factory.mktemp("serve") / "tiny-chat", chat_template=TEMPLATE)
    # Random weights may end an answer at once, or answer only with tokens that show nothing: these tests
    # want words to stream.
    from transformers import AutoTokenizer

    generation = GenerationConfig.from_pretrained(folder)
    generation.eos_token_id = None
    generation.suppress_tokens = silent_tokens(AutoTokenizer.from_pretrained(folder))
    generation.save_pretrained(folder)
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", "--log-level", "warning"]
    server = subprocess.Popen([*command, str(folder)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.communicate(timeout=5)[0].decode(errors="replace")[-2000:]
                    pytest.fail(f"transformers serve did not start:\n{output}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1", str(folder)
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def dead_url() -> str:
    """The base URL of a port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/v1"


def test_chat_streams_from_the_real_server_after_a_dead_endpoint(served: tuple[str, str]) -> None:
    base_url, model = served
    dead = dead_url()
    chain = [
        Endpoint("dead", "openai", model=model, base_url=dead, timeout_s=2, retries=0),
        Endpoint("serve", "openai", model=model, base_url=base_url, timeout_s=60, retries=0),
    ]
    pieces: list[str] = []
    messages = [{"role": "user", "content": "hello there"}]
    answer = chat(chain, messages, on_text=pieces.append, stop=threading.Event(), max_tokens=12)
    assert answer.endpoint == "serve" and answer.complete, answer.summary()
    assert [a.outcome for a in answer.attempts] == ["connection", "answered"]
    assert pieces and "".join(pieces) == answer.text, answer
    assert answer.first_token_s is not None and answer.first_token_s <= answer.total_s


@pytest.fixture(scope="module")
def proxies(served: tuple[str, str]) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    """(the fault proxy, the clean proxy in front of the live server), both to the one running server."""
    with FaultProxy(served[0]) as faulty, FaultProxy(served[0]) as live:
        yield faulty, live


@dataclass
class Chain:
    """[dead port, fault proxy, live server] for one test, and what the chain did."""

    model: str
    faulty: FaultProxy
    live: FaultProxy
    waits: list[float]

    def endpoints(self, *, timeout_s: float = 30.0, retries: int = 0) -> list[Endpoint]:
        """The chain, each endpoint sending the token; `timeout_s` and `retries` are the fault proxy's."""

        def endpoint(name: str, base_url: str, timeout_s: float, retries: int = 0) -> Endpoint:
            return Endpoint(name, "openai", model=self.model, base_url=base_url, timeout_s=timeout_s,
                            retries=retries, token_env=TOKEN_ENV)  # fmt: skip

        return [
            endpoint("dead", dead_url(), 2),
            endpoint("faulty", self.faulty.base_url, timeout_s, retries),
            endpoint("live", self.live.base_url, 60),
        ]

    def ask(self, *faults: Fault, timeout_s: float = 30.0, retries: int = 0) -> tuple[ChainAnswer, list[str]]:
        """Chat through the chain with `faults` queued at the fault proxy; the answer and the pieces streamed."""
        self.faulty.then(*faults)
        pieces: list[str] = []
        answer = chat(self.endpoints(timeout_s=timeout_s, retries=retries), [{"role": "user", "content": "hello"}],
                      on_text=pieces.append, stop=threading.Event(), max_tokens=8, sleep=self.waits.append)  # fmt: skip
        return answer, pieces


@pytest.fixture
def chain(served: tuple[str, str], proxies: tuple[FaultProxy, FaultProxy], monkeypatch: pytest.MonkeyPatch) -> Chain:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    for proxy in proxies:
        proxy.reset()
    return Chain(served[1], *proxies, waits=[])


def assert_no_token(answer: ChainAnswer) -> None:
    assert TOKEN not in answer.summary()
    assert not [a for a in answer.attempts if TOKEN in a.detail], answer.attempts


@pytest.mark.parametrize(
    ("fault", "timeout_s", "outcome", "detail"),
    [
        (Fault("429", retry_after="3600"), 30, "rate-limited", "HTTP 429 Too Many Requests"),
        (Fault("429", retry_after="Wed, 21 Oct 2099 07:28:00 GMT"), 30, "rate-limited", "HTTP 429 Too Many Requests"),
        (Fault("429", retry_after="0.2"), 30, "rate-limited", "HTTP 429 Too Many Requests"),  # no retry left
        (Fault("503"), 30, "server-error", "HTTP 503 Service Unavailable"),
        (Fault("hang"), 1, "timeout", "timed out"),
        (Fault("html"), 30, "bad-response", "no chat stream in the answer"),
        (Fault("bad-json"), 30, "bad-response", "JSONDecodeError: "),
    ],
    ids=["429-long", "429-date", "429-no-retry-left", "503", "hang", "html", "bad-json"],
)
def test_a_fault_moves_the_chain_on_to_the_live_server(
    chain: Chain, fault: Fault, timeout_s: float, outcome: str, detail: str
) -> None:
    answer, pieces = chain.ask(fault, timeout_s=timeout_s)
    assert answer.endpoint == "live" and answer.complete, answer.summary()
    assert [(a.endpoint, a.outcome) for a in answer.attempts] == [
        ("dead", "connection"), ("faulty", outcome), ("live", "answered")
    ]  # fmt: skip
    assert answer.attempts[1].detail.startswith(detail), answer.attempts[1]
    assert answer.failovers == 2 and chain.waits == []  # nothing worth waiting for: no retry at the fault proxy
    summary = answer.summary()
    assert summary.startswith("answered by live after dead connection (cannot connect"), summary
    assert f"; faulty {outcome} ({detail}" in summary, summary
    assert_no_token(answer)
    assert pieces and "".join(pieces) == answer.text
    # Each proxy saw one request, with the token; the live answer streamed through in pieces, not at the end.
    assert [(s.path, s.authorized, s.fault) for s in chain.faulty.seen] == [("/v1/chat/completions", True, fault.kind)]
    assert [(s.path, s.authorized) for s in chain.live.seen] == [("/v1/chat/completions", True)]
    assert chain.live.seen[0].chunks > 2
    if fault.kind == "hang":  # timed out at the endpoint's timeout, not the proxy's hang
        assert timeout_s <= answer.attempts[1].elapsed_s < timeout_s + 3, answer.attempts[1]


def test_a_short_retry_after_is_waited_out_then_answered_through_the_proxy(chain: Chain) -> None:
    answer, pieces = chain.ask(Fault("429", retry_after="0.2"), retries=1)
    assert chain.waits == [0.2]
    assert answer.endpoint == "faulty" and answer.complete and pieces and "".join(pieces) == answer.text
    assert [(a.endpoint, a.outcome) for a in answer.attempts] == [
        ("dead", "connection"), ("faulty", "rate-limited"), ("faulty", "answered")
    ]  # fmt: skip
    assert answer.summary().startswith("answered by faulty after dead connection (cannot connect")
    assert_no_token(answer)
    assert [s.fault for s in chain.faulty.seen] == ["429", "pass"] and chain.faulty.seen[1].chunks > 2
    assert chain.live.seen == []


@pytest.mark.parametrize("end_body", [False, True], ids=["connection-dropped", "body-ended"])
def test_a_stream_cut_mid_answer_keeps_the_text_and_asks_no_one_else(chain: Chain, end_body: bool) -> None:
    answer, pieces = chain.ask(Fault("truncate", events=3, end_body=end_body))  # the role, then two words
    assert answer.endpoint == "faulty" and not answer.complete
    assert len(pieces) == 2 and "".join(pieces) == answer.text
    assert [(a.endpoint, a.outcome) for a in answer.attempts] == [("dead", "connection"), ("faulty", "incomplete")]
    if end_body:
        assert answer.attempts[1].detail == "the stream ended early"
    assert answer.summary().startswith("answered by faulty, incomplete after dead connection (cannot connect")
    assert_no_token(answer)
    assert chain.live.seen == []  # the user has read part of an answer: it is not asked again elsewhere


def test_a_refused_token_stops_the_chain_before_the_live_server(chain: Chain) -> None:
    with pytest.raises(AuthRefused) as refused:
        chain.ask(Fault("401"))
    answer = refused.value.answer
    assert answer.endpoint is None and answer.text == ""
    assert [(a.endpoint, a.outcome, a.detail) for a in answer.attempts] == [
        ("dead", "connection", answer.attempts[0].detail), ("faulty", "auth", "HTTP 401 Unauthorized")
    ]  # fmt: skip
    assert str(refused.value) == "HTTP 401 Unauthorized"
    assert_no_token(answer)
    assert TOKEN not in str(refused.value)
    assert [(s.fault, s.authorized) for s in chain.faulty.seen] == [("401", True)]
    assert chain.live.seen == []  # the token refused was never sent on to the live server


def test_every_endpoint_failing_says_so(chain: Chain) -> None:
    chain.faulty.then(Fault("503"), Fault("503"))
    pieces: list[str] = []
    answer = chat(chain.endpoints(retries=1)[:2], [{"role": "user", "content": "hello"}], on_text=pieces.append,
                  stop=threading.Event())  # fmt: skip
    assert answer.endpoint is None and pieces == [] and answer.text == "" and not answer.complete
    assert [a.outcome for a in answer.attempts] == ["connection", "server-error", "server-error"]
    assert answer.failovers == 2
    assert answer.summary().startswith("no endpoint answered after dead connection (cannot connect")
    assert_no_token(answer)


def test_stop_ends_the_stream_and_keeps_the_text(chain: Chain) -> None:
    stop = threading.Event()
    pieces: list[str] = []

    def arrived(text: str) -> None:
        pieces.append(text)
        stop.set()

    answer = chat(chain.endpoints(), [{"role": "user", "content": "hello"}], on_text=arrived, stop=stop,
                  max_tokens=8)  # fmt: skip
    assert answer.endpoint == "faulty" and not answer.complete and answer.text == pieces[0]
    assert [a.outcome for a in answer.attempts] == ["connection", "stopped"]
    assert answer.summary().startswith("answered by faulty, incomplete after dead connection")
    assert chain.live.seen == []


# -- the Playground screen, chatting with the real server ---------------------------------------------------


async def test_the_playground_chats_with_endpoints_and_switches_between_them(
    served: tuple[str, str], tmp_path: Path
) -> None:
    from textual.widgets import TextArea

    from hftui.hub.plain_text import printable
    from hftui.infer.endpoints import EndpointBook
    from hftui.infer.generate import GenerationSettings
    from hftui.ui.dialogs.choice import ChoiceScreen
    from hftui.ui.playground.screen import PlaygroundScreen
    from tests.pilot import wait_until
    from tests.test_dataset_preview import make_app

    base_url, model = served
    book = EndpointBook()
    book.add(Endpoint("dead", "openai", model=model, base_url=dead_url(), timeout_s=2, retries=0))
    book.add(Endpoint("serve", "openai", model=model, base_url=base_url, timeout_s=60, retries=0))
    book.save()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        await pilot.press("e")  # the local model, each endpoint, then all of them as one chain
        assert isinstance(app.screen, ChoiceScreen) and len(app.screen.items) == 4
        await pilot.press("end", "enter")
        assert [endpoint.name for endpoint in screen.endpoints] == ["dead", "serve"]
        screen.settings = GenerationSettings(max_new_tokens=12)  # the served model's context is 64 tokens
        await pilot.press(*"hello there", "enter")
        # The app is offline (the Hub is not contacted), and a server the user named is still reached.
        await wait_until(pilot, lambda: len(screen.chat.messages) == 2, timeout=60)
        transcript = screen.query_one("#playground-transcript", TextArea).text
        answer = screen.chat.messages[1].content
        assert answer and printable(answer) in transcript
        assert "(answered by serve after dead connection" in transcript, transcript
        assert "failed over" in str(screen.query_one("#playground-stats").render())

        # Only the live server now: the chat goes on with its history.
        await pilot.press("escape", "e", "home", "down", "down", "enter")
        assert [endpoint.name for endpoint in screen.endpoints] == ["serve"]
        await pilot.press("i", *"and again", "enter")
        await wait_until(pilot, lambda: len(screen.chat.messages) == 4, timeout=60)
        assert "(answered by serve)" in screen.query_one("#playground-transcript", TextArea).text

        # Back to the local model (none open): chat is no longer sent anywhere.
        await pilot.press("escape", "e", "home", "enter")
        assert screen.endpoints == ()


async def test_the_playground_benchmarks_endpoints_side_by_side_and_exports(
    served: tuple[str, str], tmp_path: Path
) -> None:
    from textual.widgets import TextArea

    from hftui.infer.endpoints import EndpointBook
    from hftui.infer.generate import GenerationSettings
    from hftui.ui.analyzer.benchmark import BenchmarkSetupScreen
    from hftui.ui.dialogs.text_prompt import TextPromptScreen
    from hftui.ui.playground.screen import PlaygroundScreen
    from tests.pilot import wait_until
    from tests.test_dataset_preview import make_app

    base_url, model = served
    book = EndpointBook()
    book.add(Endpoint("dead", "openai", model=model, base_url=dead_url(), timeout_s=2, retries=0))
    book.add(Endpoint("serve", "openai", model=model, base_url=base_url, timeout_s=60, retries=0))
    book.save()
    report = tmp_path / "bench.json"
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        screen.settings = GenerationSettings(max_new_tokens=12)  # the served model's context is 64 tokens
        await pilot.press("b")  # each endpoint ticked, the chain of both not
        assert isinstance(app.screen, BenchmarkSetupScreen) and app.screen.ticked == {"@dead", "@serve"}
        await pilot.press("r")
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("home", "ctrl+k", *"say hi | name a colour", "enter")
        await wait_until(pilot, lambda: screen.bench_result is not None, timeout=120)
        result = screen.bench_result
        assert result is not None and result.state == "finished" and len(result.calls) == 3 * 2 * 2
        rows = {row.name: row for row in result.rows}
        assert rows["dead"].error_rate == 1.0 and rows["serve"].answered == 6
        table = screen.query_one("#playground-transcript", TextArea).text
        assert "serve" in table and "dead" in table and "tok/s" in table
        await pilot.press("escape", "x", "home", "ctrl+k", *str(report), "enter")
        await wait_until(pilot, report.exists)
        assert TOKEN not in report.read_text() and '"serve"' in report.read_text()


# -- a provider endpoint: the Hub's mapping from the local Hub, the router a local stand-in ------------------


def test_provider_endpoints_auto_then_the_one_the_mapping_names(
    served: tuple[str, str], proxies: tuple[FaultProxy, FaultProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The course's "provider=auto against an explicit provider", offline. `auto` (an HF token) sends the Hub id
    to the router, which picks a provider itself: the router is a recording proxy here, in front of a server
    that knows no such model, so it fails and the chain moves on. `together` with the provider's own key calls
    the provider directly, under the id the Hub's inferenceProviderMapping gives (from the local Hub); the
    provider's URL is its helper's own setting, pointed here at transformers serve."""
    from huggingface_hub.inference import _providers

    from hftui.localhub import LocalHub
    from tests.hubfixtures import point_hf_client_at

    base_url, model = served
    router = proxies[1]
    router.reset()
    hub = LocalHub()
    mapping = {"together": {"status": "live", "providerId": model, "task": "conversational"}}
    hub.add_model("acme/chat-model", files={"README.md": b"---\npipeline_tag: text-generation\n---\n"},
                  inference_provider_mapping=mapping)  # fmt: skip
    url = hub.start()
    try:
        point_hf_client_at(monkeypatch, url)
        monkeypatch.setattr(_providers.CONVERSATIONAL_AUTO_ROUTER, "base_url", router.base_url.removesuffix("/v1"))
        monkeypatch.setattr(_providers.PROVIDERS["together"]["conversational"], "base_url",
                            base_url.removesuffix("/v1"))  # fmt: skip
        monkeypatch.setenv(TOKEN_ENV, TOKEN)  # an hf_ token: auto goes through the router
        monkeypatch.setenv("HFTUI_TEST_PROVIDER_KEY", "provider-key-itself-17")
        chain = [
            Endpoint("auto", "provider", model="acme/chat-model", provider="auto", token_env=TOKEN_ENV, timeout_s=60,
                     retries=0),
            Endpoint("together", "provider", model="acme/chat-model", provider="together",
                     token_env="HFTUI_TEST_PROVIDER_KEY", timeout_s=60, retries=0),
        ]  # fmt: skip
        pieces: list[str] = []
        messages = [{"role": "user", "content": "hello"}]
        answer = chat(chain, messages, on_text=pieces.append, stop=threading.Event(), max_tokens=8)
        assert answer.endpoint == "together" and answer.complete, answer.summary()
        assert [a.endpoint for a in answer.attempts] == ["auto", "together"] and pieces
        assert [(seen.path, seen.authorized) for seen in router.seen] == [("/v1/chat/completions", True)]
        assert TOKEN not in answer.summary() and "provider-key-itself-17" not in answer.summary()
    finally:
        hub.stop()
