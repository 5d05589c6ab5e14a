"""Memory estimates against published figures (issue 8): exact bytes, GB vs GiB."""

from __future__ import annotations

import bytepair as bp
import pytest
from bytepair.params import tensor_layout

GIB = 2**30


def linear_params(name: str) -> int:
    """Parameters in the quantizable linear layers (everything but tables, norms, biases, routers)."""
    return sum(
        t.total for t in tensor_layout(bp.models[name]) if t.kind == "linear" and t.component != "router"
    )


def test_llama3_8b_bf16_weights() -> None:
    m = bp.estimate_memory(bp.models["llama-3-8b"], weights_dtype="bf16")
    assert m.weights == m.total == 16_060_522_496
    assert bp.format_bytes(m.weights) == "16,060,522,496 B = 16.06 GB = 14.96 GiB"
    assert "16.06" in m.table() and "14.96" in m.table()


def test_dtype_aliases_and_fp32() -> None:
    cfg = bp.models["llama-3-8b"]
    assert bp.estimate_memory(cfg, weights_dtype="bfloat16").weights == 16_060_522_496
    assert bp.estimate_memory(cfg, weights_dtype="fp32").weights == 4 * 8_030_261_248


def test_kv_cache_gqa() -> None:
    llama3 = bp.models["llama-3-8b"]
    assert bp.kv_cache_bytes(llama3, 1) == 131_072
    assert bp.kv_cache_bytes(llama3, 8192) == GIB
    assert bp.kv_cache_bytes(bp.models["llama-2-7b"], 1) == 524_288
    # Gemma-2B, MQA with head_dim 256: 2 x 18 x 1 x 256 x 2 bytes
    assert bp.kv_cache_bytes(bp.models["gemma-2b"], 1) == 18_432
    # KV dtype is independent of the weights; fp8 halves bf16
    assert bp.kv_cache_bytes(llama3, 8192, batch=4, dtype="fp8") == 2 * GIB


def test_kv_cache_in_estimate() -> None:
    m = bp.estimate_memory(
        bp.models["llama-3-8b"], weights_dtype="int4", kv_cache=bp.KVCacheSpec(seq_len=8192, batch=4)
    )
    assert m.items["kv_cache"] == 4 * GIB
    m2 = bp.estimate_memory(bp.models["llama-3-8b"], kv_cache={"seq_len": 8192, "dtype": "fp16"})
    assert m2.items["kv_cache"] == GIB and m2.total == 16_060_522_496 + GIB


def test_mixtral_weights_use_all_experts() -> None:
    m = bp.estimate_memory(bp.models["mixtral-8x7b"], weights_dtype="bf16")
    assert m.weights == 2 * 46_702_792_704


def test_nf4_is_4_5_bits_qlora() -> None:
    # QLoRA (Dettmers et al. 2023): 32/64 = 0.5 extra bits per parameter without double quantization,
    # 8/64 + 32/(64*256) = 0.127 with it. All Llama-2-7B matrices are multiples of 64*256 elements.
    n = linear_params("llama-2-7b")
    nf4 = bp.estimate_memory(bp.models["llama-2-7b"], weights_dtype="nf4").weights_detail
    assert nf4["quantized"] * 8 == 4 * n
    assert nf4["scales"] * 8 == n * 32 // 64
    dq = bp.estimate_memory(bp.models["llama-2-7b"], weights_dtype="nf4-dq").weights_detail
    assert (dq["quantized"] + dq["scales"]) * 8 / n == pytest.approx(4.127, abs=5e-4)
    assert dq["scales"] * 8 == n * 8 // 64 + n * 32 // (64 * 256)


def test_int4_group_128() -> None:
    # 4 bits + one fp16 scale per 128 weights = 4.125 bits per linear weight
    n = linear_params("llama-2-7b")
    m = bp.estimate_memory(bp.models["llama-2-7b"], weights_dtype="int4")
    assert (m.weights_detail["quantized"] + m.weights_detail["scales"]) * 8 == n * 4125 // 1000
    # embeddings and lm_head stay in 16 bits, as do norms: 2 x 32000 x 4096 + 65 x 4096 norm weights
    assert m.weights_detail["unquantized"] == 2 * (2 * 32000 * 4096 + 65 * 4096)
    q = bp.estimate_memory(bp.models["llama-2-7b"], weights_dtype="int4", quantize_embeddings=True)
    assert q.weights_detail["unquantized"] == 2 * 65 * 4096
    g64 = bp.estimate_memory(bp.models["llama-2-7b"], weights_dtype="int4", group_size=64)
    assert g64.weights_detail["scales"] == 2 * m.weights_detail["scales"]


def test_quantized_tensor_bytes() -> None:
    shape = (4096, 11008)
    n = 4096 * 11008
    assert bp.quantized_tensor_bytes(shape, "int8") == n + 4096 * 4  # fp32 scale per row (LLM.int8 SCB)
    assert bp.quantized_tensor_bytes(shape, "fp8") == n + 4  # per-tensor fp32 scale
    assert bp.quantized_tensor_bytes(shape, "int4") == n // 2 + 4096 * 86 * 2  # 11008 / 128 = 86 groups
    assert bp.quantized_tensor_bytes((10, 100), "int4") == 500 + 10 * 1 * 2  # a partial group costs a scale
    assert bp.quantized_tensor_bytes((65,), "nf4") == 33 + 2 * 4  # 2 blocks of 64, ceil


def test_zero_paper_figure_1() -> None:
    # Rajbhandari et al. 2020, Figure 1: 7.5B parameters, 64 GPUs, K = 12:
    # 120 GB baseline, 31.4 GB (P_os), 16.6 GB (P_os+g), 1.9 GB (P_os+g+p).
    psi = 7_500_000_000
    totals = [sum(bp.zero_memory(psi, stage=s, num_gpus=64).values()) for s in range(4)]
    assert totals == [120_000_000_000, 31_406_250_000, 16_640_625_000, 1_875_000_000]
    assert [round(t / 1e9, 1) for t in totals] == [120.0, 31.4, 16.6, 1.9]


def test_full_training_16_bytes_per_param() -> None:
    cfg = bp.models["llama-3-8b"]
    m = bp.estimate_memory(cfg, weights_dtype="bf16", training=bp.TrainingSpec())
    assert m.total == 16 * 8_030_261_248
    assert m.items == {
        "weights": 2 * 8_030_261_248,
        "gradients": 2 * 8_030_261_248,
        "master_weights": 4 * 8_030_261_248,
        "optimizer_states": 8 * 8_030_261_248,
    }
    z3 = bp.estimate_memory(cfg, weights_dtype="bf16", training={"zero_stage": 3, "num_gpus": 8})
    assert z3.total == 2 * 8_030_261_248  # 16 bytes / 8 GPUs
    fp32_grads = bp.estimate_memory(cfg, training=bp.TrainingSpec(grad_dtype="fp32"))
    assert fp32_grads.total == 18 * 8_030_261_248
    pure_fp32 = bp.estimate_memory(cfg, weights_dtype="fp32", training=bp.TrainingSpec())
    assert pure_fp32.total == 16 * 8_030_261_248 and "master_weights" not in pure_fp32.items


def test_lora_parameters_match_peft() -> None:
    # peft's print_trainable_parameters for Llama-2-7B, r=8 on q_proj/v_proj: 4,194,304
    assert bp.lora_parameters(bp.models["llama-2-7b"], bp.LoRASpec(rank=8)) == 4_194_304
    # Llama-3-8B, r=16 on all linear layers (GQA shrinks k/v): 41,943,040
    assert bp.lora_parameters(bp.models["llama-3-8b"], bp.LoRASpec(16, "all-linear")) == 41_943_040


def test_qlora_training() -> None:
    cfg = bp.models["llama-3-8b"]
    m = bp.estimate_memory(
        cfg, weights_dtype="nf4", lora=bp.LoRASpec(16, "all-linear"), training=bp.TrainingSpec()
    )
    n = 41_943_040
    assert m.trainable_parameters == m.lora_parameters == n
    assert m.items["lora_adapters"] == 2 * n and m.items["gradients"] == 2 * n
    assert m.items["master_weights"] == 4 * n and m.items["optimizer_states"] == 8 * n
    assert m.items["weights"] == bp.estimate_memory(cfg, weights_dtype="nf4").weights


def test_bad_inputs() -> None:
    cfg = bp.models["llama-3-8b"]
    with pytest.raises(
        bp.BytepairError, match="unknown weights dtype 'int3'; supported: fp32, fp16, bf16, fp8"
    ):
        bp.estimate_memory(cfg, weights_dtype="int3")
    with pytest.raises(bp.BytepairError, match="unknown KV cache dtype 'int4'"):
        bp.kv_cache_bytes(cfg, 10, dtype="int4")
    with pytest.raises(bp.BytepairError, match="seq_len and batch must be >= 1"):
        bp.kv_cache_bytes(cfg, 0)
    with pytest.raises(bp.BytepairError, match="bert is an encoder-only model: it has no KV cache"):
        bp.kv_cache_bytes(bp.models["bert-base-uncased"], 512)
    with pytest.raises(bp.BytepairError, match="full training needs fp32, fp16 or bf16 weights, not nf4"):
        bp.estimate_memory(cfg, weights_dtype="nf4", training=bp.TrainingSpec())
    with pytest.raises(bp.BytepairError, match="kv_cache is an inference figure"):
        bp.estimate_memory(cfg, kv_cache=bp.KVCacheSpec(10), training=bp.TrainingSpec())
    with pytest.raises(bp.BytepairError, match="ZeRO stage must be 0, 1, 2 or 3, got 4"):
        bp.estimate_memory(cfg, training=bp.TrainingSpec(zero_stage=4, num_gpus=8))
    with pytest.raises(bp.BytepairError, match="num_gpus must be >= 1, got 0"):
        bp.zero_memory(10, num_gpus=0)
    with pytest.raises(bp.BytepairError, match="unknown optimizer 'lion'; supported: adam, adamw, sgd"):
        bp.estimate_memory(cfg, training=bp.TrainingSpec(optimizer="lion"))
    with pytest.raises(bp.BytepairError, match="LoRA rank must be >= 1, got 0"):
        bp.lora_parameters(cfg, bp.LoRASpec(0))
    with pytest.raises(
        bp.BytepairError, match="LoRA target module 'c_attn' is not known; use one of: q_proj"
    ):
        bp.lora_parameters(cfg, bp.LoRASpec(8, ("c_attn",)))
    with pytest.raises(bp.BytepairError, match="'gate_proj' is not in this gpt2 model; use one of: q_proj"):
        bp.lora_parameters(bp.models["gpt2"], bp.LoRASpec(8, ("gate_proj",)))
    with pytest.raises(bp.BytepairError, match="bad kv_cache options"):
        bp.estimate_memory(cfg, kv_cache={"seq": 10})
    with pytest.raises(bp.BytepairError, match="training must be a TrainingSpec or a dict, got int"):
        bp.estimate_memory(cfg, training=3)  # type: ignore[arg-type]
    with pytest.raises(bp.BytepairError, match="group_size must be >= 1, got 0"):
        bp.estimate_memory(cfg, weights_dtype="int4", group_size=0)
