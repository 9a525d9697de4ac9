"""Chat through hftui's failover chain with the real OpenAI-compatible server `transformers serve`, serving a
tiny random-weight GPT-2 with a chat template on 127.0.0.1, offline; a dead endpoint first in the chain."""

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
from pathlib import Path

import pytest

from hftui.infer.endpoints import Endpoint
from hftui.infer.failover import chat
from tests.test_infer_generate import TEMPLATE, silent_tokens, tiny_gpt2


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


def test_chat_streams_from_the_real_server_after_a_dead_endpoint(served: tuple[str, str]) -> None:
    base_url, model = served
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
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
