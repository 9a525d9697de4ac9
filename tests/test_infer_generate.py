"""Generation and chat on a tiny random-weight GPT-2 (a BPE tokenizer trained here, with and without a chat
template): text streamed piece by piece, stopped at once, context overflow truncated and said so, chats saved
and loaded."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from hftui.infer.generate import Chat, GenerationSettings, Message, generate, prompt_ids
from hftui.infer.local import PlaygroundInputError
from hftui.infer.tasks import model_tasks

CORPUS = [
    "the model writes a short answer to every question",
    "hello there, how are you today? i am fine, thank you",
    "tiny models say random things, but they say them quickly",
]
TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def ignore(text: str) -> None:
    """An `on_text` for tests that look only at the result."""


def tiny_gpt2(folder: Path, *, chat_template: str | None = None, positions: int = 64) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    every_byte = pre_tokenizers.ByteLevel.alphabet()  # so any text encodes, ":" and newlines too
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=every_byte)
    bpe.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    if chat_template:
        tokenizer.chat_template = chat_template
    config = GPT2Config(
        vocab_size=tokenizer.vocab_size, n_positions=positions, n_embd=16, n_layer=2, n_head=2,
        eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    folder.mkdir(parents=True)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def silent_tokens(tokenizer: Any) -> list[int]:
    """Tokens that show nothing on their own: special tokens, and lone bytes of a UTF-8 character. Random
    weights may answer with nothing else, so tests that watch text arrive forbid them."""
    shown = (tokenizer.decode([i], skip_special_tokens=True) for i in range(len(tokenizer)))  # as streamed
    return [i for i, text in enumerate(shown) if not text.strip() or "\ufffd" in text]


def load(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tokenizer = AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    # Random weights may pick the end token at once, or only tokens that show nothing; these tests want
    # answers of a known length that arrive as text.
    model.generation_config.eos_token_id = None
    model.generation_config.suppress_tokens = silent_tokens(tokenizer)
    return model, tokenizer


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    folder = tiny_gpt2(tmp_path_factory.mktemp("gpt2") / "chat", chat_template=TEMPLATE)
    return (folder, *load(folder))


def test_a_causal_lm_offers_text_generation(chat_model: tuple[Path, Any, Any]) -> None:
    assert model_tasks(chat_model[0]).default == "text-generation"


def test_answers_stream_in_pieces_through_the_chat_template(chat_model: tuple[Path, Any, Any]) -> None:
    _, model, tokenizer = chat_model
    pieces: list[str] = []
    settings = GenerationSettings(max_new_tokens=12, temperature=0)
    chat = [Message("user", "hello there")]
    answer = generate(model, tokenizer, chat, settings, on_text=pieces.append, stop=threading.Event())
    assert answer.used_chat_template and answer.new_tokens == 12 and not answer.stopped
    assert len(pieces) >= 2 and "".join(pieces) == answer.text
    assert answer.first_token_s is not None and answer.first_token_s <= answer.total_s
    assert answer.device == "cpu" and answer.tokens_per_s > 0
    ids, templated = prompt_ids(tokenizer, chat)
    assert templated and tokenizer.decode(ids[0]) == "<|user|>hello there<|end|><|assistant|>"
    # Greedy decoding is repeatable; so is sampling with a seed.
    again = generate(model, tokenizer, chat, settings, on_text=ignore, stop=threading.Event())
    assert again.text == answer.text
    seeded = GenerationSettings(max_new_tokens=12, temperature=1.0, seed=7)
    one, two = (generate(model, tokenizer, chat, seeded, on_text=ignore, stop=threading.Event()) for _ in "ab")
    assert one.text == two.text


def test_stop_ends_the_answer_at_once_and_keeps_what_came(chat_model: tuple[Path, Any, Any]) -> None:
    _, model, tokenizer = chat_model
    stop = threading.Event()
    pieces: list[str] = []

    def arrived(text: str) -> None:
        pieces.append(text)
        stop.set()  # as Escape would, from the UI, while the worker generates

    settings = GenerationSettings(max_new_tokens=40, temperature=0)
    answer = generate(model, tokenizer, [Message("user", "hello")], settings, on_text=arrived, stop=stop)
    assert answer.stopped and answer.new_tokens < 40
    assert answer.text == "".join(pieces) and answer.text


def test_without_a_template_the_chat_is_written_out_plainly(tmp_path: Path) -> None:
    model, tokenizer = load(tiny_gpt2(tmp_path / "base"))
    ids, templated = prompt_ids(tokenizer, [Message("user", "hello there")])
    assert not templated and tokenizer.decode(ids[0]) == "hello there"
    chat = [Message("user", "hello"), Message("assistant", "fine"), Message("user", "and you")]
    ids, _ = prompt_ids(tokenizer, chat)
    assert tokenizer.decode(ids[0]) == "user: hello\nassistant: fine\nuser: and you\nassistant:"
    answer = generate(model, tokenizer, chat, GenerationSettings(4, 0), on_text=ignore, stop=threading.Event())
    assert not answer.used_chat_template and answer.new_tokens == 4


def test_a_prompt_longer_than_the_context_loses_its_oldest_tokens(tmp_path: Path) -> None:
    model, tokenizer = load(tiny_gpt2(tmp_path / "short", positions=32))
    prompt = " ".join(CORPUS * 3)
    length = len(tokenizer(prompt)["input_ids"])
    assert length > 32
    settings = GenerationSettings(max_new_tokens=8, temperature=0)
    answer = generate(model, tokenizer, [Message("user", prompt)], settings, on_text=ignore, stop=threading.Event())
    assert answer.truncated_tokens == length - 24 and answer.prompt_tokens == 24 and answer.new_tokens == 8
    with pytest.raises(PlaygroundInputError, match="leaves no room"):
        generate(
            model, tokenizer, [Message("user", "hi")], GenerationSettings(32, 0), on_text=ignore, stop=threading.Event()
        )


def test_bad_settings_and_empty_prompts_are_refused(chat_model: tuple[Path, Any, Any]) -> None:
    _, model, tokenizer = chat_model
    refused = [
        (GenerationSettings(0), "Max new tokens"),
        (GenerationSettings(temperature=-1), "Temperature"),
        (GenerationSettings(top_p=0), "Top-p"),
    ]
    for settings, why in refused:
        with pytest.raises(PlaygroundInputError, match=why):
            generate(model, tokenizer, [Message("user", "hi")], settings, on_text=ignore, stop=threading.Event())
    with pytest.raises(PlaygroundInputError, match="Type a prompt"):
        prompt_ids(tokenizer, [Message("user", "   ")])


def test_chats_are_saved_and_loaded(tmp_path: Path) -> None:
    chat = Chat()
    chat.add("system", "be brief")
    chat.add("user", "[bold]hi[/bold] \x1b[31m")
    chat.add("assistant", "hello")
    chat.save(tmp_path / "chat.json")
    assert Chat.load(tmp_path / "chat.json").messages == chat.messages
    with pytest.raises(ValueError, match="unknown role"):
        chat.add("tool", "x")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="could not be read as a chat"):
        Chat.load(tmp_path / "bad.json")
    (tmp_path / "wrong.json").write_text(json.dumps({"messages": [{"role": "robot", "content": "x"}]}))
    with pytest.raises(ValueError, match="message 1 needs a role"):
        Chat.load(tmp_path / "wrong.json")
    chat.clear()
    assert chat.messages == []


def test_settings_read_from_key_value_words() -> None:
    base = GenerationSettings(max_new_tokens=64, temperature=0.5, top_p=0.9, seed=3)
    assert GenerationSettings.from_text(base.as_text()) == base
    changed = GenerationSettings.from_text("temp=0 max=10, seed=none", base)
    assert changed == GenerationSettings(max_new_tokens=10, temperature=0.0, top_p=0.9, seed=None)
    with pytest.raises(PlaygroundInputError, match="'beam=2'"):
        GenerationSettings.from_text("beam=2")
    with pytest.raises(PlaygroundInputError, match="not a number"):
        GenerationSettings.from_text("temp=hot")
    with pytest.raises(PlaygroundInputError, match="Top-p"):
        GenerationSettings.from_text("top_p=0")


def test_streamed_pieces_add_up_to_the_whole_answer_decoded(tmp_path: Path) -> None:
    """Pieces are decoded a few tokens at a time; together they are what decoding the answer at once gives,
    lone UTF-8 bytes and special tokens included (a random model sampled hot writes plenty of both)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_gpt2(tmp_path / "raw", chat_template=TEMPLATE, positions=256)
    model, tokenizer = AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    model.generation_config.eos_token_id = None
    chat = [Message("user", "héllo thère ☃")]
    for seed in (1, 2, 3):
        settings = GenerationSettings(max_new_tokens=150, temperature=1.5, top_p=1.0, seed=seed)
        pieces: list[str] = []
        generate(model, tokenizer, chat, settings, on_text=pieces.append, stop=threading.Event())
        ids, _ = prompt_ids(tokenizer, chat)
        torch.manual_seed(seed)
        whole = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=150, do_sample=True,
                               temperature=1.5, top_p=1.0, pad_token_id=tokenizer.eos_token_id)  # fmt: skip
        assert "".join(pieces) == tokenizer.decode(whole[0, ids.shape[1] :], skip_special_tokens=True)
