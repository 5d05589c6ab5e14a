"""``bytepair.compare``, ``ModelConfig.replace`` and ``bytepair shrink`` (issue 11)."""

from __future__ import annotations

import dataclasses

import bytepair as bp
import pytest
from bytepair.cli import main

LLAMA3 = bp.models["llama-3-8b"]


# ---- compare -----------------------------------------------------------------------------------------------
def test_nothing_changed_gives_ratios_of_exactly_one() -> None:
    c = bp.compare(LLAMA3)
    assert c.candidate == LLAMA3
    assert c.changes == {}
    assert c.ratios
    assert all(r == 1 for r in c.ratios.values()), c.ratios
    assert all(type(r) is float for r in c.ratios.values())
    for row in c:
        assert row.base == row.candidate
    assert "changes: none" in c.table()


def test_halving_layers_halves_per_layer_parameters_exactly() -> None:
    c = bp.compare(LLAMA3, num_hidden_layers=16)
    for key in ("blocks", "attention", "mlp", "kv_cache_bytes_per_token", "flops_attention", "flops_mlp"):
        assert c[key].candidate * 2 == c[key].base, key
        assert c[key].ratio == 0.5, key
    for key in ("embedding", "lm_head"):
        assert c[key].ratio == 1.0
        assert c[key].candidate == 525_336_576
    # the final norm (4,096 weights) stays; the 2 norms per block halve
    assert c["norm"].base == 2 * 32 * 4096 + 4096
    assert c["norm"].candidate == 2 * 16 * 4096 + 4096
    assert c["total"].base - c["total"].candidate == c["blocks"].base // 2
    assert c.changes == {"num_hidden_layers": (32, 16)}


def test_rows_agree_with_the_calculators() -> None:
    c = bp.compare(
        LLAMA3, num_hidden_layers=16, hidden_size=3072, vocab_size=32000, dtype="int4", seq_len=4096
    )
    cand = c.candidate
    assert cand.d_head == 96 and cand.kv_heads == 8
    p = bp.count_parameters(cand)
    assert c["total"].candidate == p.total
    assert c["embedding"].candidate == 32000 * 3072
    assert (
        c["weights_bytes"].base == bp.estimate_memory(LLAMA3, weights_dtype="bf16").weights == 16_060_522_496
    )
    assert c["weights_bytes"].candidate == bp.estimate_memory(cand, weights_dtype="int4").weights
    assert c["kv_cache_bytes_per_token"].candidate == bp.kv_cache_bytes(cand, 1) == 2 * 16 * 8 * 96 * 2
    assert c["flops_per_token"].candidate == bp.flops_per_token(cand, 4096).total
    assert c.dtype == "int4" and c.base_dtype == "bf16"
    text = c.table()
    assert "weights bf16 -> int4" in text
    assert "num_hidden_layers 32 -> 16" in text
    assert f"{p.total:,}" in text


def test_tied_head_experts_and_another_model() -> None:
    c = bp.compare(LLAMA3, tie_word_embeddings=True)
    assert c["lm_head"].candidate == 0 and c["lm_head"].ratio == 0.0
    assert c["total"].base - c["total"].candidate == 525_336_576
    moe = bp.compare(LLAMA3, num_experts=8, num_experts_per_tok=2)
    assert "experts" in moe and "active" in moe
    assert moe["experts"].ratio is None  # new component: no ratio
    assert "new" in moe.table()
    assert moe["active"].candidate < moe["total"].candidate
    other = bp.compare(LLAMA3, bp.models["llama-3.2-1b"])
    assert other["total"].candidate == 1_235_814_400
    assert other.changes["num_hidden_layers"] == (32, 16)


def test_encoder_has_no_kv_row() -> None:
    c = bp.compare(bp.models["bert-base-uncased"], num_hidden_layers=6)
    assert "kv_cache_bytes_per_token" not in c
    assert c["blocks"].ratio == 0.5
    with pytest.raises(KeyError, match="no row 'kv_cache_bytes_per_token'"):
        c["kv_cache_bytes_per_token"]


# ---- validation --------------------------------------------------------------------------------------------
def test_hidden_not_divisible_by_heads() -> None:
    with pytest.raises(
        bp.BytepairError, match=r"hidden_size \(3000\) is not divisible by num_attention_heads"
    ):
        bp.compare(LLAMA3, hidden_size=3000)
    with pytest.raises(
        ValueError, match=r"hidden_size \(4096\) is not divisible by num_attention_heads \(24\)"
    ):
        LLAMA3.replace(num_attention_heads=24)


def test_kv_heads_not_dividing_heads() -> None:
    with pytest.raises(
        bp.BytepairError, match=r"num_attention_heads \(32\) is not a multiple of num_key_value_heads \(5\)"
    ):
        bp.compare(LLAMA3, num_key_value_heads=5)
    with pytest.raises(
        bp.BytepairError, match=r"num_attention_heads \(16\) is not a multiple of num_key_value_heads \(3\)"
    ):
        bp.compare(LLAMA3, num_attention_heads=16, num_key_value_heads=3)


def test_other_impossible_values() -> None:
    with pytest.raises(bp.BytepairError, match="num_hidden_layers must be >= 1, got 0"):
        bp.compare(LLAMA3, num_hidden_layers=0)
    with pytest.raises(bp.BytepairError, match="vocab_size must be an integer"):
        bp.compare(LLAMA3, vocab_size=32000.0)
    with pytest.raises(
        bp.BytepairError, match=r"num_experts_per_tok \(3\) must be between 1 and num_experts \(2\)"
    ):
        bp.compare(LLAMA3, num_experts=2, num_experts_per_tok=3)
    with pytest.raises(
        bp.BytepairError,
        match=r"unknown ModelConfig field\(s\): .layers. \(did you mean num_hidden_layers\?\)",
    ):
        bp.compare(LLAMA3, layers=16)
    with pytest.raises(bp.BytepairError, match="unknown weights dtype 'int3'"):
        bp.compare(LLAMA3, dtype="int3")
    with pytest.raises(bp.BytepairError, match="seq_len must be a positive integer"):
        bp.compare(LLAMA3, seq_len=0)
    with pytest.raises(bp.BytepairError, match="base must be a ModelConfig"):
        bp.compare("llama-3-8b")  # type: ignore[arg-type]


# ---- replace -----------------------------------------------------------------------------------------------
def test_replace_derives_head_dim_and_kv_heads_when_they_were_derived() -> None:
    gpt2 = bp.models["gpt2"]  # 12 heads of 64, MHA
    g = gpt2.replace(num_attention_heads=16, hidden_size=1024)
    assert (g.head_dim, g.num_key_value_heads) == (64, 16)
    # GQA: KV heads stay; head_dim follows the width
    s = LLAMA3.replace(hidden_size=2048, num_attention_heads=16)
    assert (s.head_dim, s.num_key_value_heads) == (128, 8)
    # an explicit head_dim (Gemma-7B: 16 x 256 on 3072) is kept
    gemma = bp.models["gemma-7b"]
    assert gemma.replace(num_hidden_layers=14).head_dim == 256
    assert gemma.replace(hidden_size=2048).head_dim == 256
    # explicit overrides win
    assert LLAMA3.replace(hidden_size=3072, head_dim=128).head_dim == 128
    assert LLAMA3.replace(num_hidden_layers=16) == dataclasses.replace(LLAMA3, num_hidden_layers=16)
    assert LLAMA3.num_hidden_layers == 32  # unchanged


def test_replace_unknown_field() -> None:
    with pytest.raises(
        bp.BytepairError,
        match=r"unknown ModelConfig field\(s\): .hidden. \(did you mean hidden_size\?\), .layers.",
    ):
        LLAMA3.replace(layers=16, hidden=2048)
    with pytest.raises(bp.BytepairError, match=r"'kv_heads' \(did you mean num_key_value_heads\?\)"):
        LLAMA3.replace(kv_heads=2)
    with pytest.raises(
        bp.BytepairError, match="unknown ModelConfig field.*'zzz'; fields: model_type, vocab_size"
    ):
        LLAMA3.replace(zzz=1)


# ---- CLI ---------------------------------------------------------------------------------------------------
def test_cli_shrink(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "shrink",
        "llama-3-8b",
        "--layers",
        "16",
        "--hidden",
        "3072",
        "--vocab",
        "32000",
        "--dtype",
        "int4",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    expected = bp.compare(LLAMA3, num_hidden_layers=16, hidden_size=3072, vocab_size=32000, dtype="int4")
    assert out == expected.table() + "\n"


def test_cli_shrink_all_options(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "shrink", "llama-3-8b", "--heads", "16", "--kv-heads", "4", "--head-dim", "128", "--hidden", "2048",
        "--intermediate", "8192", "--untie", "--seq-len", "4096", "--kv-dtype", "fp8", "--base-dtype", "fp16",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    expected = bp.compare(
        LLAMA3,
        num_attention_heads=16,
        num_key_value_heads=4,
        head_dim=128,
        hidden_size=2048,
        intermediate_size=8192,
        tie_word_embeddings=False,
        seq_len=4096,
        kv_dtype="fp8",
        base_dtype="fp16",
    )
    assert out == expected.table() + "\n"
    assert main(["shrink", "llama-3.2-1b", "--untie"]) == 0
    assert "tie_word_embeddings True -> False" in capsys.readouterr().out
    assert main(["shrink", "llama-3-8b", "--tie"]) == 0
    assert "tie_word_embeddings False -> True" in capsys.readouterr().out


def test_cli_shrink_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shrink", "llama-3-8b", "--hidden", "3000"]) == 2
    err = capsys.readouterr().err
    assert "bytepair shrink: error: hidden_size (3000) is not divisible by num_attention_heads (32)" in err
    assert main(["shrink", "llama-3-8b", "--kv-heads", "5"]) == 2
    assert "num_attention_heads (32) is not a multiple of num_key_value_heads (5)" in capsys.readouterr().err
    assert main(["shrink", "no-such-model"]) == 2
    assert "neither a file nor a catalog model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["shrink", "llama-3-8b", "--tie", "--untie"])
