"""What a repo's files and config say: weight formats, pickle warnings, config summaries, parameter counts."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import HfApi, snapshot_download

from hftui.hub.repo_files import (
    ConfigSummary,
    RepoFile,
    describe_files,
    estimate_parameters,
    parameter_count,
    summarize_config,
    weight_format,
    weight_warning,
)
from hftui.localhub import LocalHub
from tests.hubfixtures import SMALL_GPT, TINY_BERT_PARAMETERS, TINY_MODEL

BERT_BASE = {
    "architectures": ["BertForMaskedLM"],
    "model_type": "bert",
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "vocab_size": 30522,
    "max_position_embeddings": 512,
    "torch_dtype": "float32",
}
GPT2 = {
    "architectures": ["GPT2LMHeadModel"],
    "model_type": "gpt2",
    "n_embd": 768,
    "n_layer": 12,
    "n_ctx": 1024,
    "n_positions": 1024,
    "vocab_size": 50257,
}
LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "dtype": "bfloat16",
}
LLAVA = {
    "architectures": ["LlavaForConditionalGeneration"],
    "model_type": "llava",
    "torch_dtype": "float16",
    "vision_config": {"hidden_size": 1024, "num_hidden_layers": 24, "model_type": "clip_vision_model"},
    "text_config": {
        "model_type": "llama",
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "vocab_size": 32064,
        "max_position_embeddings": 4096,
    },
}


def test_describe_files_from_model_info_siblings(local_hub: LocalHub) -> None:
    info = HfApi(endpoint=local_hub.url).model_info(TINY_MODEL, files_metadata=True)
    files = describe_files(info.siblings)
    hosted = local_hub.repo(TINY_MODEL).files  # type: ignore[union-attr]
    assert [f.path for f in files] == sorted(hosted)
    by_path = {f.path: f for f in files}
    assert {path: f.size for path, f in by_path.items()} == {path: h.size for path, h in hosted.items()}
    weights = by_path["model.safetensors"]
    assert weights.is_lfs and weights.weight_format == "safetensors" and not weights.can_run_code
    assert by_path["vocab.txt"] == RepoFile("vocab.txt", hosted["vocab.txt"].size, False, None)
    assert weight_warning(files) is None


def test_describe_files_from_rows_and_names() -> None:
    rows = [("b/model.pt", 10, True), ("a/config.json", 2, False), ("weird.PTH", None, True)]
    files = describe_files(rows)
    assert [f.path for f in files] == ["a/config.json", "b/model.pt", "weird.PTH"]
    assert files[1].weight_format == "pickle" and files[1].can_run_code
    assert files[2].weight_format == "pickle" and files[2].size is None
    from_dicts = describe_files([{"rfilename": "x.gguf", "size": 5, "lfs": {"size": 5}}, {"path": "y.onnx"}])
    assert [(f.path, f.weight_format, f.is_lfs) for f in from_dicts] == [
        ("x.gguf", "gguf", True),
        ("y.onnx", "onnx", False),
    ]
    assert describe_files(None) == ()


def test_describe_files_from_a_cached_snapshot(local_hub: LocalHub, tmp_path: Path) -> None:
    snapshot = Path(snapshot_download(SMALL_GPT, endpoint=local_hub.url, cache_dir=tmp_path / "cache"))
    files = {f.path: f for f in describe_files(snapshot)}
    assert set(files) == {"README.md", "config.json", "model.safetensors"}
    # Snapshot files link to blobs named by ETag: sha256 (LFS) for the weights, git sha1 for the rest.
    assert files["model.safetensors"].is_lfs and not files["config.json"].is_lfs
    assert files["model.safetensors"].size == (snapshot / "model.safetensors").stat().st_size
    assert describe_files(tmp_path / "does-not-exist") == ()


def test_weight_formats() -> None:
    expected = {
        "model.safetensors": "safetensors",
        "pytorch_model.bin": "pickle",
        "model.ckpt": "pickle",
        "scaler.pkl": "pickle",
        "model-q4_k_m.gguf": "gguf",
        "onnx/model.onnx": "onnx",
        "tf_model.h5": "h5",
        "model.keras": "keras",
        "flax_model.msgpack": "msgpack",
        "model.safetensors.index.json": None,
        "tokenizer.json": None,
        "README.md": None,
    }
    assert {path: weight_format(path) for path in expected} == expected


def test_weight_warning_only_when_weights_are_all_pickle() -> None:
    only_pickle = describe_files(["pytorch_model.bin", "config.json"])
    warning = weight_warning(only_pickle)
    assert warning is not None and "run code" in warning and "safetensors" in warning
    assert weight_warning(describe_files(["pytorch_model.bin", "model.safetensors"])) is None
    assert weight_warning(describe_files(["pytorch_model.bin", "model.gguf"])) is None
    assert weight_warning(describe_files(["config.json", "README.md"])) is None


def test_summaries_of_common_families() -> None:
    assert summarize_config(BERT_BASE) == ConfigSummary(("BertForMaskedLM",), "bert", 768, 12, 30522, 512, "float32")
    assert summarize_config(GPT2) == ConfigSummary(("GPT2LMHeadModel",), "gpt2", 768, 12, 50257, 1024, None)
    assert summarize_config(LLAMA) == ConfigSummary(
        ("LlamaForCausalLM",), "llama", 4096, 32, 128256, 131072, "bfloat16"
    )


def test_multimodal_summary_reads_the_text_config() -> None:
    summary = summarize_config(LLAVA)
    assert summary.architectures == ("LlavaForConditionalGeneration",)
    assert summary.model_type == "llava"
    assert (summary.hidden_size, summary.num_layers, summary.vocab_size) == (4096, 32, 32064)
    assert summary.context_length == 4096 and summary.torch_dtype == "float16"


def test_encoder_decoder_layers_and_odd_values() -> None:
    t5 = {
        "model_type": "t5",
        "d_model": 512,
        "num_layers": 6,
        "num_decoder_layers": 6,
        "is_encoder_decoder": True,
    }
    assert summarize_config(t5).num_layers == 12
    bart = {
        "model_type": "bart",
        "d_model": 768,
        "encoder_layers": 6,
        "decoder_layers": 6,
        "num_hidden_layers": 6,
    }
    assert summarize_config(bart).num_layers == 12
    odd = {"architectures": "not-a-list", "hidden_size": True, "n_layer": -3, "torch_dtype": "torch.float16"}
    assert summarize_config(odd) == ConfigSummary((), None, None, None, None, None, "float16")
    assert summarize_config({}) == ConfigSummary((), None, None, None, None, None, None)


def test_parameter_estimates() -> None:
    gpt2 = estimate_parameters(summarize_config(GPT2))
    assert gpt2 == 12 * 12 * 768 * 768 + 50257 * 768
    assert 110e6 < gpt2 < 135e6  # GPT-2 small has 124M
    bert = estimate_parameters(summarize_config(BERT_BASE))
    assert bert is not None and 95e6 < bert < 120e6  # BERT-base has 110M
    llama = estimate_parameters(summarize_config(LLAMA))
    assert llama is not None and 6e9 < llama < 9e9  # Llama 3 8B: the gated MLP is underestimated
    assert estimate_parameters(summarize_config({"hidden_size": 8})) is None


def test_parameter_count_prefers_safetensors_metadata(local_hub: LocalHub) -> None:
    info = HfApi(endpoint=local_hub.url).model_info(TINY_MODEL)
    assert parameter_count(info) == (sum(TINY_BERT_PARAMETERS.values()), "safetensors metadata")


def test_parameter_count_falls_back_to_the_config(local_hub: LocalHub) -> None:
    local_hub.add_model("plain/pickle-only", files={"config.json": b"{}", "pytorch_model.bin": b"\x80\x04."})
    info = HfApi(endpoint=local_hub.url).model_info("plain/pickle-only")
    assert info.safetensors is None
    assert parameter_count(info, config=GPT2) == (12 * 12 * 768 * 768 + 50257 * 768, "estimated from config")
    assert parameter_count(info) == (None, "unknown")
    assert parameter_count(object()) == (None, "unknown")


def test_safetensors_parameters_from_headers(tmp_path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    from hftui.hub.repo_files import safetensors_parameters

    save_file({"a": np.zeros((3, 4), dtype=np.float32)}, str(tmp_path / "model-00001-of-00002.safetensors"))
    save_file({"b": np.zeros((5,), dtype=np.float16)}, str(tmp_path / "model-00002-of-00002.safetensors"))
    assert safetensors_parameters(tmp_path) == 17
    assert safetensors_parameters(tmp_path / "missing") is None
    (tmp_path / "broken.safetensors").write_bytes(b"\xff" * 8)
    assert safetensors_parameters(tmp_path) is None
