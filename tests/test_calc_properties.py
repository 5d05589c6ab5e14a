"""Property tests for the calculators against closed-form references (issue 8).

The references are the textbook formulas written out by hand, independent of ``tensor_layout``. The example
count comes from ``BYTEPAIR_HYPOTHESIS_EXAMPLES`` so CI can raise it.
"""

from __future__ import annotations

import dataclasses
import os

import bytepair as bp
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("BYTEPAIR_HYPOTHESIS_EXAMPLES", "200"))

dims = st.integers(min_value=1, max_value=64)


@st.composite
def gpt2_configs(draw: st.DrawFn) -> tuple[bp.ModelConfig, int, int, int, int, int]:
    heads, head_dim = draw(dims), draw(dims)
    d = heads * head_dim
    v, L, p, i = (
        draw(st.integers(1, 5000)),
        draw(st.integers(1, 48)),
        draw(st.integers(1, 4096)),
        draw(dims) * 4,
    )
    cfg = bp.ModelConfig.from_hf(
        {
            "model_type": "gpt2",
            "vocab_size": v,
            "n_embd": d,
            "n_layer": L,
            "n_head": heads,
            "n_positions": p,
            "n_inner": i,
        }
    )
    return cfg, v, d, L, p, i


@st.composite
def llama_configs(draw: st.DrawFn) -> tuple[bp.ModelConfig, int, int, int, int, int, int, int, bool]:
    kv, group, hd = draw(st.integers(1, 16)), draw(st.integers(1, 8)), draw(dims)
    heads = kv * group
    d, v, L, i = draw(st.integers(1, 2048)), draw(st.integers(1, 5000)), draw(st.integers(1, 48)), draw(dims)
    tie = draw(st.booleans())
    cfg = bp.ModelConfig.from_hf(
        {
            "model_type": "llama",
            "vocab_size": v,
            "hidden_size": d,
            "intermediate_size": i,
            "num_hidden_layers": L,
            "num_attention_heads": heads,
            "num_key_value_heads": kv,
            "head_dim": hd,
            "tie_word_embeddings": tie,
        }
    )
    return cfg, v, d, L, i, heads, kv, hd, tie


@settings(max_examples=EXAMPLES, deadline=None)
@given(gpt2_configs())
def test_gpt2_closed_form(args: tuple[bp.ModelConfig, int, int, int, int, int]) -> None:
    cfg, v, d, L, p, i = args
    # per block: c_attn d x 3d + 3d, c_proj d x d + d, c_fc d x i + i, c_proj i x d + d, two LayerNorms 4d
    block = 3 * d * d + 3 * d + d * d + d + 2 * d * i + i + d + 4 * d
    expected = v * d + p * d + L * block + 2 * d
    count = bp.count_parameters(cfg)
    assert count.total == expected
    assert count.non_embedding == L * block + 2 * d
    untied = bp.count_parameters(dataclasses.replace(cfg, tie_word_embeddings=False))
    assert untied.total == expected + v * d


@settings(max_examples=EXAMPLES, deadline=None)
@given(llama_configs(), st.integers(1, 10_000), st.integers(1, 8))
def test_llama_closed_form_and_kv_cache(
    args: tuple[bp.ModelConfig, int, int, int, int, int, int, int, bool], seq: int, batch: int
) -> None:
    cfg, v, d, L, i, heads, kv, hd, tie = args
    block = 2 * d * heads * hd + 2 * d * kv * hd + 3 * d * i + 2 * d
    assert bp.count_parameters(cfg).total == v * d * (1 if tie else 2) + L * block + d
    assert bp.kv_cache_bytes(cfg, seq, batch=batch) == 2 * L * kv * hd * seq * batch * 2
    assert bp.estimate_memory(cfg, weights_dtype="fp32").weights == 4 * bp.count_parameters(cfg).total


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.integers(0, 10**12), st.integers(1, 1024))
def test_zero_stages_never_increase_and_stage3_divides(psi: int, n: int) -> None:
    totals = [sum(bp.zero_memory(psi, stage=s, num_gpus=n).values()) for s in range(4)]
    assert totals[0] == 16 * psi
    assert totals == sorted(totals, reverse=True)
    assert totals[3] == 16 * -(-psi // n)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.integers(1, 512), st.integers(1, 4096), st.sampled_from([32, 64, 128]))
def test_quantized_bytes_bounds(rows: int, cols: int, group: int) -> None:
    n = rows * cols
    int4 = bp.quantized_tensor_bytes((rows, cols), "int4", group_size=group)
    assert int4 == (n + 1) // 2 + rows * -(-cols // group) * 2
    nf4 = bp.quantized_tensor_bytes((rows, cols), "nf4")
    dq = bp.quantized_tensor_bytes((rows, cols), "nf4-dq")
    assert (n + 1) // 2 < dq
    if n > 64:  # from two 64-blocks on, 8-bit absmax + an fp32 per 256 blocks is cheaper than fp32 absmax
        assert dq < nf4
    assert bp.quantized_tensor_bytes((rows, cols), "bf16") == 2 * n
