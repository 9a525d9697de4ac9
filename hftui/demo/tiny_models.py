"""Tiny random-weight models that load through ``transformers.pipeline`` offline, for demos and tests.

Nothing here touches the network: every config, tokenizer and processor is built from literals in this
module (the GPT-2's byte-level BPE is trained, deterministically, on sentences of its word list), so a cache
can be seeded on an air-gapped machine. The outputs of these models are meaningless; they exist so the
analyzer's code paths (sentiment, image classification, captioning, speech recognition) and the inference
playground's (text generation and chat, fill-mask, entities) can be exercised end to end in well under a
second per model.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    # Builds one tiny model into a folder: the model and the preprocessors to save beside it.
    Builder = Callable[[Path], tuple[PreTrainedModel, list[Any]]]

__all__ = [
    "TINY_MODELS",
    "TinyModelSpec",
    "build_all",
    "build_tiny_model",
    "main",
]


@dataclass(frozen=True)
class TinyModelSpec:
    """What one tiny demo model is: its pipeline task, pretend Hub id, architecture and a short blurb."""

    task: str
    repo_id: str
    architecture: str
    description: str

    @property
    def name(self) -> str:
        """The repo-name part of ``repo_id``, used as the model's folder name."""
        return self.repo_id.split("/", 1)[1]


# The demo models by task, in the order they are built; each builder below registers its own with `_tiny_model`.
TINY_MODELS: dict[str, TinyModelSpec] = {}
_BUILDERS: dict[str, Builder] = {}


def _tiny_model(task: str, repo_id: str, architecture: str, description: str) -> Callable[[Builder], Builder]:
    """Register the decorated builder as the tiny model for `task`, so each spec stands beside its builder."""

    def register(build: Builder) -> Builder:
        TINY_MODELS[task] = TinyModelSpec(task, repo_id, architecture, description)
        _BUILDERS[task] = build
        return build

    return register


# --- vocabularies -------------------------------------------------------------------------------------

# Enough everyday and sentiment-bearing words that demo sentences tokenize into whole words; anything
# else falls back to single letters and ##-continuations, so no input ever collapses into [UNK] only.
COMMON_WORDS: tuple[str, ...] = tuple(
    """
    the a an and or but not no yes of to in on at for with from by about as into over after before up
    down out off i you he she it we they me him her us them my your his its our their this that these
    those there here what who which when where why how all some any many much more most very too so just
    only also really quite never always again still even is are was were be been being am have has had
    do does did will would can could should may might must get got make made go went come came see saw
    look looks like liked love loved hate hated want think know feel felt say said give take use find
    work works try buy watch read play sit sitting running good great best better nice fine excellent
    amazing awesome wonderful fantastic perfect happy fun beautiful brilliant enjoyed recommend bad
    worse worst terrible awful horrible poor boring sad angry disappointing disappointed broken waste
    ugly slow problem wrong movie film book story product service food place time day year people man
    woman child world life thing way home water street picture photo image cat dog bird car tree grass
    sky table room red blue green white black small big new old one two three
    """.split()
)

_BERT_SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# BLIP's decoder starts every caption with [DEC] (the real checkpoints add it after the BERT vocab);
# keeping it inside the vocab keeps the ids contiguous and the embedding matrix exactly vocab-sized.
_BLIP_EXTRA_TOKENS: tuple[str, ...] = ("[DEC]", "[ENC]")
_PUNCTUATION: tuple[str, ...] = tuple(".,!?'\"-:;()")
_LETTERS: tuple[str, ...] = tuple("abcdefghijklmnopqrstuvwxyz")
_DIGITS: tuple[str, ...] = tuple("0123456789")

SENTIMENT_LABELS: tuple[str, ...] = ("NEGATIVE", "POSITIVE")
IMAGE_LABELS: tuple[str, ...] = ("cat", "dog", "bird")
ENTITY_LABELS: tuple[str, ...] = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
SAMPLING_RATE = 16_000
IMAGE_SIZE = 32

# The chat model's specials: <|endoftext|> (id 0) is eos and pad; the rest frame the chat template's turns.
_CHAT_SPECIAL_TOKENS: tuple[str, ...] = ("<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>")
_CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
# The text-generation pipeline asks for 256 new tokens by default, so the context must hold a prompt on top.
_CHAT_CONTEXT = 512


def _wordpiece_vocab(extra_specials: tuple[str, ...] = ()) -> list[str]:
    """The token list (id = position) shared by the BERT models and the BLIP decoder."""
    tokens: list[str] = [*_BERT_SPECIAL_TOKENS, *extra_specials, *_PUNCTUATION, *_DIGITS, *_LETTERS]
    tokens += [f"##{c}" for c in (*_LETTERS, *_DIGITS)]
    seen = set(tokens)
    for word in COMMON_WORDS:
        if word not in seen:
            seen.add(word)
            tokens.append(word)
    return tokens


def _bpe_corpus() -> list[str]:
    """Eight-word sentences of COMMON_WORDS: the text the chat model's BPE merges are learnt from."""
    return [" ".join(COMMON_WORDS[i : i + 8]) for i in range(0, len(COMMON_WORDS), 8)]


def _ctc_vocab() -> dict[str, int]:
    """Character vocabulary for CTC; ``<pad>`` doubles as the CTC blank, so it must be id 0."""
    tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", "'", *_LETTERS]
    return {tok: i for i, tok in enumerate(tokens)}


# --- builders -----------------------------------------------------------------------------------------


def _bert_tokenizer(out_dir: Path, extra_specials: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """A WordPiece BERT tokenizer over the module vocab, with vocab.txt written next to it."""
    from transformers import BertTokenizer

    vocab = _wordpiece_vocab(extra_specials)
    # vocab.txt is what the slow/legacy loaders and humans read; tokenizer.json is what v5 loads.
    (out_dir / "vocab.txt").write_text("".join(f"{tok}\n" for tok in vocab), encoding="utf-8")
    return BertTokenizer(
        vocab={tok: i for i, tok in enumerate(vocab)},
        do_lower_case=True,
        model_max_length=512,
        **kwargs,
    )


def _bert_config(tokenizer: Any, labels: tuple[str, ...] = (), **head: Any) -> Any:
    """The 2-layer BERT body every BERT demo shares, with `labels` (if any) and the head's own settings."""
    from transformers import BertConfig

    if labels:
        head |= {"id2label": dict(enumerate(labels)), "label2id": {label: i for i, label in enumerate(labels)}}
    return BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        type_vocab_size=2,
        pad_token_id=tokenizer.pad_token_id,
        **head,
    )


@_tiny_model(
    task="text-classification",
    repo_id="hftui-demo/tiny-bert-sentiment",
    architecture="BertForSequenceClassification",
    description="A 2-layer BERT sentiment classifier with NEGATIVE/POSITIVE labels.",
)
def _build_text_classification(out_dir: Path) -> tuple[PreTrainedModel, list[Any]]:
    """BERT sentiment classifier plus its WordPiece tokenizer."""
    from transformers import BertForSequenceClassification

    tokenizer = _bert_tokenizer(out_dir)
    config = _bert_config(tokenizer, SENTIMENT_LABELS, problem_type="single_label_classification")
    return BertForSequenceClassification(config), [tokenizer]


@_tiny_model(
    task="fill-mask",
    repo_id="hftui-demo/tiny-bert-fill-mask",
    architecture="BertForMaskedLM",
    description="A 2-layer BERT masked language model that guesses the word behind [MASK].",
)
def _build_fill_mask(out_dir: Path) -> tuple[PreTrainedModel, list[Any]]:
    """BERT masked LM plus the WordPiece tokenizer (whose [MASK] the pipeline fills)."""
    from transformers import BertForMaskedLM

    tokenizer = _bert_tokenizer(out_dir)
    return BertForMaskedLM(_bert_config(tokenizer)), [tokenizer]


@_tiny_model(
    task="token-classification",
    repo_id="hftui-demo/tiny-bert-ner",
    architecture="BertForTokenClassification",
    description="A 2-layer BERT entity tagger with BIO labels for people, places and organisations (PER/LOC/ORG).",
)
def _build_token_classification(out_dir: Path) -> tuple[PreTrainedModel, list[Any]]:
    """BERT token classifier plus the WordPiece tokenizer; its tokenizer.json is what gives entities offsets."""
    from transformers import BertForTokenClassification

    tokenizer = _bert_tokenizer(out_dir)
    return BertForTokenClassification(_bert_config(tokenizer, ENTITY_LABELS)), [tokenizer]


def _silent_tokens(tokenizer: Any) -> list[int]:
    """Ids that show nothing when streamed alone (special tokens, whitespace, lone bytes of a UTF-8 character)
    or show a control character a terminal should not get."""
    shown = (tokenizer.decode([i], skip_special_tokens=True) for i in range(len(tokenizer)))
    return [i for i, text in enumerate(shown) if not text.strip() or "\ufffd" in text or not text.isprintable()]


@_tiny_model(
    task="text-generation",
    repo_id="hftui-demo/tiny-gpt2-chat",
    architecture="GPT2LMHeadModel",
    description=(
        "A 2-layer GPT-2 with a byte-level BPE tokenizer and a chat template (`<|role|>text<|end|>`). Its generation"
        " config suppresses every token that shows nothing, <|endoftext|> included, so it always writes visible"
        " text up to max_new_tokens."
    ),
)
def _build_text_generation(out_dir: Path) -> tuple[PreTrainedModel, list[Any]]:
    """GPT-2 causal LM plus a byte-level BPE tokenizer trained here, with eos/pad and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,  # a ceiling: the corpus runs out of merges first
        special_tokens=list(_CHAT_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes, so any text encodes
        show_progress=False,
    )
    bpe.train_from_iterator(_bpe_corpus(), trainer)
    eos = _CHAT_SPECIAL_TOKENS[0]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token=eos, pad_token=eos, model_max_length=_CHAT_CONTEXT
    )
    tokenizer.chat_template = _CHAT_TEMPLATE
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=_CHAT_CONTEXT,
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_inner=64,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    # Random weights often pick only tokens that stream as nothing, or the end token at once, and a demo
    # that answers nothing looks broken. eos stays set, so a caller who lifts the suppression gets real
    # stopping; it is suppressed with the rest (it is special, so it decodes to nothing).
    model.generation_config.suppress_tokens = _silent_tokens(tokenizer)
    return model, [tokenizer]


@_tiny_model(
    task="image-classification",
    repo_id="hftui-demo/tiny-vit-animals",
    architecture="ViTForImageClassification",
    description="A 2-layer ViT on 32x32 images with cat/dog/bird labels.",
)
def _build_image_classification(out_dir: Path) -> tuple[PreTrainedModel, list[Any]]:
    """ViT classifier on 32x32 images plus its image processor."""
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessorPil

    config = ViTConfig(
        image_size=IMAGE_SIZE,
        patch_size=8,
        num_channels=3,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        id2label=dict(enumerate(IMAGE_LABELS)),
        label2id={label: i for i, label in enumerate(IMAGE_LABELS)},
    )
    # The PIL backend needs no torchvision; it saves as "ViTImageProcessor", so a machine that has
    # torchvision loads the default backend from the same file.
    processor = ViTImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    return ViTForImageClassification(config), [processor]


@_tiny_model(
    task="automatic-speech-recognition",
    repo_id="hftui-demo/tiny-wav2vec2-ctc",
    architecture="Wav2Vec2ForCTC",
    description="A 2-layer wav2vec2 CTC recognizer over a character vocabulary, 16 kHz audio.",
)
def _build_speech_recognition(out_dir: Path) -> tuple[PreTrainedModel, list[Any]]:
    """wav2vec2 CTC model plus a processor (character tokenizer + 16 kHz feature extractor)."""
    import transformers

    vocab = _ctc_vocab()
    vocab_path = out_dir / "vocab.json"
    vocab_path.write_text(json.dumps(vocab, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tokenizer = transformers.Wav2Vec2CTCTokenizer(str(vocab_path), word_delimiter_token="|")
    feature_extractor = transformers.Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=SAMPLING_RATE,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=True,
    )
    processor = transformers.Wav2Vec2Processor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    config = transformers.Wav2Vec2Config(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        # Three strided convs downsample 16 kHz by 64x (vs 320x in the real model): cheap and still
        # several frames for even very short clips.
        conv_dim=(32, 32, 32),
        conv_kernel=(8, 4, 4),
        conv_stride=(4, 4, 4),
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        pad_token_id=vocab["<pad>"],
        bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"],
        ctc_loss_reduction="mean",
    )
    return transformers.Wav2Vec2ForCTC(config), [processor]


@_tiny_model(
    task="image-text-to-text",
    repo_id="hftui-demo/tiny-blip-captioning",
    architecture="BlipForConditionalGeneration",
    description="A 2-layer BLIP image captioner (32x32 ViT encoder, BERT-style text decoder).",
)
def _build_captioning(out_dir: Path) -> tuple[PreTrainedModel, list[Any]]:
    """BLIP captioner plus a BlipProcessor whose tokenizer ids match the decoder's bos/sep/pad."""
    import transformers

    tokenizer = _bert_tokenizer(out_dir, _BLIP_EXTRA_TOKENS, bos_token="[DEC]", extra_special_tokens=["[ENC]"])
    image_processor = transformers.BlipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = transformers.BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    text_config = transformers.BlipTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        projection_dim=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        # The image-text-to-text pipeline asks for up to 256 new tokens by default and an untrained decoder
        # rarely stops early, so positions must cover prompt + 256 or generation indexes past the table.
        max_position_embeddings=512,
        # generate() swaps the prompt's [CLS] for bos and stops on sep, so both must be this vocab's ids.
        bos_token_id=tokenizer.convert_tokens_to_ids("[DEC]"),
        sep_token_id=tokenizer.sep_token_id,
        eos_token_id=tokenizer.sep_token_id,
        pad_token_id=tokenizer.pad_token_id,
        # At 0.02 the image's cross-attention signal is too weak to change the argmax, so every image got
        # the same caption; 0.1 makes captions depend on the image, which is what a demo should show.
        initializer_range=0.1,
    )
    vision_config = transformers.BlipVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        projection_dim=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=8,
        # BLIP's default vision init (1e-10) makes every image embed alike; a normal range lets different
        # demo images yield different captions.
        initializer_range=0.02,
    )
    config = transformers.BlipConfig(
        text_config=text_config.to_dict(),
        vision_config=vision_config.to_dict(),
        projection_dim=32,
        image_text_hidden_size=32,
    )
    # No max_new_tokens in generation_config: generate() hands only call kwargs on to the inner text
    # decoder, so a saved limit would be ignored there (with a warning) while stopping the pipeline from
    # passing its own default.
    return transformers.BlipForConditionalGeneration(config), [processor]


@contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """Silence transformers' "Writing model shards" bar while saving, then put the previous hook back."""
    from transformers.utils import logging as hf_logging

    # A tqdm hook rather than disable_progress_bar(): that one also flips huggingface_hub's global
    # state (and warns when HF_HUB_DISABLE_PROGRESS_BARS pins it), which is not ours to change.
    previous = hf_logging.set_tqdm_hook(lambda factory, args, kwargs: factory(*args, **{**kwargs, "disable": True}))
    try:
        yield
    finally:
        hf_logging.set_tqdm_hook(previous)


def build_tiny_model(task: str, out_dir: Path, *, seed: int = 0) -> Path:
    """Build the tiny model for ``task`` into ``out_dir`` (config, safetensors, preprocessors, card)."""
    try:
        spec = TINY_MODELS[task]
    except KeyError:
        raise ValueError(f"no tiny model for task {task!r}; known: {', '.join(TINY_MODELS)}") from None
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # fork_rng keeps the caller's global RNG untouched while the seed alone fixes every initial weight.
    with torch.random.fork_rng(devices=[]), _quiet_progress_bars():
        torch.manual_seed(seed)
        model, preprocessors = _BUILDERS[task](out_dir)
        model.eval()
        model.save_pretrained(out_dir)
        for pre in preprocessors:
            pre.save_pretrained(out_dir)
    # safetensors creates its file as 0600 whatever the umask; give the weights the same mode as the
    # other files so a seeded cache is uniformly readable.
    (out_dir / "model.safetensors").chmod((out_dir / "config.json").stat().st_mode & 0o777)
    n_params = sum(p.numel() for p in model.parameters())
    (out_dir / "README.md").write_text(_model_card(spec, model.config, n_params, seed), encoding="utf-8")
    return out_dir


def build_all(root: Path, *, seed: int = 0) -> dict[str, Path]:
    """Build every tiny model under ``root``, one subfolder per model, keyed by task."""
    root = Path(root)
    return {task: build_tiny_model(task, root / spec.name, seed=seed) for task, spec in TINY_MODELS.items()}


# --- model card ---------------------------------------------------------------------------------------


def _model_card(spec: TinyModelSpec, config: Any, n_params: int, seed: int) -> str:
    """A model card with Hub-style YAML front matter and a body that says loudly the weights are random."""
    family = config.model_type
    front_matter = "\n".join(
        [
            "---",
            "license: apache-2.0",
            "library_name: transformers",
            f"pipeline_tag: {spec.task}",
            "tags:",
            "- hftui-demo",
            "- random-weights",
            f"- {family}",
            "---",
        ]
    )
    sizes = "\n".join(f"  - {line}" for line in _size_lines(config))
    preprocessing = (
        "a byte-level BPE trained by `hftui.demo.tiny_models` on its own word list"
        if family == "gpt2"
        else "written from scratch by `hftui.demo.tiny_models`"
    )
    return f"""{front_matter}

# {spec.repo_id}

> **RANDOM-WEIGHT DEMO MODEL.** This model was generated by hftui for offline demos and tests.
> Its weights are random (seed {seed}) and it was never trained, so its outputs are meaningless.
> Use it only to exercise code paths, never for real predictions.

{spec.description}

## How it was built

- Architecture: `{spec.architecture}` (model type `{family}`)
- Sizes:
{sizes}
- Parameters: {n_params:,}
- Weights: `torch.manual_seed({seed})` then the architecture's default initialisation, saved as
  `model.safetensors`; the same seed always gives byte-identical files
- Tokenizer and preprocessing: {preprocessing}, nothing downloaded

Rebuild every demo model with:

```bash
python -m hftui.demo.tiny_models OUT_DIR
```

## Usage

```python
{_usage_snippet(spec)}
```
"""


def _size_lines(config: Any) -> list[str]:
    """One line per (sub-)model: width, depth, heads, plus the input geometry or vocabulary it expects."""
    subs = (
        [("text decoder", config.text_config), ("vision encoder", config.vision_config)]
        if (config.model_type == "blip")
        else [("model", config)]
    )
    lines = []
    for label, sub in subs:
        parts = [
            f"hidden size {sub.hidden_size}",
            f"{sub.num_hidden_layers} layers",
            f"{sub.num_attention_heads} heads",
            f"FFN {sub.n_inner if sub.model_type == 'gpt2' else sub.intermediate_size}",
        ]
        if getattr(sub, "image_size", None):
            size, patch = sub.image_size, sub.patch_size
            parts.append(f"{size}x{size} images, {patch}x{patch} patches")
        if getattr(sub, "vocab_size", None):
            parts.append(f"vocab {sub.vocab_size}")
        if sub.model_type == "gpt2":
            parts.append(f"byte-level BPE, context {sub.n_positions} tokens")
        if sub.model_type == "wav2vec2":
            parts.append(f"{SAMPLING_RATE} Hz mono audio, conv strides {list(sub.conv_stride)}")
        lines.append(f"{label}: " + ", ".join(parts))
    return lines


def _usage_snippet(spec: TinyModelSpec) -> str:
    """A runnable pipeline call for the model's task."""
    imports, options, call = {
        "text-classification": ("", "", 'print(pipe("I loved this movie"))'),
        "image-classification": ("from PIL import Image\n", "", 'print(pipe(Image.new("RGB", (32, 32))))'),
        "automatic-speech-recognition": (
            "import numpy as np\n",
            "",
            f"print(pipe(np.zeros({SAMPLING_RATE}, dtype=np.float32)))  # 1 s of {SAMPLING_RATE} Hz audio",
        ),
        "image-text-to-text": (
            "from PIL import Image\n",
            "",
            '# This pipeline insists on a text prompt: BLIP continues it, and "" captions from scratch.\n'
            'print(pipe(Image.new("RGB", (32, 32)), text="", max_new_tokens=10))',
        ),
        "text-generation": (
            "",
            "",
            'print(pipe("the cat", max_new_tokens=20))\n'
            "# A chat goes through the chat template: <|user|>hello<|end|><|assistant|>\n"
            'print(pipe([{"role": "user", "content": "hello"}], max_new_tokens=20))',
        ),
        "fill-mask": ("", "", 'print(pipe("the cat [MASK] on the mat"))'),
        "token-classification": (
            "",
            ', aggregation_strategy="simple"',
            "# Each entity comes with its start and end offsets in the text.\n"
            'print(pipe("the man saw a big dog in the old street"))',
        ),
    }[spec.task]
    return (
        f"{imports}from transformers import pipeline\n\n"
        f"# Works offline (HF_HUB_OFFLINE=1) from the local folder or a cache seeded by hftui.\n"
        f'pipe = pipeline("{spec.task}", model="{spec.repo_id}"{options})\n'
        f"{call}"
    )


# --- command line -------------------------------------------------------------------------------------


def _dir_size(path: Path) -> int:
    """Total bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv: list[str] | None = None) -> int:
    """Build every tiny model into OUT_DIR and print where each went and how big it is."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hftui.demo.tiny_models", description=main.__doc__)
    parser.add_argument("out_dir", type=Path, help="folder to write one subfolder per model into")
    parser.add_argument("--seed", type=int, default=0, help="torch seed for the random weights")
    args = parser.parse_args(argv)
    for task, path in build_all(args.out_dir, seed=args.seed).items():
        print(f"{task:<30} {path}  {_dir_size(path) / 1024:,.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
