"""FLOPs per token (Kaplan et al. 2020) against published figures (issue 8)."""

from __future__ import annotations

import bytepair as bp
import pytest


def test_mixtral_uses_active_parameters() -> None:
    cfg = bp.models["mixtral-8x7b"]
    f = bp.flops_per_token(cfg, 4096)
    # 12.9B active, minus the input-embedding lookup (no FLOPs); the untied lm_head is a real matmul.
    assert f.active_parameters == 12_879_925_248 - 2 * 32000 * 4096  # Kaplan's N: no vocabulary tables
    assert f.total == 2 * (12_879_925_248 - 32000 * 4096) + 2 * 32 * 4096 * 4096
    dense_equivalent = 2 * 46_702_792_704
    assert f.total < dense_equivalent / 3


def test_gpt3_training_compute() -> None:
    # Brown et al. 2020, Table D.1: GPT-3 175B trained on 300B tokens took 3.14e23 FLOPs.
    f = bp.flops_per_token(bp.models["gpt3-175b"], 2048, training=True)
    assert f.total * 300e9 == pytest.approx(3.14e23, rel=0.02)


def test_kaplan_context_ratio() -> None:
    # Kaplan et al. 2020, sec. 2.1: the context term is n_ctx / (12 d_model) of 2N for GPT-style models.
    f = bp.flops_per_token(bp.models["gpt3-175b"], 2048)
    ratio = f.attention_context / (f.attention_proj + f.mlp + f.other)
    assert ratio == pytest.approx(2048 / (12 * 12288), rel=1e-3)


def test_training_is_three_times_forward() -> None:
    cfg = bp.models["llama-3-8b"]
    fwd, train = bp.flops_per_token(cfg, 8192), bp.flops_per_token(cfg, 8192, training=True)
    assert train.total == 3 * fwd.total
    assert train.attention_context == 3 * fwd.attention_context
    assert fwd.attention_context == 2 * 32 * 8192 * 4096


def test_gemma_d_attn_uses_head_dim() -> None:
    # d_attn = 16 heads x 256 = 4096 on a 3072-wide model
    f = bp.flops_per_token(bp.models["gemma-7b"], 1000)
    assert f.attention_context == 2 * 28 * 1000 * 4096


def test_attention_share_grows_with_context_shrinks_with_width() -> None:
    cfg = bp.models["gpt2"]
    shares = [bp.flops_per_token(cfg, n).attention_share for n in (128, 1024, 8192, 65536)]
    assert shares == sorted(shares) and shares[-1] > 0.5
    small = bp.flops_per_token(bp.models["gpt2"], 1024).context_share
    xl = bp.flops_per_token(bp.models["gpt2-xl"], 1024).context_share
    big = bp.flops_per_token(bp.models["gpt3-175b"], 1024).context_share
    assert small > xl > big


def test_bert_has_no_lm_head_flops() -> None:
    f = bp.flops_per_token(bp.models["bert-base-uncased"], 512)
    assert f.lm_head == 0
    # the pooler runs once per sequence, not per token, so it is left out
    p = bp.count_parameters(bp.models["bert-base-uncased"])
    assert f.total - f.attention_context == 2 * (p.non_embedding - p.other)


def test_table() -> None:
    text = bp.flops_per_token(bp.models["llama-3-8b"], 8192, training=True).table()
    assert "training (forward + backward)" in text and "attention context" in text


@pytest.mark.parametrize("seq_len", [0, -5, 1.5, True])
def test_bad_seq_len(seq_len: object) -> None:
    with pytest.raises(bp.BytepairError, match="seq_len must be a positive integer"):
        bp.flops_per_token(bp.models["gpt2"], seq_len)  # type: ignore[arg-type]
