"""Pytest fixtures: a started LocalHub holding a few small repos, and the real huggingface_hub pointed at it.

`local_hub` yields the hub (stopped afterwards); `hub_endpoint` also points the client's module-level
endpoint settings at it and returns the URL. Repo ids and the registered token are module constants so
tests can refer to them; `build_test_hub` builds the same hub unstarted for tests that need a variant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from safetensors.numpy import save as save_safetensors

from hftui.localhub import LocalHub

HUB_TOKEN = "hf_hftuiTestToken0123456789abcdef"
HUB_USER = "tester"
HUB_ORG = "hftui-test"

TINY_MODEL = "hftui-test/tiny-bert"
SMALL_GPT = "other-org/small-gpt"
GATED_MODEL = "hftui-test/gated-model"
PRIVATE_MODEL = "hftui-test/private-model"
TINY_DATASET = "hftui-test/tiny-dataset"
CSV_DATASET = "other-org/csv-dataset"

# The inference providers serving SMALL_GPT, as the Hub's model_info sends `inferenceProviderMapping` (when
# expanded); the second name carries markup, which must show literally.
SMALL_GPT_PROVIDERS = {
    "together": {"status": "live", "providerId": "other-org/Small-GPT-Turbo", "task": "text-generation"},
    "[red]x[/red]": {"status": "staging", "providerId": "small-gpt:[b]free[/b]", "task": "conversational"},
}

# Parameter counts of tiny_bert_safetensors(), per safetensors dtype.
TINY_BERT_PARAMETERS = {"F32": 16 * 8 + 8 * 8, "F16": 8, "I64": 12}

TINY_BERT_CARD = """\
---
language: en
license: apache-2.0
library_name: transformers
pipeline_tag: fill-mask
tags:
- test
datasets:
- hftui-test/tiny-dataset
model-index:
- name: tiny-bert
  results:
  - task:
      type: fill-mask
      name: Masked Language Modeling
    dataset:
      type: hftui-test/tiny-dataset
      name: Tiny Dataset
    metrics:
    - type: accuracy
      value: 0.5
      name: Accuracy
---

# tiny-bert

A very small BERT-shaped model for hftui's tests.
"""

TINY_DATASET_CARD = """\
---
license: mit
language:
- en
task_categories:
- text-classification
pretty_name: Tiny Dataset
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train.jsonl
  - split: test
    path: data/test.jsonl
---

# Tiny Dataset

Eight training and four test sentences labelled positive or negative.
"""


def tiny_bert_safetensors() -> bytes:
    """A small model.safetensors with three dtypes, so per-dtype parameter counts are checkable."""
    rng = np.random.default_rng(0)
    tensors = {
        "bert.embeddings.word_embeddings.weight": rng.standard_normal((16, 8)).astype(np.float32),
        "bert.pooler.dense.weight": rng.standard_normal((8, 8)).astype(np.float32),
        "bert.pooler.dense.bias": np.arange(8, dtype=np.float16),
        "bert.embeddings.position_ids": np.arange(12, dtype=np.int64).reshape(1, 12),
    }
    return save_safetensors(tensors, metadata={"format": "pt"})


def _jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def write_tiny_dataset(folder: Path) -> Path:
    """Write the tiny dataset into `folder`: README card, data/train.jsonl (8 rows), data/test.jsonl (4)."""
    sentences = "good bad great awful fine poor superb dull nice meh lovely grim".split()
    rows = [{"text": f"This is {word}.", "label": i % 2} for i, word in enumerate(sentences)]
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(TINY_DATASET_CARD)
    (folder / "data" / "train.jsonl").write_text(_jsonl(rows[:8]))
    (folder / "data" / "test.jsonl").write_text(_jsonl(rows[8:]))
    return folder


def build_test_hub(root: Path, **hub_options: object) -> LocalHub:
    """The fixture hub, not started: five models/datasets covering public, gated and private repos."""
    hub = LocalHub(**hub_options)  # type: ignore[arg-type]
    hub.add_token(HUB_TOKEN, user=HUB_USER, orgs=(HUB_ORG,))
    bert_config = {
        "architectures": ["BertForMaskedLM"],
        "model_type": "bert",
        "hidden_size": 8,
        "vocab_size": 16,
    }
    hub.add_model(
        TINY_MODEL,
        files={
            "config.json": json.dumps(bert_config, indent=2).encode(),
            "README.md": TINY_BERT_CARD.encode(),
            "model.safetensors": tiny_bert_safetensors(),
            "tokenizer_config.json": json.dumps({"mask_token": "[MASK]", "unk_token": "[UNK]"}).encode(),
            "vocab.txt": "\n".join(["[PAD]", "[UNK]", "[MASK]", "good", "bad"]).encode(),
            "docs/usage notes.md": b"Load it with transformers.\n",
        },
        downloads=1000,
        likes=10,
        trending_score=2,
    )
    gpt_config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 4}
    hub.add_model(
        SMALL_GPT,
        files={
            "config.json": json.dumps(gpt_config).encode(),
            "README.md": b"---\nlicense: mit\npipeline_tag: text-generation\n---\n# small-gpt\n",
            "model.safetensors": save_safetensors({"wte.weight": np.zeros((10, 4), dtype=np.float32)}),
        },
        downloads=500,
        likes=30,
        trending_score=9,
        inference_provider_mapping=SMALL_GPT_PROVIDERS,
    )
    hub.add_model(
        GATED_MODEL,
        files={
            "config.json": json.dumps(bert_config).encode(),
            "README.md": b"---\nlicense: other\nextra_gated_prompt: Agree to the terms.\n---\n# gated\n",
            "model.safetensors": tiny_bert_safetensors(),
        },
        gated="manual",
        downloads=50,
        likes=1,
    )
    hub.add_model(
        PRIVATE_MODEL,
        files={"config.json": json.dumps(bert_config).encode()},
        private=True,
        downloads=5,
    )
    hub.add_dataset(TINY_DATASET, write_tiny_dataset(root / "tiny-dataset"), downloads=300, likes=4)
    hub.add_dataset(
        CSV_DATASET,
        files={"data.csv": b"a,b\n1,2\n3,4\n", "README.md": b"---\nlicense: cc-by-4.0\n---\n# csv\n"},
        downloads=20,
        likes=0,
        trending_score=1,
    )
    return hub


@pytest.fixture
def local_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """A started LocalHub with the repos of build_test_hub (see the module constants); stopped afterwards."""
    hub = build_test_hub(tmp_path_factory.mktemp("local-hub"))
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def point_hf_client_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Make huggingface_hub (and datasets, if imported) use `url` as if HF_ENDPOINT had been set at import.

    huggingface_hub reads HF_ENDPOINT once, when `constants` is imported, and several values are derived
    from it right then, so each copy is patched, not just the environment variable.
    """
    import huggingface_hub.constants as constants
    import huggingface_hub.hf_api as hf_api
    import huggingface_hub.utils._http as hf_http

    old = constants.ENDPOINT
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    host = urlsplit(url).hostname
    if host:
        monkeypatch.setattr(constants, "HF_URL_HOSTS", constants.HF_URL_HOSTS | {host.lower()})
    # Origins that may receive the Authorization header on redirects; computed from ENDPOINT at import.
    monkeypatch.setattr(hf_http, "_HUB_ORIGINS", hf_http._HUB_ORIGINS | {hf_http._url_origin(url)})
    # The module-level HfApi behind huggingface_hub.model_info(), list_models(), ... captured the endpoint.
    monkeypatch.setattr(hf_api.api, "endpoint", url)
    # Uploads: the LocalHub takes the LFS transfer (batch API + PUT), not Xet's chunk store.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    for name, module in list(sys.modules.items()):
        if name.startswith("huggingface_hub.") and getattr(module, "ENDPOINT", None) == old and module is not constants:
            monkeypatch.setattr(module, "ENDPOINT", url)  # e.g. `from ..constants import ENDPOINT` in the CLI
    datasets_config = sys.modules.get("datasets.config")
    if datasets_config is not None:
        monkeypatch.setattr(datasets_config, "HF_ENDPOINT", url)
        # datasets copied the offline flag when first imported, perhaps during an offline test in this worker.
        monkeypatch.setattr(datasets_config, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(datasets_config, "HF_DATASETS_OFFLINE", False)
        monkeypatch.setattr(datasets_config, "HUB_DATASETS_URL", url + "/datasets/{repo_id}/resolve/{revision}/{path}")


@pytest.fixture
def hub_endpoint(local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local hub's URL, with huggingface_hub's default endpoint pointed at it for the test."""
    from huggingface_hub import HfFileSystem

    point_hf_client_at(monkeypatch, local_hub.url)
    HfFileSystem.clear_instance_cache()  # instances carry their own endpoint and directory cache
    yield local_hub.url
    HfFileSystem.clear_instance_cache()


@pytest.fixture
def token_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """huggingface_hub's token file and stored tokens under this test's folder."""
    from huggingface_hub import constants

    folder = tmp_path / "hf-auth"
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(folder / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(folder / "stored_tokens"))
    return folder
