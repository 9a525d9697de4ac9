"""`hftui infer`, `hftui chat` and `hftui endpoints` as a user meets them, through `hftui.cli.main`: tiny
random-weight models built here, the real `transformers serve` (one per module, from test_infer_serve), a dead
port, and a stand-in server that answers HTML or cuts its stream; tokens never appear in anything printed or
saved, and model output (markup, terminal escapes) is printed as plain text."""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hftui.cli import main
from hftui.demo.tiny_models import SENTIMENT_LABELS, build_tiny_model
from hftui.hub.plain_text import printable
from tests.test_infer_generate import CORPUS, TEMPLATE, silent_tokens, tiny_gpt2
from tests.test_infer_playground import WORDS, tiny_bert
from tests.test_infer_serve import free_port, served  # noqa: F401  (one real server for this module)

TOKEN_ENV = "HFTUI_TEST_CLI_TOKEN"
TOKEN = "hf_clitesttokenthatmustneverprint42"
HOSTILE = "[red]x[/red] \x1b[31mred\x1b[0m [bold]b"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def said(self) -> str:
        """stderr on one line (messages wrap as argparse likes)."""
        return " ".join(self.err.split())


@pytest.fixture
def hftui(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """`hftui ARGS` in this process, with `stdin` piped in: the exit status, stdout and stderr."""

    def run(*args: str, stdin: str = "") -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exited:  # argparse's usage errors
            code = int(exited.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@dataclass(frozen=True)
class Models:
    mlm: Path
    ner: Path
    nli: Path
    sentiment: Path
    chat: Path
    code: Path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    root = tmp_path_factory.mktemp("models")
    tags = {0: "O", 1: "B-PER", 2: "I-PER"}
    nli = {0: "entailment", 1: "neutral", 2: "contradiction"}
    code = tiny_bert(root / "code", "BertForMaskedLM")
    config = json.loads((code / "config.json").read_text())
    (code / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "x.Y"}}))
    return Models(
        mlm=tiny_bert(root / "mlm", "BertForMaskedLM"),
        ner=tiny_bert(root / "ner", "BertForTokenClassification", id2label=tags,
                      label2id={v: k for k, v in tags.items()}),
        nli=tiny_bert(root / "nli", "BertForSequenceClassification", id2label=nli,
                      label2id={v: k for k, v in nli.items()}),
        sentiment=build_tiny_model("text-classification", root / "sentiment"),
        chat=talkative(tiny_gpt2(root / "chat", chat_template=TEMPLATE)),
        code=code,
    )  # fmt: skip


def talkative(folder: Path) -> Path:
    """Random weights may end an answer at once or say only what shows nothing: these tests want words."""
    from transformers import AutoTokenizer, GenerationConfig

    generation = GenerationConfig.from_pretrained(folder)
    generation.eos_token_id = None
    generation.suppress_tokens = silent_tokens(AutoTokenizer.from_pretrained(folder))
    generation.save_pretrained(folder)
    return folder


# --- infer on models on disk -------------------------------------------------------------------------------------


def test_text_tasks_answer_as_plain_lines(hftui: Any, models: Models) -> None:
    filled = hftui("infer", models.mlm, "--text", "sarah plays [MASK] in paris.", "--top-k", "3")
    assert filled.code == 0, filled.err
    lines = filled.out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("sarah plays") and lines[0].endswith("in paris.")
    assert all(line.split()[1] in [*WORDS, ".", ","] for line in lines[1:])
    assert "fill-mask" in filled.said and "cpu (float32)" in filled.said and "loaded in" in filled.said

    tagged = hftui("infer", models.ner, "--text", "sarah plays guitar.")
    assert tagged.code == 0, tagged.err
    first = tagged.out.splitlines()[0]
    assert first.replace("[PER ", "").replace("]", "") == "sarah plays guitar."

    sentiment = hftui("infer", models.sentiment, "--text", "what a day", "--text", "not good", "--top-k", "2")
    assert sentiment.code == 0, sentiment.err
    labels = [line.split()[1] for line in sentiment.out.splitlines()]
    assert sorted(labels) == sorted(SENTIMENT_LABELS * 2)  # two answers, both labels each
    assert sentiment.said.count("answered in") == 2

    similar = hftui("infer", models.mlm, "--task", "similarity", "--text", "a man plays", "--text", "the market fell")
    assert similar.code == 0, similar.err
    assert similar.out.splitlines()[0] == "cosine similarity:" and similar.out.splitlines()[2].endswith("market fell")


def test_json_is_one_object_per_answer(hftui: Any, models: Models, tmp_path: Path) -> None:
    text = tmp_path / "in.txt"
    text.write_text("the market fell today.\n")
    ranked = hftui("infer", models.nli, "--task", "zero-shot", "--file", text, "--labels", "music,market", "--json")
    assert ranked.code == 0, ranked.err
    answer = json.loads(ranked.out)
    assert answer["task"] == "zero-shot-classification" and answer["device"] == "cpu" and answer["load_s"] > 0
    assert sorted(label for label, _ in answer["scores"]) == ["market", "music"]
    features = hftui("infer", models.nli, "--task", "embeddings", "--text", "a", "--text", "b", "--json")
    assert [len(json.loads(line)["features"]) for line in features.out.splitlines()] == [16, 16]


def test_generation_streams_and_says_how_fast(hftui: Any, models: Models, monkeypatch: pytest.MonkeyPatch) -> None:
    import hftui.commands.infer as infer_command

    pieces: list[str] = []
    write = infer_command.write_out
    monkeypatch.setattr(infer_command, "write_out", lambda text: (pieces.append(text), write(text)))
    streamed = hftui("infer", models.chat, "--text", "hello there", "--stream", "--max-new-tokens", "8",
                     "--temperature", "0")  # fmt: skip
    assert streamed.code == 0, streamed.err
    assert len(pieces) >= 2 and streamed.out == printable("".join(pieces)) + "\n"  # random bytes shown escaped
    assert "8 tokens in" in streamed.said and "tokens/s" in streamed.said and "cpu" in streamed.said
    whole = hftui("infer", models.chat, "--text", "hello there", "--max-new-tokens", "8", "--temperature", "0",
                  "--json")  # fmt: skip
    record = json.loads(whole.out)
    assert record["text"] == "".join(pieces) and record["new_tokens"] == 8 and record["tokens_per_s"] > 0
    assert record["used_chat_template"] and not record["stopped"]


def test_a_prompt_longer_than_the_context_is_cut_and_said(hftui: Any, models: Models) -> None:
    long = hftui("infer", models.chat, "--text", " ".join(CORPUS * 3), "--max-new-tokens", "8")
    assert long.code == 0, long.err
    assert "the prompt was longer than the model's context: its oldest" in long.said and "(56 kept)" in long.said


def test_arguments_a_model_cannot_take_exit_2_naming_what_works(hftui: Any, models: Models) -> None:
    wrong = hftui("infer", models.mlm, "--task", "text-generation", "--text", "hi")
    assert wrong.code == 2 and "usage: hftui infer" in wrong.err
    assert f"{models.mlm} does not do text-generation; it does fill-mask, sentence-similarity, feature-extraction" in (
        wrong.said
    )
    assert (
        "unknown task 'poetry'; choose from text-generation, fill-mask"
        in hftui("infer", models.mlm, "--task", "poetry", "--text", "hi").said
    )
    empty = hftui("infer", models.mlm, "--text", "   ")
    assert empty.code == 2 and "the prompt is empty" in empty.said
    assert "nothing to answer" in hftui("infer", models.chat).said
    assert "exactly one [MASK]" in hftui("infer", models.mlm, "--text", "no mask").said
    assert "Temperature must be between" in hftui("infer", models.chat, "--text", "hi", "--temperature", "9").said
    assert "needs candidate labels" in hftui("infer", models.nli, "--task", "zero-shot", "--text", "x").said
    assert "choose one" in hftui("infer", models.chat, "--text", "hi", "--stream", "--json").said
    chat = hftui("chat", models.mlm)
    assert chat.code == 2 and "does not do text-generation" in chat.said


def test_missing_models_and_remote_code(hftui: Any, models: Models, tmp_path: Path) -> None:
    missing = hftui("infer", tmp_path / "nowhere", "--text", "hi")
    assert missing.code == 1 and "is neither a folder nor a model in the HF cache" in missing.said
    assert "Traceback" not in missing.err
    refused = hftui("infer", models.code, "--text", "a [MASK] .")
    assert refused.code == 1 and "needs trust_remote_code" in refused.said
    assert "Pass --trust-remote-code to allow it for this model." in refused.said
    allowed = hftui("infer", models.code, "--text", "a [MASK] .", "--trust-remote-code")
    assert allowed.code == 0 and "as you allowed" in allowed.said


def test_model_output_is_printed_as_plain_text(
    hftui: Any, models: Models, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import hftui.infer.playground as playground
    from hftui.infer.generate import Generated

    def hostile_answer(loaded: Any, request: Any) -> Any:
        return playground.Answer(loaded.task, loaded.opened.model, text=HOSTILE, scores=((HOSTILE, 0.5),))

    def hostile_reply(loaded: Any, chat: Any, settings: Any, *, on_text: Any, stop: Any) -> Generated:
        on_text(HOSTILE)
        return Generated(HOSTILE, 3, 1, 0.01, 0.02, False, 0, True, "cpu")

    monkeypatch.setattr(playground, "answer", hostile_answer)
    monkeypatch.setattr(playground, "reply", hostile_reply)
    runs = [
        hftui("infer", models.mlm, "--text", "a [MASK] ."),
        hftui("infer", models.chat, "--text", "hi", "--stream"),
        hftui("infer", models.chat, "--text", "hi"),
        hftui("chat", models.chat, stdin="hi\n"),
    ]
    for run in runs:
        assert run.code == 0, run.err
        assert "\x1b" not in run.out + run.err
        assert "[red]x[/red] \\x1b[31mred\\x1b[0m [bold]b" in run.out
    as_json = hftui("infer", models.mlm, "--text", "a [MASK] .", "--json")
    assert "\x1b" not in as_json.out and json.loads(as_json.out)["text"] == HOSTILE


# --- chat on a model on disk ------------------------------------------------------------------------------------


def test_chat_with_piped_stdin_and_its_commands(hftui: Any, models: Models, tmp_path: Path) -> None:
    saved = tmp_path / "chat.json"
    script = f"hi\n\n/system be brief\n/save {saved}\n/clear\nhello again\n/load {saved}\n/nope\n/help\n/quit\nnever\n"
    chat = hftui("chat", models.chat, "--max-new-tokens", "4", "--temperature", "0", stdin=script)
    assert chat.code == 0, chat.err
    assert len(chat.out.splitlines()) == 2  # two answers; the line after /quit is never sent
    messages = json.loads(saved.read_text())["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant"] and messages[1]["content"] == "hi"
    assert printable(messages[2]["content"]) == chat.out.splitlines()[0]
    for said in ("system message set", "saved 3 messages", "the conversation is cleared (the system message stays)",
                 "loaded 3 messages", "unknown command /nope", "/save FILE", "4 tokens in"):  # fmt: skip
        assert said in chat.said, said
    # The end of input ends the chat as /quit does.
    assert hftui("chat", models.chat, "--max-new-tokens", "2", stdin="hi\n").code == 0


# --- endpoints --------------------------------------------------------------------------------------------------


def test_endpoints_add_list_remove_keep_no_token(hftui: Any, hftui_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    empty = hftui("endpoints")
    assert empty.code == 0 and empty.out == "" and "no endpoints saved" in empty.said
    added = hftui("endpoints", "add", "local", "--base-url", "http://127.0.0.1:8000/v1", "--model", "tiny",
                  "--token-env", TOKEN_ENV, "--timeout", "5", "--retries", "0")  # fmt: skip
    assert added.code == 0, added.err
    described = f"local: http://127.0.0.1:8000/v1 (tiny) · token from ${TOKEN_ENV} · timeout 5 s · 0 retries"
    assert added.out == f"added {described}\n"
    provider = hftui("endpoints", "add", "hub", "--provider", "auto", "--model", "org/chat", "--hf-token")
    assert provider.code == 0, provider.err
    listed = hftui("endpoints", "list")
    assert [line.split(":")[0] for line in listed.out.splitlines()] == ["local", "hub"]
    assert "org/chat via auto · HF token" in listed.out
    assert json.loads(hftui("endpoints", "list", "--json").out.splitlines()[1])["kind"] == "provider"
    again = hftui("endpoints", "add", "local", "--base-url", "http://127.0.0.1:9/v1")
    assert again.code == 2 and "pass --replace" in again.said

    # A token where a name should be, or on the command line, is refused and never echoed or saved.
    for bad in (["--token", TOKEN], [f"--token={TOKEN}"], ["--api-key", TOKEN], ["--token-env", TOKEN]):
        refused = hftui("endpoints", "add", "leak", "--base-url", "http://127.0.0.1:9/v1", *bad)
        assert refused.code == 2 and "environment variable" in refused.said, bad
        assert TOKEN not in refused.out + refused.err
    credentials = hftui("endpoints", "add", "leak", "--base-url", f"http://me:{TOKEN}@127.0.0.1:9/v1")
    assert credentials.code == 2 and TOKEN not in credentials.err and "no credentials in the URL" in credentials.said
    book = (hftui_home / "endpoints.json").read_text()
    assert TOKEN not in book and "leak" not in book and TOKEN_ENV in book

    removed = hftui("endpoints", "remove", "@local")
    assert removed.code == 0 and removed.out.startswith("removed local:")
    gone = hftui("endpoints", "remove", "local")
    assert gone.code == 2 and "no endpoint named 'local' (saved: hub)" in gone.said
    assert [e["name"] for e in json.loads((hftui_home / "endpoints.json").read_text())["endpoints"]] == ["hub"]


def test_a_damaged_endpoints_file_is_never_overwritten(hftui: Any, hftui_home: Path) -> None:
    hftui_home.mkdir(parents=True, exist_ok=True)
    book = hftui_home / "endpoints.json"
    book.write_text(json.dumps({"endpoints": [{"name": "ok", "kind": "openai", "base_url": "http://h/v1"},
                                              {"name": "bad", "kind": "telepathy"}]}))  # fmt: skip
    listed = hftui("endpoints", "list")
    assert listed.code == 0 and listed.out.startswith("ok:") and "endpoint 2: endpoint bad: kind must be" in listed.said
    refused = hftui("endpoints", "add", "new", "--base-url", "http://127.0.0.1:9/v1")
    assert refused.code == 1 and "was not changed" in refused.said and "Fix or move the file first" in refused.said
    assert "telepathy" in book.read_text()
    # A token left in the file by hand is dropped when the file is next written.
    book.write_text(json.dumps({"endpoints": [{"name": "ok", "kind": "openai", "base_url": "http://h/v1",
                                               "token": TOKEN}]}))  # fmt: skip
    assert hftui("endpoints", "add", "new", "--base-url", "http://127.0.0.1:9/v1").code == 0
    assert TOKEN not in book.read_text() and "new" in book.read_text()


class StandIn(BaseHTTPRequestHandler):
    """A server that is not quite OpenAI-compatible: /html/ answers a web page (echoing the token it was sent),
    /cut/ streams one piece of an answer and hangs up; /classify/ and /embed/ answer as a Hugging Face
    inference server does (labels with scores, token vectors)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        answers: dict[str, tuple[str, object]] = {
            "/html/": ("text/html", f"<html><body>[red]Bad gateway[/red] {self.headers.get('authorization')}"),
            "/classify/": ("application/json", [[{"label": "POSITIVE", "score": 0.9}, {"label": "NEG", "score": 0.1}]]),
            "/embed/": ("application/json", [[[3.0, 0.0], [3.0, 8.0]]]),  # two tokens' vectors
        }
        for prefix, (kind, content) in answers.items():
            if self.path.startswith(prefix):
                body = (content if isinstance(content, str) else json.dumps(content)).encode()
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        chunk = {"id": "1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "half an ans"}}]}  # fmt: skip
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_html_and_cut_streams_from_a_server(hftui: Any, stand_in: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    for name in ("html", "cut", "classify", "embed"):
        added = hftui("endpoints", "add", name, "--base-url", f"{stand_in}/{name}/v1", "--model", "m",
                      "--token-env", TOKEN_ENV, "--retries", "0", "--timeout", "5")  # fmt: skip
        assert added.code == 0, added.err
    html = hftui("infer", "@html", "--text", "hi")
    assert html.code == 1 and "no endpoint answered: html bad-response" in html.said
    classified = hftui("infer", "@html", "--task", "text-classification", "--text", "hi")
    assert classified.code == 1 and "no endpoint answered text-classification: html bad-response" in classified.said
    cut = hftui("infer", "@cut", "--text", "hi", "--stream")
    assert cut.code == 1 and cut.out == "half an ans\n"
    assert "incomplete: the stream stopped before the answer's end; what arrived is kept" in cut.said
    chat = hftui("chat", "@cut", stdin="hi\n")
    assert chat.code == 0 and chat.out == "half an ans\n" and "incomplete" in chat.said
    tested = hftui("endpoints", "test", "html", "cut")
    assert tested.code == 1 and "html: no answer" in tested.said and "(incomplete" in tested.out
    for run in (html, classified, cut, chat, tested):
        assert TOKEN not in run.out + run.err and "Traceback" not in run.err
    # The InferenceClient's own calls, where a server offers them; the chain moves past one that does not.
    labels = hftui("infer", "@html", "--fallback", "classify", "--task", "sentiment-analysis", "--text", "hi")
    assert labels.code == 0, labels.err
    assert [line.split() for line in labels.out.splitlines()] == [["0.900", "POSITIVE"], ["0.100", "NEG"]]
    assert "answered by classify" in labels.said
    features = json.loads(hftui("infer", "@embed", "--task", "feature-extraction", "--text", "hi", "--json").out)
    assert features["features"] == pytest.approx([0.6, 0.8]) and features["endpoint"] == "embed"  # mean, unit


@pytest.fixture
def server(served: tuple[str, str], hftui: Any, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The real `transformers serve` saved as endpoint `serve` (sending a token it ignores), behind `dead`."""
    base_url, model = served
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    for name, url in (("serve", base_url), ("dead", f"http://127.0.0.1:{free_port()}/v1")):
        added = hftui("endpoints", "add", name, "--base-url", url, "--model", model, "--token-env", TOKEN_ENV,
                      "--retries", "0", "--timeout", "60" if name == "serve" else "2")  # fmt: skip
        assert added.code == 0, added.err
    return model


def test_endpoints_test_the_real_server_and_a_dead_port(hftui: Any, server: str) -> None:
    live = hftui("endpoints", "test", "serve")
    assert live.code == 0, live.err
    assert live.out.startswith("serve: answered in ") and "first token" in live.out
    dead = hftui("endpoints", "test", "@dead")
    assert dead.code == 1 and dead.out == ""
    assert "error: dead: no answer in" in dead.said and "connection (cannot connect" in dead.said
    both = hftui("endpoints", "test", "--json")
    assert [json.loads(line)["answered"] for line in both.out.splitlines()] == [True, False] and both.code == 1
    for run in (live, dead, both):
        assert TOKEN not in run.out + run.err


def test_infer_and_chat_through_the_real_server(hftui: Any, server: str) -> None:
    streamed = hftui("infer", "@dead", "--fallback", "serve", "--text", "hello there", "--stream",
                     "--max-new-tokens", "8")  # fmt: skip
    assert streamed.code == 0, streamed.err
    assert streamed.out.strip() and "answered by serve after dead connection" in streamed.said
    assert "tokens/s" in streamed.said
    record = json.loads(hftui("infer", "@serve", "--text", "hi", "--max-new-tokens", "4", "--json").out)
    assert record["endpoint"] == "serve" and record["complete"] and record["text"]
    chat = hftui(
        "chat", "@dead", "--fallback", "@serve", "--max-new-tokens", "6", stdin="hello\n/clear\nagain\n/quit\n"
    )
    assert chat.code == 0, chat.err
    assert len([line for line in chat.out.splitlines() if line]) == 2 and chat.said.count("answered by serve") == 2
    assert "chat with @dead, then @serve" in chat.said
    none = hftui("chat", "@dead", stdin="hello\n")
    assert none.code == 1 and "error: no endpoint answered: dead connection" in none.said
    for run in (streamed, chat, none):
        assert TOKEN not in run.out + run.err
