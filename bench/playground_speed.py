"""The Playground's streaming against the libraries alone, in one run: time to first token and tokens/s.

1. A local causal LM: `model.generate` called directly (greedy, a bare streamer that only notes times) against
   the same model and prompt through `infer.playground.reply` (hftui's streamer, stop criterion, chat
   template); then, inside the app (headless `App.run_test`), the Playground screen's answers (the prompt
   submitted, the answer streamed into the transcript) against `model.generate` called in a thread on the
   screen's own loaded model, alternating, with a 10 ms timer measuring the event loop's lateness while
   tokens stream. (Run to run on a shared VM, tokens/s moves by a third; only same-phase pairs compare.)
2. An OpenAI-compatible server (`transformers serve` on 127.0.0.1, the tiny demo chat model): a plain
   `InferenceClient.chat_completion(stream=True)` loop against `infer.failover.chat` through one endpoint.

Each pair alternates order over --rounds rounds; the figures are medians. The local model is a random GPT-2
of --width/--layers (default 256 x 4, a few ms a token on a CPU) with the demo chat model's tokenizer, so the
per-token cost is a model's, not Python's. Prints figures; asserts nothing.

    .venv/bin/python bench/playground_speed.py [--rounds 9] [--tokens 120] [--skip-server]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.analyzer_lag import LagProbe, percentile  # noqa: E402

PROMPT = "tell me about the cat and the dog in the green room"


def build_models(root: Path, width: int, layers: int) -> tuple[Path, Path]:
    """(the demo chat model, a wider random GPT-2 with its tokenizer, chat template and silent tokens)."""
    from transformers import AutoTokenizer, GenerationConfig, GPT2Config, GPT2LMHeadModel

    from hftui.demo.tiny_models import build_tiny_model

    tiny = build_tiny_model("text-generation", root / "tiny-chat")
    wide = root / "wide-chat"
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=width, n_layer=layers,
                        n_head=max(1, width // 64), bos_token_id=tokenizer.eos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(wide)
    tokenizer.save_pretrained(wide)
    GenerationConfig.from_pretrained(tiny).save_pretrained(wide)  # the same silent tokens suppressed
    return tiny, wide


def direct_generate(model: Any, tokenizer: Any, tokens: int) -> tuple[float, float]:
    """(first token s, tokens/s) of `model.generate` with a streamer that only notes when tokens come."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    messages = [{"role": "user", "content": PROMPT}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    times: list[float] = []

    class Timer(BaseStreamer):
        def __init__(self) -> None:
            self.prompt = True

        def put(self, value: Any) -> None:
            if self.prompt:
                self.prompt = False
                return
            times.append(time.perf_counter())

        def end(self) -> None:
            pass

    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(ids["input_ids"], attention_mask=ids["attention_mask"], max_new_tokens=tokens,
                       min_new_tokens=tokens, do_sample=False, streamer=Timer(),
                       pad_token_id=tokenizer.pad_token_id)  # fmt: skip
    return times[0] - started, (len(times) - 1) / (times[-1] - times[0])


def playground_reply(loaded: Any, tokens: int) -> tuple[float, float]:
    from hftui.infer.generate import Chat, GenerationSettings
    from hftui.infer.playground import reply

    chat = Chat()
    chat.add("user", PROMPT)
    settings = GenerationSettings(max_new_tokens=tokens, temperature=0)
    made = reply(loaded, chat, settings, on_text=lambda _text: None, stop=threading.Event())
    assert made.new_tokens == tokens, made
    return made.first_token_s or 0.0, made.tokens_per_s


async def in_app(
    folder: Path, tokens: int, rounds: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], list[float], list[float]]:
    """Answers typed into the Playground screen, alternating with `model.generate` called directly in a thread
    on the same loaded model while the app idles: (screen's first token s, tokens/s) each, the direct calls'
    the same, the loop's lateness while the screen's answers streamed, and its lateness idle (the baseline)."""
    from hftui.app import HfTuiApp
    from hftui.hub.settings import HubSettings, read_token_status
    from hftui.infer.generate import GenerationSettings
    from hftui.ui.playground.messages import PlaygroundReplied

    home = Path(tempfile.mkdtemp(prefix="hftui-bench-"))
    seen: list[Any] = []
    app = HfTuiApp(HubSettings("http://127.0.0.1:9", home, home / "hub", True, read_token_status()))
    probe = LagProbe()
    results: list[tuple[float, float]] = []
    direct: list[tuple[float, float]] = []
    streaming: list[float] = []
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("i")
        await pilot.pause()
        screen: Any = app.screen
        screen.open(str(folder))
        while screen.loaded is None:
            await asyncio.sleep(0.05)
        model, tokenizer = screen.loaded.pipe.model, screen.loaded.pipe.tokenizer
        screen.settings = GenerationSettings(max_new_tokens=tokens, temperature=0)
        probe.start(app)
        await asyncio.sleep(1.0)
        idle = probe.take()

        async def typed() -> None:
            screen.action_new_chat()
            screen.query_one("#playground-prompt").value = PROMPT
            probe.take()
            await screen.query_one("#playground-prompt").action_submit()
            while not screen.answering:
                await asyncio.sleep(0.001)
            while screen.answering:
                await asyncio.sleep(0.005)
            streaming.extend(probe.take())
            made = next(m for m in reversed(seen) if isinstance(m, PlaygroundReplied)).generated
            assert made.new_tokens == tokens, made
            results.append((made.first_token_s or 0.0, made.tokens_per_s))

        async def called() -> None:
            direct.append(await asyncio.to_thread(direct_generate, model, tokenizer, tokens))

        await called()  # warm-up
        direct.clear()
        for round_index in range(rounds):
            for run in (typed, called) if round_index % 2 == 0 else (called, typed):
                await run()
    shutil.rmtree(home, ignore_errors=True)
    return results, direct, streaming, idle


def local_figures(folder: Path, tokens: int, rounds: int) -> None:
    from hftui.analyze.pipelines import PipelineCache
    from hftui.infer.playground import load, open_model

    loaded = load(open_model(str(folder)), "text-generation", PipelineCache(), device="cpu")
    model, tokenizer = loaded.pipe.model, loaded.pipe.tokenizer
    model.generation_config.eos_token_id = None  # both sides write exactly `tokens` tokens
    direct_generate(model, tokenizer, 8)  # warm-up
    direct, ours = [], []
    for round_index in range(rounds):
        pair = [lambda: direct.append(direct_generate(model, tokenizer, tokens)),
                lambda: ours.append(playground_reply(loaded, tokens))]  # fmt: skip
        for run in pair if round_index % 2 == 0 else reversed(pair):
            run()
    screen, direct_in_app, streaming, idle = asyncio.run(in_app(folder, tokens, rounds))
    from hftui.hub.connectivity import set_offline_mode

    set_offline_mode(False)  # the app opened offline, process-wide; the plain client below must reach its server

    def med(values: list[tuple[float, float]], index: int) -> float:
        return statistics.median(value[index] for value in values)

    print(f"local model {folder.name}: {model.num_parameters():,} parameters, {tokens} new tokens, {rounds} rounds")
    pairs = (("no app", "playground.reply", direct, ours),
             ("in the app", "Playground screen", direct_in_app, screen))  # fmt: skip
    for where, name, baseline, values in pairs:
        print(f"  {where}: model.generate directly  first token {med(baseline, 0) * 1000:6.1f} ms"
              f"  {med(baseline, 1):7.1f} tokens/s")  # fmt: skip
        print(f"  {where}: {name:<21} first token {med(values, 0) * 1000:6.1f} ms  {med(values, 1):7.1f} tokens/s"
              f"  x{med(values, 1) / med(baseline, 1):.2f} (goal >= 0.95), first token"
              f" x{med(baseline, 0) / med(values, 0):.2f}")  # fmt: skip
    ms = [lag * 1000 for lag in streaming]
    print(f"  event loop while streaming  p50 {percentile(ms, 0.5):5.1f} ms  p99 {percentile(ms, 0.99):5.1f} ms"
          f"  max {max(ms, default=0):5.1f} ms  ({len(ms)} ticks; goal p99 <= 50)")  # fmt: skip
    idle_ms = [lag * 1000 for lag in idle]
    idle_p50, idle_p99 = percentile(idle_ms, 0.5), percentile(idle_ms, 0.99)
    print(f"  event loop idle (baseline)  p50 {idle_p50:5.1f} ms  p99 {idle_p99:5.1f} ms")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    cli = shutil.which("transformers", path=str(Path(sys.executable).parent)) or shutil.which("transformers")
    if cli is None:
        raise SystemExit("transformers serve is not installed (the dev extra installs transformers[serving])")
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", "--log-level", "warning"]
    server = subprocess.Popen([*command, str(folder)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return server, f"http://127.0.0.1:{port}/v1"
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("transformers serve did not start") from None
            time.sleep(0.2)


def plain_loop(base_url: str, model: str, tokens: int) -> tuple[float, float]:
    """A plain InferenceClient streaming loop: (first text s, text chunks a second after the first)."""
    from huggingface_hub import InferenceClient

    client = InferenceClient(base_url=base_url, timeout=60)
    started = time.perf_counter()
    times = []
    stream = client.chat_completion([{"role": "user", "content": PROMPT}], model=model, stream=True,
                                    max_tokens=tokens, temperature=0)  # fmt: skip
    for chunk in stream:
        for choice in chunk.choices or ():
            if choice.delta and choice.delta.content:
                times.append(time.perf_counter())
    return times[0] - started, (len(times) - 1) / (times[-1] - times[0])


def through_hftui(base_url: str, model: str, tokens: int) -> tuple[float, float]:
    from hftui.infer.endpoints import Endpoint
    from hftui.infer.failover import chat

    times: list[float] = []
    endpoint = Endpoint("serve", "openai", model=model, base_url=base_url, timeout_s=60, retries=0)
    started = time.perf_counter()
    messages = [{"role": "user", "content": PROMPT}]
    answer = chat([endpoint], messages, on_text=lambda _t: times.append(time.perf_counter()),
                  stop=threading.Event(), max_tokens=tokens, sampling={"temperature": 0})  # fmt: skip
    assert answer.endpoint == "serve", answer.summary()
    return times[0] - started, (len(times) - 1) / (times[-1] - times[0])


def server_figures(folder: Path, tokens: int, rounds: int) -> None:
    server, base_url = start_server(folder)
    try:
        plain_loop(base_url, str(folder), 8)  # warm-up: the server loads the model on its first request
        plain, ours = [], []
        for round_index in range(rounds):
            pair = [lambda: plain.append(plain_loop(base_url, str(folder), tokens)),
                    lambda: ours.append(through_hftui(base_url, str(folder), tokens))]  # fmt: skip
            for run in pair if round_index % 2 == 0 else reversed(pair):
                run()
    finally:
        server.terminate()
        server.wait(timeout=30)
    first_plain, rate_plain = (statistics.median(v[i] for v in plain) for i in (0, 1))
    first_ours, rate_ours = (statistics.median(v[i] for v in ours) for i in (0, 1))
    print(f"transformers serve ({folder.name}), {tokens} max tokens, {rounds} rounds; rates count streamed chunks")
    print(f"  InferenceClient loop        first text {first_plain * 1000:7.1f} ms   {rate_plain:7.1f} chunks/s")
    print(f"  failover.chat (1 endpoint)  first text {first_ours * 1000:7.1f} ms   {rate_ours:7.1f} chunks/s"
          f"   x{rate_ours / rate_plain:.2f} of the plain loop (goal >= 0.95)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--tokens", type=int, default=120)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--skip-server", action="store_true", help="only the local model figures")
    args = parser.parse_args()
    os.environ.setdefault("HFTUI_HOME", tempfile.mkdtemp(prefix="hftui-bench-home-"))
    root = Path(tempfile.mkdtemp(prefix="hftui-bench-models-"))
    try:
        tiny, wide = build_models(root, args.width, args.layers)
        local_figures(wide, args.tokens, args.rounds)
        if not args.skip_server:
            server_figures(tiny, args.tokens, args.rounds)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
