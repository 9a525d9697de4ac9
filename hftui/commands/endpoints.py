"""`hftui endpoints`: the saved inference endpoints, headless: list, add, test and remove them.

An endpoint is an OpenAI-compatible server (`--base-url`) or a model on the Hugging Face inference providers
(`--provider`). It is kept in `<hftui home>/endpoints.json` with where its token comes from, never the token:
there is no `--token` (a token typed on a command line stays in the shell's history and the process list).
`hftui infer @NAME` and `hftui chat @NAME` send to one (`--fallback NAME` adds the next in a chain); the
helpers they share (finding endpoints by name, keeping tokens out of what is printed, a Ctrl+C that stops
an answer but keeps it) live here.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from hftui.infer.endpoints import Endpoint, EndpointBook
    from hftui.infer.failover import ChainAnswer

T = TypeVar("T")
# What `endpoints test` asks: short, so a slow model answers quickly.
TEST_MESSAGE = "Say hello in a few words."
TEST_MAX_TOKENS = 16
# A value given to --token-env that is a token, not a variable's name: a Hugging Face token, or a long
# string mixing cases and digits as API keys do (variable names are usually upper case).
_LOOKS_LIKE_TOKEN = re.compile(r"(?i:hf_)\w{8,}|(?=.*[a-z])(?=.*[A-Z])(?=.*\d)\w{24,}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_QUERY = re.compile(r"(?i)(^|&)(api[_-]?key|key|token|access_token|password|secret)=")
NO_TOKEN_HELP = (
    "There is no --token: a token typed on a command line stays in the shell's history and in the process list. "
    "Put it in an environment variable and name the variable with --token-env VAR (it is read each time the "
    "endpoint is used, and never written to endpoints.json), or pass --hf-token to send the Hugging Face token "
    "hftui already uses (HF_TOKEN or `hf auth login`)."
)


class EndpointUsageError(ValueError):
    """An endpoint argument that cannot be used: an unknown name, a bad URL, a token where a name should be
    (exit 2, with the command's usage)."""


class EndpointFailed(Exception):
    """No endpoint gave an answer, or one refused its token (exit 1); the message says who failed and how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def add_endpoints_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `hftui endpoints` and its list, add, test and remove sub-commands."""
    parser.epilog = "Without a sub-command: list. " + NO_TOKEN_HELP
    what = parser.add_subparsers(dest="endpoints_command")
    listing = what.add_parser("list", help="the saved endpoints and any problem in endpoints.json")
    listing.add_argument("--json", action="store_true", help="print JSON lines instead of one line each")
    # No abbreviations: `--token hf_...` must never be read as `--token-env hf_...` and saved.
    add = what.add_parser(
        "add",
        allow_abbrev=False,
        help="save an OpenAI-compatible server (--base-url) or an inference-provider model (--provider)",
        epilog=NO_TOKEN_HELP,
    )
    add.add_argument("name", metavar="NAME", help="letters, digits, '.', '_' or '-' (up to 64)")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--base-url",
        metavar="URL",
        help="an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (transformers serve, vLLM, Ollama, TGI)",
    )
    where.add_argument("--provider", metavar="P", help="a Hugging Face inference provider, or auto (needs --model)")
    add.add_argument("--model", metavar="M", help="the Hub model id (providers) or the server's model name")
    token = add.add_mutually_exclusive_group()
    token.add_argument("--token-env", metavar="VAR", help="the environment variable that holds the token")
    token.add_argument("--hf-token", action="store_true", help="send the Hugging Face token hftui already uses")
    add.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds per attempt (default 60)")
    add.add_argument(
        "--retries", type=int, default=1, metavar="N", help="attempts after the first before the next (default 1)"
    )
    add.add_argument("--replace", action="store_true", help="replace a saved endpoint of the same name")
    # Caught to say why, never echoed and never saved.
    add.add_argument("--token", "--api-key", dest="token_value", nargs="?", const="", help=argparse.SUPPRESS)
    test = what.add_parser("test", help="send a one-line chat to endpoints and say who answered, how fast")
    test.add_argument("names", nargs="*", metavar="NAME", help="endpoints to test (default: every saved one)")
    test.add_argument("--json", action="store_true", help="print JSON lines instead of one line each")
    remove = what.add_parser("remove", help="forget a saved endpoint")
    remove.add_argument("name", metavar="NAME", help="the endpoint's name")
    for command_parser in what.choices.values():
        command_parser.set_defaults(command_parser=command_parser)


# --- endpoints by name, for this command and for infer and chat -------------------------------------------------


def endpoint_name(text: str) -> str:
    """A name as `--fallback` and `endpoints test` take it: `NAME` or `@NAME`."""
    return text.strip().removeprefix("@")


def find_endpoint(book: EndpointBook, name: str) -> Endpoint:
    """The saved endpoint `name` (with or without its @); EndpointUsageError lists the saved ones."""
    found = book.endpoints.get(endpoint_name(name))
    if found is None:
        saved = ", ".join(sorted(book.endpoints)) or "none yet"
        raise EndpointUsageError(
            f"no endpoint named {endpoint_name(name)!r} (saved: {saved}); add one with `hftui endpoints add`"
        )
    return found


def endpoint_chain(first: str, fallbacks: Sequence[str], *, book: EndpointBook | None = None) -> list[Endpoint]:
    """The endpoints `first` and each `--fallback`, in order, each once."""
    from hftui.infer.endpoints import EndpointBook

    if book is None:
        book = EndpointBook.load()
        for problem in book.problems:
            say("warning:", problem)
    chain: list[Endpoint] = []
    for name in (first, *fallbacks):
        endpoint = find_endpoint(book, name)
        if endpoint not in chain:
            chain.append(endpoint)
    return chain


class Redactor:
    """Keeps the tokens of some endpoints out of text: what a server echoes back is shown without them."""

    def __init__(self, chain: Sequence[Endpoint]) -> None:
        from hftui.infer.endpoints import endpoint_token

        tokens = {endpoint_token(endpoint) for endpoint in chain}
        # A very short value would blank out ordinary words; no real token is that short.
        self.tokens = sorted((t for t in tokens if t and len(t) >= 8), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for token in self.tokens:
            text = text.replace(token, "[token]")
        return text


def chain_summary(answer: ChainAnswer, redact: Callable[[str], str]) -> str:
    """Who answered and what failed before, in one line without tokens."""
    return redact(answer.summary())


def auth_refused_message(error: BaseException, chain: Sequence[Endpoint], redact: Callable[[str], str]) -> str:
    """The words for an endpoint that refused its token (failover.AuthRefused): who, and where the token came
    from, so the user knows what to fix."""
    answer = getattr(error, "answer", None)
    attempts = getattr(answer, "attempts", ()) or ()
    name = attempts[-1].endpoint if attempts else "the endpoint"
    endpoint = next((e for e in chain if e.name == name), None)
    source = ""
    if endpoint is not None:
        if endpoint.token_env:
            source = f"; check the token in ${endpoint.token_env}"
        elif endpoint.use_hf_token:
            source = "; check your Hugging Face token (HF_TOKEN or `hf auth login`)"
        else:
            source = "; it sends no token: add one with `hftui endpoints add --replace ... --token-env VAR`"
    return redact(f"{name} refused the token ({error}){source}. The chain stopped there, so no other endpoint got it.")


# --- Ctrl+C stops an answer and keeps it ------------------------------------------------------------------------


@dataclass
class Ran(Generic[T]):
    """What `run_stoppable` gives back: the work's result (None when it was abandoned) and whether Ctrl+C
    was pressed meanwhile."""

    result: T | None
    interrupted: bool


class Stoppable:
    """Runs one answer in a thread so Ctrl+C can stop it: the first Ctrl+C sets `stop` (the work ends after
    its current token or chunk and returns what it has); a second stops waiting and drops what comes after."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.abandoned = threading.Event()

    def shown(self, write: Callable[[str], None]) -> Callable[[str], None]:
        """`write`, silenced once the answer was abandoned (its thread may still be running)."""

        def guarded(text: str) -> None:
            if not self.abandoned.is_set():
                write(text)

        return guarded

    def run(self, work: Callable[[threading.Event], T], *, on_stop: Callable[[], None] | None = None) -> Ran[T]:
        """Run `work(stop)` until it returns; its exception is raised here."""
        box: dict[str, object] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["result"] = work(self.stop)
            except BaseException as error:  # handed to the caller's thread, which reports it
                box["error"] = error
            finally:
                done.set()

        threading.Thread(target=target, name="hftui-answer", daemon=True).start()
        interrupted = False
        # Waited on an Event, not Thread.join: a Ctrl+C inside join(timeout) marks a running thread as ended in
        # Python 3.11 (its bpo-45274 guard releases the lock the running thread holds).
        while not done.is_set():
            try:
                done.wait(0.05)
            except KeyboardInterrupt:
                if interrupted:
                    self.abandoned.set()
                    return Ran(None, True)
                interrupted = True
                self.stop.set()
                if on_stop is not None:
                    on_stop()
        error = box.get("error")
        if isinstance(error, BaseException):
            raise error
        return Ran(box.get("result"), interrupted)  # type: ignore[arg-type]


# --- what the user sees -----------------------------------------------------------------------------------------


def say(*parts: object) -> None:
    """One line on stderr, as plain text (names and server replies never reach the terminal raw)."""
    from hftui.hub.plain_text import printable

    print(printable(" ".join(str(part) for part in parts)), file=sys.stderr, flush=True)


def show(line: str) -> None:
    """One line of results on stdout, as plain text."""
    from hftui.hub.plain_text import printable

    print(printable(line))


# --- the command ------------------------------------------------------------------------------------------------


def run_endpoints(args: argparse.Namespace) -> int:
    """Run `hftui endpoints [list|add|test|remove]`."""
    action = getattr(args, "endpoints_command", None) or "list"
    if action == "add":
        return _add(args)
    if action == "remove":
        return _remove(args)
    if action == "test":
        return _test(args)
    return _list(getattr(args, "json", False))


def _list(as_json: bool) -> int:
    from dataclasses import asdict

    from hftui.infer.endpoints import EndpointBook, endpoints_file

    book = EndpointBook.load()
    for problem in book.problems:
        say("warning:", problem)
    for endpoint in book.endpoints.values():
        show(json.dumps(asdict(endpoint)) if as_json else endpoint.describe())
    if not book.endpoints:
        say(f"no endpoints saved in {endpoints_file()}; add one with `hftui endpoints add NAME --base-url URL`")
    return 0


def _writable_book() -> EndpointBook:
    """The saved endpoints, refusing (EndpointFailed) when rewriting the file would lose entries it holds
    that could not be read: the user fixes or moves it first."""
    from hftui.infer.endpoints import EndpointBook, endpoints_file

    path = endpoints_file()
    book = EndpointBook.load(path)
    if not path.exists():
        return book
    try:
        items = json.loads(path.read_text(encoding="utf-8")).get("endpoints")
        count = len(items) if isinstance(items, list) else -1
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        count = -1
    if count != len(book.endpoints):
        problems = "; ".join(book.problems) or "it holds entries that could not be read"
        raise EndpointFailed(f"{path} was not changed: {problems}. Fix or move the file first.")
    for problem in book.problems:  # a token left in the file: rewriting it drops the token, as it should
        say("warning:", problem, "(it is dropped from the file now)")
    return book


def _checked_base_url(url: str) -> str:
    from urllib.parse import urlparse

    parsed = urlparse(url.strip())
    if parsed.password or (parsed.username and parsed.scheme in ("http", "https")):
        raise EndpointUsageError(f"--base-url: put no credentials in the URL. {NO_TOKEN_HELP}")
    if _SECRET_QUERY.search(parsed.query):
        raise EndpointUsageError(f"--base-url: the URL's query holds a key or token. {NO_TOKEN_HELP}")
    return url.strip()


def _checked_token_env(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip().removeprefix("$")
    # The value is never echoed: it may be the token itself.
    if _LOOKS_LIKE_TOKEN.fullmatch(name):
        raise EndpointUsageError(
            "--token-env takes the NAME of an environment variable (such as MY_SERVER_TOKEN), and this looks "
            "like a token itself; it was not saved. " + NO_TOKEN_HELP
        )
    if not _ENV_NAME.fullmatch(name):
        raise EndpointUsageError(
            "--token-env takes the name of an environment variable: letters, digits and '_', not starting with "
            "a digit; it was not saved."
        )
    return name


def _add(args: argparse.Namespace) -> int:
    import os
    from dataclasses import replace

    from hftui.infer.endpoints import Endpoint, endpoints_file

    if args.token_value is not None:
        raise EndpointUsageError(NO_TOKEN_HELP)
    token_env = _checked_token_env(args.token_env)
    if args.base_url is not None:
        endpoint = Endpoint(args.name.strip(), "openai", model=args.model, base_url=_checked_base_url(args.base_url))
    else:
        endpoint = Endpoint(args.name.strip(), "provider", model=args.model, provider=args.provider.strip())
    endpoint = replace(endpoint, token_env=token_env, use_hf_token=args.hf_token, timeout_s=args.timeout,
                       retries=args.retries)  # fmt: skip
    try:
        endpoint.checked()
    except ValueError as error:
        raise EndpointUsageError(str(error)) from None
    book = _writable_book()
    existing = book.endpoints.get(endpoint.name)
    if existing is not None and not args.replace:
        raise EndpointUsageError(
            f"an endpoint named {endpoint.name!r} is saved already ({existing.describe()}); pass --replace to change it"
        )
    book.add(endpoint)
    book.save()
    show(("replaced " if existing else "added ") + endpoint.describe())
    say(f"saved in {endpoints_file()}")
    if token_env and not os.environ.get(token_env):
        say(f"warning: ${token_env} is not set now; set it before using {endpoint.name}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    book = _writable_book()
    endpoint = find_endpoint(book, args.name)
    book.remove(endpoint.name)
    book.save()
    show(f"removed {endpoint.describe()}")
    return 0


def _test(args: argparse.Namespace) -> int:
    from hftui.infer.endpoints import EndpointBook

    book = EndpointBook.load()
    for problem in book.problems:
        say("warning:", problem)
    endpoints = [find_endpoint(book, name) for name in args.names] or list(book.endpoints.values())
    if not endpoints:
        raise EndpointUsageError("no endpoints saved to test; add one with `hftui endpoints add`")
    failed = 0
    for endpoint in endpoints:
        ok, line, record = test_endpoint(endpoint)
        failed += not ok
        if args.json:
            show(json.dumps(record))
        elif ok:
            show(line)
        else:
            say("error:", line)
    return 1 if failed else 0


def test_endpoint(endpoint: Endpoint) -> tuple[bool, str, dict[str, object]]:
    """Send `endpoint` a one-line chat: (whether it answered, a line saying who and how fast, the facts)."""
    from hftui.hub.plain_text import printable
    from hftui.infer.failover import AuthRefused, chat

    redact = Redactor([endpoint])
    record: dict[str, object] = {"endpoint": endpoint.name, "answered": False}
    messages = [{"role": "user", "content": TEST_MESSAGE}]
    runner = Stoppable()
    try:
        done = runner.run(lambda stop: chat([endpoint], messages, on_text=_ignore, stop=stop,
                                            max_tokens=TEST_MAX_TOKENS))  # fmt: skip
    except AuthRefused as error:
        message = auth_refused_message(error, [endpoint], redact)
        return False, message, {**record, "error": message}
    answer = done.result
    if done.interrupted or answer is None:
        raise KeyboardInterrupt
    if answer.endpoint is None:
        why = "; ".join(f"{a.outcome} ({a.detail})" for a in answer.attempts) or "no attempt"
        message = redact(f"{endpoint.name}: no answer in {answer.total_s:.2f} s: {why}")
        return False, message, {**record, "error": message, "total_s": answer.total_s}
    said = " ".join(printable(redact(answer.text)).split())
    said = said if len(said) <= 60 else said[:59] + "…"
    first = f", first token {answer.first_token_s:.2f} s" if answer.first_token_s is not None else ""
    state = "" if answer.complete else " (incomplete: the stream ended early)"
    line = f"{endpoint.name}: answered in {answer.total_s:.2f} s{first}{state}: {said!r}"
    record.update(answered=True, complete=answer.complete, text=redact(answer.text), total_s=answer.total_s,
                  first_token_s=answer.first_token_s)  # fmt: skip
    return True, line, record


def _ignore(text: str) -> None:
    """`endpoints test` shows the answer once it is whole."""
