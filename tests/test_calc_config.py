"""ModelConfig.from_hf: readers for each model type, and errors for bad configs (issue 8)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import bytepair as bp
import pytest


def llama(**changes: Any) -> dict[str, Any]:
    cfg = bp.models.hf_config("llama-3-8b")
    cfg.update(changes)
    return cfg


def test_supported_types() -> None:
    assert set(bp.SUPPORTED_MODEL_TYPES) == {
        "llama",
        "mistral",
        "mixtral",
        "qwen2",
        "qwen2_moe",
        "gemma",
        "gpt2",
        "gptj",
        "gpt_neox",
        "phi",
        "phi3",
        "bert",
        "opt",
    }
    # every catalog entry goes through from_hf
    assert {bp.models.hf_config(n)["model_type"] for n in bp.models} == set(bp.SUPPORTED_MODEL_TYPES)


def test_from_path_and_directory(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(bp.models.hf_config("mistral-7b")))
    a = bp.ModelConfig.from_hf(tmp_path / "config.json")
    b = bp.ModelConfig.from_hf(str(tmp_path))
    assert a == b
    assert bp.count_parameters(a).total == 7_241_732_096


def test_defaults_filled() -> None:
    cfg = bp.ModelConfig.from_hf(bp.models.hf_config("llama-2-7b"))
    assert cfg.head_dim == 128 and cfg.num_key_value_heads == 32 and not cfg.tie_word_embeddings
    gpt2 = bp.models["gpt2"]
    assert gpt2.intermediate_size == 3072 and gpt2.tie_word_embeddings and gpt2.norm_type == "layernorm"
    assert bp.models["gemma-2b"].tie_word_embeddings  # GemmaConfig default


def test_unknown_model_type_lists_supported() -> None:
    with pytest.raises(
        bp.BytepairError,
        match=r"unsupported model_type 'falcon'; supported model types: llama, "
        r"mistral, .*bert, opt",
    ) as info:
        bp.ModelConfig.from_hf({"model_type": "falcon", "hidden_size": 4544})
    assert isinstance(info.value, ValueError)


def test_missing_model_type() -> None:
    with pytest.raises(ValueError, match="config has no 'model_type'; supported model types: llama"):
        bp.ModelConfig.from_hf({"hidden_size": 10})


def test_missing_field_named() -> None:
    cfg = llama()
    del cfg["intermediate_size"]
    with pytest.raises(bp.BytepairError, match="llama config is missing required field 'intermediate_size'"):
        bp.ModelConfig.from_hf(cfg)
    gpt2 = bp.models.hf_config("gpt2")
    del gpt2["n_embd"]
    with pytest.raises(
        bp.BytepairError, match="gpt2 config is missing required field 'n_embd' or 'hidden_size'"
    ):
        bp.ModelConfig.from_hf(gpt2)


def test_wrong_type_named() -> None:
    with pytest.raises(
        bp.BytepairError, match="llama config field 'hidden_size' must be an integer, got '4096'"
    ):
        bp.ModelConfig.from_hf(llama(hidden_size="4096"))
    with pytest.raises(bp.BytepairError, match="field 'tie_word_embeddings' must be true or false"):
        bp.ModelConfig.from_hf(llama(tie_word_embeddings="yes"))


def test_heads_not_dividing_hidden() -> None:
    with pytest.raises(
        bp.BytepairError, match=r"hidden_size \(4096\) is not divisible by num_attention_heads \(48\)"
    ):
        bp.ModelConfig.from_hf(llama(num_attention_heads=48, num_key_value_heads=8))
    # with an explicit head_dim it is fine (Gemma-7B style)
    assert (
        bp.ModelConfig.from_hf(llama(num_attention_heads=48, num_key_value_heads=8, head_dim=64)).head_dim
        == 64
    )


def test_kv_heads_not_dividing_heads() -> None:
    with pytest.raises(
        bp.BytepairError, match=r"num_attention_heads \(32\) is not a multiple of num_key_value_heads \(6\)"
    ):
        bp.ModelConfig.from_hf(llama(num_key_value_heads=6))


def test_replace_revalidates() -> None:
    with pytest.raises(bp.BytepairError, match=r"num_key_value_heads \(5\)"):
        dataclasses.replace(bp.models["llama-3-8b"], num_key_value_heads=5)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("vocab_size", 0, "vocab_size must be >= 1, got 0"),
        ("num_hidden_layers", -1, "num_hidden_layers must be >= 1, got -1"),
        ("hidden_size", 4096.0, "hidden_size must be an integer, got 4096.0"),
        ("norm_type", "batchnorm", "norm_type must be one of rmsnorm, layernorm, got 'batchnorm'"),
        ("position_embedding_type", "alibi", "position_embedding_type must be one of rotary, absolute, none"),
    ],
)
def test_direct_construction_errors(field: str, value: Any, message: str) -> None:
    with pytest.raises(bp.BytepairError, match=message):
        dataclasses.replace(bp.models["llama-3-8b"], **{field: value})


def test_moe_inconsistent() -> None:
    cfg = bp.models.hf_config("mixtral-8x7b")
    cfg["num_experts_per_tok"] = 9
    with pytest.raises(
        bp.BytepairError, match=r"num_experts_per_tok \(9\) must be between 1 and num_experts \(8\)"
    ):
        bp.ModelConfig.from_hf(cfg)
    with pytest.raises(bp.BytepairError, match="num_experts is 0 .* but num_experts_per_tok"):
        dataclasses.replace(bp.models["llama-3-8b"], num_experts_per_tok=2)


def test_absolute_positions_need_size() -> None:
    with pytest.raises(
        bp.BytepairError, match="position_embedding_type is 'absolute' but max_position_embeddings is 0"
    ):
        dataclasses.replace(bp.models["gpt2"], max_position_embeddings=0)


def test_unknown_override() -> None:
    with pytest.raises(bp.BytepairError, match="unknown ModelConfig field"):
        bp.ModelConfig.from_hf(llama(), n_experts=3)


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[1, 2]")
    with pytest.raises(bp.BytepairError, match="must hold a JSON object"):
        bp.ModelConfig.from_hf(path)


def test_qwen2_moe_layer_pattern() -> None:
    cfg = bp.models.hf_config("qwen1.5-moe-a2.7b")
    cfg.update(decoder_sparse_step=2, mlp_only_layers=[1])
    c = bp.ModelConfig.from_hf(cfg)
    # layers 1, 3, 5, ... are sparse by step; layer 1 is forced dense
    assert [i for i in range(24) if c.is_moe_layer(i)] == list(range(3, 24, 2))
    assert c.moe_layers == 11 and c.dense_layers == 13
