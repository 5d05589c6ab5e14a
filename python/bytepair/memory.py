"""Memory needed by a model's weights, KV cache, training state and LoRA adapters, exact in bytes.

Every figure is an ``int`` number of bytes; :func:`format_bytes` shows it as both GB (10^9 bytes) and GiB
(2^30 bytes), which differ by 7.4% and are often confused. Activations (which depend on the implementation,
sequence length and checkpointing) and framework overhead (CUDA context, allocator fragmentation) are not
included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._core import BytepairError
from .config import ModelConfig
from .params import LINEAR_MODULES, TensorSpec, count_parameters, tensor_layout

__all__ = [
    "FLOAT_DTYPES",
    "WEIGHT_DTYPES",
    "KVCacheSpec",
    "LoRASpec",
    "MemoryEstimate",
    "TrainingSpec",
    "estimate_memory",
    "format_bytes",
    "kv_cache_bytes",
    "lora_parameters",
    "quantized_tensor_bytes",
    "zero_memory",
]

GB = 10**9
GiB = 2**30

#: Bytes per element of the unquantized dtypes.
FLOAT_DTYPES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2}
#: Weight formats understood by :func:`estimate_memory` (``nf4-dq`` is NF4 with double quantization).
WEIGHT_DTYPES: tuple[str, ...] = ("fp32", "fp16", "bf16", "fp8", "int8", "int4", "nf4", "nf4-dq")
#: KV cache element formats (1-byte formats without scale overhead).
KV_DTYPES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}
_ALIASES = {
    "float32": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "float8": "fp8",
    "fp8_e4m3": "fp8",
    "e4m3": "fp8",
    "nf4_dq": "nf4-dq",
    "nf4+dq": "nf4-dq",
}
_OPTIMIZER_BYTES = {"adam": 8, "adamw": 8, "sgd": 4}  # fp32 states per parameter: Adam m and v; SGD momentum

NF4_BLOCK = 64  # QLoRA: one fp32 absmax per 64 weights
DQ_BLOCK = 256  # QLoRA double quantization: absmax in 8 bits, one fp32 scale per 256 absmax values


def _dtype(name: str, allowed: Mapping[str, Any] | tuple[str, ...], what: str) -> str:
    key = _ALIASES.get(name.lower(), name.lower()) if isinstance(name, str) else name
    if key not in allowed:
        raise BytepairError(f"unknown {what} {name!r}; supported: {', '.join(allowed)}")
    return key


def format_bytes(n: int) -> str:
    """Show a byte count exactly and in both decimal and binary units.

    Args:
        n: Bytes.

    Returns:
        E.g. ``"16,060,522,496 B = 16.06 GB = 14.96 GiB"`` (GB = 10^9 bytes, GiB = 2^30 bytes).
    """
    return f"{n:,} B = {n / GB:,.2f} GB = {n / GiB:,.2f} GiB"


def quantized_tensor_bytes(shape: tuple[int, ...], dtype: str, *, group_size: int = 128) -> int:
    """Bytes of one linear weight matrix stored in ``dtype``, scale overhead included.

    Formats and their overhead (``numel = out * in`` for a PyTorch ``(out, in)`` weight):

    * ``fp32``/``fp16``/``bf16``: 4/2/2 bytes per weight, no overhead.
    * ``fp8``: 1 byte per weight plus one fp32 scale per tensor (per-tensor scaling as in FP8 checkpoints,
      Micikevicius et al. 2022, "FP8 Formats for Deep Learning").
    * ``int8``: 1 byte per weight plus one fp32 absmax scale per output row (vector-wise quantization of
      LLM.int8(), Dettmers et al. 2022; bitsandbytes stores it as ``SCB``).
    * ``int4``: 4 bits per weight plus one fp16 scale per group of ``group_size`` consecutive input weights
      of each row, i.e. ``out * ceil(in / group_size) * 2`` bytes (symmetric GPTQ/AWQ-style group
      quantization, Frantar et al. 2022; zero points not stored). At group size 128: 4.125 bits per weight.
    * ``nf4``: 4 bits per weight plus one fp32 absmax per block of 64 weights: 4 + 32/64 = 4.5 bits
      (QLoRA, Dettmers et al. 2023, sec. 3).
    * ``nf4-dq``: NF4 with double quantization: the absmax values are stored in 8 bits, with one fp32 scale
      per block of 256 absmax values: 4 + 8/64 + 32/(64 * 256) = 4.127 bits (QLoRA, sec. 3).

    Blocks and groups are counted with ``ceil``, so partial blocks cost a full scale.

    Args:
        shape: ``(out_features, in_features)`` (any shape for the blockwise formats).
        dtype: One of :data:`WEIGHT_DTYPES`.
        group_size: int4 group size along the input dimension.

    Returns:
        Bytes.

    Raises:
        BytepairError: (a ``ValueError``) for an unknown dtype or a non-positive group size.
    """
    dtype = _dtype(dtype, WEIGHT_DTYPES, "weights dtype")
    numel = math.prod(shape)
    if dtype in FLOAT_DTYPES:
        return numel * FLOAT_DTYPES[dtype]
    if dtype == "fp8":
        return numel + 4
    if dtype == "int8":
        return numel + shape[0] * 4
    packed = (numel + 1) // 2
    if dtype == "int4":
        if group_size < 1:
            raise BytepairError(f"group_size must be >= 1, got {group_size}")
        rows, cols = (shape[0], math.prod(shape[1:])) if len(shape) > 1 else (1, numel)
        return packed + rows * -(-cols // group_size) * 2
    blocks = -(-numel // NF4_BLOCK)
    if dtype == "nf4":
        return packed + blocks * 4
    return packed + blocks + -(-blocks // DQ_BLOCK) * 4  # nf4-dq


def kv_cache_bytes(cfg: ModelConfig, seq_len: int, *, batch: int = 1, dtype: str = "bf16") -> int:
    """Bytes of the key/value cache: ``2 x layers x kv_heads x head_dim x seq_len x batch x bytes``.

    Uses ``num_key_value_heads`` (GQA/MQA shrink the cache) and ``head_dim`` from the config. No
    sliding-window cap is applied.

    Args:
        cfg: The model config (a decoder).
        seq_len: Tokens cached per sequence.
        batch: Sequences.
        dtype: Element format, one of ``fp32, fp16, bf16, fp8, int8``.

    Returns:
        Bytes.

    Raises:
        BytepairError: (a ``ValueError``) for an encoder-only model, a non-positive ``seq_len`` or
            ``batch``, or an unknown dtype.
    """
    if not cfg.is_decoder:
        raise BytepairError(f"{cfg.model_type} is an encoder-only model: it has no KV cache")
    if seq_len < 1 or batch < 1:
        raise BytepairError(f"seq_len and batch must be >= 1, got seq_len={seq_len}, batch={batch}")
    nbytes = KV_DTYPES[_dtype(dtype, KV_DTYPES, "KV cache dtype")]
    return 2 * cfg.num_hidden_layers * cfg.kv_heads * cfg.d_head * seq_len * batch * nbytes


def zero_memory(
    num_params: int,
    *,
    stage: int = 0,
    num_gpus: int = 1,
    weight_bytes: int = 2,
    grad_bytes: int = 2,
    master_bytes: int = 4,
    optimizer_bytes: int = 8,
) -> dict[str, int]:
    """Per-GPU bytes of the model states of data-parallel training under ZeRO.

    Mixed-precision Adam keeps, per parameter, a 16-bit weight (2 bytes) and gradient (2 bytes) plus an fp32
    master weight, momentum and variance (K = 12 bytes): 16 bytes in all (Rajbhandari et al. 2020, "ZeRO:
    Memory Optimizations Toward Training Trillion Parameter Models", sec. 3.1). Over N GPUs, stage 1
    partitions the optimizer states (``(2 + 2) psi + K psi / N``), stage 2 also the gradients
    (``2 psi + (2 + K) psi / N``), stage 3 also the weights (``(2 + 2 + K) psi / N``) (same paper, sec. 5.1
    and Figure 1). A partition holds ``ceil(psi / N)`` elements (the flat buffer is padded to a multiple of
    N).

    Args:
        num_params: Trainable parameters psi.
        stage: ZeRO stage 0 (plain data parallelism) to 3.
        num_gpus: Data-parallel degree N.
        weight_bytes: Bytes per working weight (2 for fp16/bf16).
        grad_bytes: Bytes per gradient element.
        master_bytes: Bytes per master weight (4 for an fp32 copy; 0 when training in fp32).
        optimizer_bytes: Bytes of optimizer state per parameter (8 for Adam's fp32 m and v).

    Returns:
        ``{"weights", "gradients", "master_weights", "optimizer_states"}`` in bytes per GPU.

    Raises:
        BytepairError: (a ``ValueError``) if ``stage`` is not 0-3 or ``num_gpus``/``num_params`` is invalid.
    """
    if stage not in (0, 1, 2, 3):
        raise BytepairError(f"ZeRO stage must be 0, 1, 2 or 3, got {stage}")
    if num_gpus < 1:
        raise BytepairError(f"num_gpus must be >= 1, got {num_gpus}")
    if num_params < 0:
        raise BytepairError(f"num_params must be >= 0, got {num_params}")
    shard = -(-num_params // num_gpus)
    return {
        "weights": (shard if stage >= 3 else num_params) * weight_bytes,
        "gradients": (shard if stage >= 2 else num_params) * grad_bytes,
        "master_weights": (shard if stage >= 1 else num_params) * master_bytes,
        "optimizer_states": (shard if stage >= 1 else num_params) * optimizer_bytes,
    }


@dataclass(frozen=True)
class KVCacheSpec:
    """An inference KV cache.

    Attributes:
        seq_len: Tokens per sequence.
        batch: Sequences.
        dtype: Element format (``fp32, fp16, bf16, fp8, int8``), independent of the weights' format.
    """

    seq_len: int
    batch: int = 1
    dtype: str = "bf16"


@dataclass(frozen=True)
class TrainingSpec:
    """Data-parallel training with an optimizer, optionally under ZeRO.

    Attributes:
        optimizer: ``"adam"``/``"adamw"`` (fp32 m and v, 8 bytes/param) or ``"sgd"`` (fp32 momentum, 4 bytes).
        grad_dtype: Gradient format; ``None`` means the trainable weights' format.
        master_weights: Keep an fp32 master copy; ``None`` means yes when the trainable weights are 16-bit.
        zero_stage: ZeRO stage 0-3 (see :func:`zero_memory`).
        num_gpus: Data-parallel degree.
    """

    optimizer: str = "adam"
    grad_dtype: str | None = None
    master_weights: bool | None = None
    zero_stage: int = 0
    num_gpus: int = 1


@dataclass(frozen=True)
class LoRASpec:
    """LoRA adapters (Hu et al. 2021): ``A`` (rank x in) and ``B`` (out x rank) beside each targeted matrix.

    Attributes:
        rank: Adapter rank r.
        target_modules: Canonical linear-layer names (``q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
            down_proj``; fused QKV layers such as GPT-2's ``c_attn`` are treated as their separate
            projections),
            or ``"all-linear"`` for all of them. Routed experts' projections are included. Default: q and v,
            as in the LoRA paper.
        dtype: Adapter weight format.
    """

    rank: int
    target_modules: tuple[str, ...] | str = ("q_proj", "v_proj")
    dtype: str = "bf16"


def lora_parameters(cfg: ModelConfig, lora: LoRASpec) -> int:
    """Parameters of the LoRA adapters: ``rank x (in + out)`` per targeted matrix and copy.

    Args:
        cfg: The model config.
        lora: Rank and target modules.

    Returns:
        Adapter parameters.

    Raises:
        BytepairError: (a ``ValueError``) for a rank below 1 or a target name that is unknown or absent from
            this model; the message lists the valid names.
    """
    if lora.rank < 1:
        raise BytepairError(f"LoRA rank must be >= 1, got {lora.rank}")
    layout = [t for t in tensor_layout(cfg) if t.module]
    present = list(dict.fromkeys(t.module for t in layout))
    targets = (
        present
        if lora.target_modules == "all-linear"
        else list((lora.target_modules,) if isinstance(lora.target_modules, str) else lora.target_modules)
    )
    for name in targets:
        if name not in present:
            where = "known" if name not in LINEAR_MODULES else f"in this {cfg.model_type} model"
            raise BytepairError(
                f"LoRA target module {name!r} is not {where}; "
                f"use one of: {', '.join(present)} or 'all-linear'"
            )
    return sum(lora.rank * (t.shape[0] + t.shape[1]) * t.copies for t in layout if t.module in targets)


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory of a model, per GPU, in bytes.

    Attributes:
        config: The model config.
        weights_dtype: Format of the weights.
        items: Bytes per GPU by part: ``weights``, ``kv_cache``, ``lora_adapters``, ``gradients``,
            ``master_weights``, ``optimizer_states`` (absent parts are left out).
        weights_detail: Bytes of the weights split into ``quantized`` (linear weights' data), ``scales``
            (quantization overhead) and ``unquantized`` (tables, norms, biases, routers), for one full copy.
        trainable_parameters: Parameters with gradients and optimizer state (0 for inference).
        lora_parameters: LoRA adapter parameters (0 without LoRA).
        num_gpus: GPUs the training state is spread over (1 for inference).
        zero_stage: ZeRO stage (0 if not training).
    """

    config: ModelConfig
    weights_dtype: str
    items: dict[str, int]
    weights_detail: dict[str, int] = field(default_factory=dict)
    trainable_parameters: int = 0
    lora_parameters: int = 0
    num_gpus: int = 1
    zero_stage: int = 0

    @property
    def total(self) -> int:
        """Total bytes per GPU."""
        return sum(self.items.values())

    @property
    def weights(self) -> int:
        """Bytes of the weights per GPU."""
        return self.items.get("weights", 0)

    def table(self) -> str:
        """A human-readable table in bytes, GB (10^9) and GiB (2^30)."""
        title = self.config.name or self.config.model_type
        per = f" per GPU (ZeRO-{self.zero_stage}, {self.num_gpus} GPUs)" if self.num_gpus > 1 else ""
        lines = [
            f"{title}: memory, weights in {self.weights_dtype}{per}",
            f"{'part':<18}{'bytes':>20}{'GB':>12}{'GiB':>12}",
        ]
        for name, n in [*self.items.items(), ("total", self.total)]:
            lines.append(f"{name:<18}{n:>20,}{n / GB:>12,.2f}{n / GiB:>12,.2f}")
        if self.lora_parameters:
            lines.append(f"LoRA adapter parameters: {self.lora_parameters:,}")
        lines.append("activations and framework overhead are not included")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _coerce(spec: Any, cls: Any, what: str) -> Any:
    if spec is None or isinstance(spec, cls):
        return spec
    if isinstance(spec, Mapping):
        try:
            return cls(**spec)
        except TypeError as exc:
            raise BytepairError(f"bad {what} options: {exc}") from None
    raise BytepairError(f"{what} must be a {cls.__name__} or a dict, got {type(spec).__name__}")


def _weights(
    layout: list[TensorSpec], dtype: str, group_size: int, quantize_embeddings: bool
) -> dict[str, int]:
    if dtype in FLOAT_DTYPES:
        return {
            "quantized": 0,
            "scales": 0,
            "unquantized": sum(t.total for t in layout) * FLOAT_DTYPES[dtype],
        }
    detail = {"quantized": 0, "scales": 0, "unquantized": 0}
    for t in layout:
        # Quantizers compress the linear layers and keep tables, norms, biases and MoE routers in 16 bits.
        if (t.kind == "linear" and t.component != "router") or (t.kind == "table" and quantize_embeddings):
            data = quantized_tensor_bytes(t.shape, dtype, group_size=group_size)
            raw = t.numel if dtype in ("fp8", "int8") else (t.numel + 1) // 2
            detail["quantized"] += raw * t.copies
            detail["scales"] += (data - raw) * t.copies
        else:
            detail["unquantized"] += t.total * 2
    return detail


def estimate_memory(
    cfg: ModelConfig,
    *,
    weights_dtype: str = "bf16",
    kv_cache: KVCacheSpec | Mapping[str, Any] | None = None,
    training: TrainingSpec | Mapping[str, Any] | None = None,
    lora: LoRASpec | Mapping[str, Any] | None = None,
    group_size: int = 128,
    quantize_embeddings: bool = False,
) -> MemoryEstimate:
    """Estimate the memory of weights, KV cache, training state and LoRA adapters, exactly in bytes.

    Weights: all parameters (every expert of an MoE model, not only the active ones) in ``weights_dtype``. For
    the quantized formats (``fp8, int8, int4, nf4, nf4-dq``) only linear weights are quantized, with the scale
    overhead of :func:`quantized_tensor_bytes`; embeddings, lm_head, norms, biases and routers stay in 16 bits
    as quantizers (bitsandbytes, GPTQ, AWQ) leave them.

    KV cache: :func:`kv_cache_bytes`.

    Training: full fine-tuning trains every parameter (``weights_dtype`` must then be fp32, fp16 or bf16);
    with ``lora`` only the adapters are trained and the base weights stay frozen (QLoRA when the base is
    ``nf4``). Gradients, fp32 master weights and optimizer states follow :func:`zero_memory` (16 bytes/param
    for mixed-precision Adam, ZeRO paper); under ZeRO-3 the frozen base weights are partitioned too.

    Args:
        cfg: The model config.
        weights_dtype: One of :data:`WEIGHT_DTYPES` (``float32``/``bfloat16``... are accepted too).
        kv_cache: A :class:`KVCacheSpec` (or a dict of its fields) for inference.
        training: A :class:`TrainingSpec` (or dict) to add gradients and optimizer state.
        lora: A :class:`LoRASpec` (or dict) to add adapters (trained if ``training`` is given).
        group_size: int4 group size.
        quantize_embeddings: Quantize the embedding and lm_head tables too.

    Returns:
        A :class:`MemoryEstimate` (bytes per GPU) with ``.total`` and ``.table()``.

    Raises:
        BytepairError: (a ``ValueError``) for an unknown dtype or optimizer, full training of quantized
            weights, a KV cache combined with training, or invalid LoRA / ZeRO options.
    """
    dtype = _dtype(weights_dtype, WEIGHT_DTYPES, "weights dtype")
    kv = _coerce(kv_cache, KVCacheSpec, "kv_cache")
    train = _coerce(training, TrainingSpec, "training")
    adapters = _coerce(lora, LoRASpec, "lora")
    layout = tensor_layout(cfg)
    detail = _weights(layout, dtype, group_size, quantize_embeddings)
    weight_bytes = sum(detail.values())
    items: dict[str, int] = {"weights": weight_bytes}

    if kv is not None:
        if train is not None:
            raise BytepairError("kv_cache is an inference figure; it cannot be combined with training")
        items["kv_cache"] = kv_cache_bytes(cfg, kv.seq_len, batch=kv.batch, dtype=kv.dtype)

    n_lora = 0
    lora_dtype = "bf16"
    if adapters is not None:
        n_lora = lora_parameters(cfg, adapters)
        lora_dtype = _dtype(adapters.dtype, FLOAT_DTYPES, "LoRA dtype")
        items["lora_adapters"] = n_lora * FLOAT_DTYPES[lora_dtype]

    if train is None:
        return MemoryEstimate(cfg, dtype, items, detail, 0, n_lora)

    optimizer = _dtype(train.optimizer, _OPTIMIZER_BYTES, "optimizer")
    if adapters is not None:
        trainable, train_dtype = n_lora, lora_dtype
    else:
        if dtype not in FLOAT_DTYPES:
            raise BytepairError(
                f"full training needs fp32, fp16 or bf16 weights, not {dtype}; "
                "pass lora=... to train adapters "
                "on a quantized base (QLoRA)"
            )
        trainable, train_dtype = count_parameters(cfg).total, dtype
    grad_dtype = _dtype(train.grad_dtype or train_dtype, FLOAT_DTYPES, "gradient dtype")
    master = train.master_weights if train.master_weights is not None else FLOAT_DTYPES[train_dtype] < 4
    state = zero_memory(
        trainable,
        stage=train.zero_stage,
        num_gpus=train.num_gpus,
        weight_bytes=FLOAT_DTYPES[train_dtype],
        grad_bytes=FLOAT_DTYPES[grad_dtype],
        master_bytes=4 if master else 0,
        optimizer_bytes=_OPTIMIZER_BYTES[optimizer],
    )
    if adapters is not None:
        items["lora_adapters"] = state["weights"]
        if train.zero_stage >= 3:  # ZeRO-3 partitions the frozen base weights as well
            items["weights"] = -(-weight_bytes // train.num_gpus)
    else:
        items["weights"] = state["weights"]
    items["gradients"] = state["gradients"]
    if state["master_weights"]:
        items["master_weights"] = state["master_weights"]
    items["optimizer_states"] = state["optimizer_states"]
    return MemoryEstimate(cfg, dtype, items, detail, trainable, n_lora, train.num_gpus, train.zero_stage)
