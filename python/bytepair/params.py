"""Exact parameter counts, from a config or from a safetensors checkpoint's header.

:func:`count_parameters` enumerates every tensor a ``transformers`` model of that config holds (the layout
mirrors ``modeling_<type>.py``), so the counts agree with ``sum(p.numel() for p in model.parameters())`` to
the parameter. Tied input/output embeddings are counted once; the output table is counted separately when
untied. :func:`count_parameters_safetensors` reads only the JSON header(s) of a checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._core import FormatError
from .config import ModelConfig

__all__ = [
    "ParameterCount",
    "SafetensorsCount",
    "TensorSpec",
    "count_parameters",
    "count_parameters_safetensors",
    "tensor_layout",
]

COMPONENTS = (
    "embedding",
    "position",
    "token_type",
    "attention",
    "mlp",
    "router",
    "experts",
    "norm",
    "lm_head",
    "other",
)

# Linear layers that LoRA can target, with the canonical (Llama-style) names used by bytepair.
LINEAR_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TensorSpec:
    """One kind of tensor in a model and how many copies of it there are.

    Attributes:
        name: Canonical name, e.g. ``"layers.q_proj.weight"`` or ``"embed_tokens.weight"``.
        component: One of ``embedding, position, token_type, attention, mlp, router, experts, norm, lm_head,
            other``.
        shape: Shape of one copy; ``(out_features, in_features)`` for a linear weight, as in PyTorch.
        copies: Number of copies in the model (blocks x experts).
        active: Copies one token passes through (fewer than ``copies`` for routed experts).
        kind: ``"linear"`` (a matmul weight that quantizers compress), ``"table"`` (embedding / output table),
            ``"vector"`` (bias or norm weight).
        module: The LoRA target name (``q_proj`` ... ``down_proj``) for linear weights, else ``""``.
    """

    name: str
    component: str
    shape: tuple[int, ...]
    copies: int
    active: int
    kind: str
    module: str = ""

    @property
    def numel(self) -> int:
        """Elements in one copy."""
        return math.prod(self.shape)

    @property
    def total(self) -> int:
        """Elements in all copies."""
        return self.numel * self.copies


def tensor_layout(cfg: ModelConfig) -> list[TensorSpec]:
    """Every tensor of a model with this config, grouped by kind.

    Args:
        cfg: The model config.

    Returns:
        A list of :class:`TensorSpec`; the sum of ``spec.total`` is the parameter count.
    """
    out: list[TensorSpec] = []
    d, L = cfg.hidden_size, cfg.num_hidden_layers
    ln = cfg.norm_type == "layernorm"

    def add(
        name: str,
        comp: str,
        shape: tuple[int, ...],
        copies: int,
        kind: str,
        module: str = "",
        active: int | None = None,
    ) -> None:
        if copies > 0 and math.prod(shape) > 0:
            out.append(
                TensorSpec(name, comp, shape, copies, copies if active is None else active, kind, module)
            )

    def norm(name: str, width: int, copies: int) -> None:
        add(f"{name}.weight", "norm", (width,), copies, "vector")
        if ln:
            add(f"{name}.bias", "norm", (width,), copies, "vector")

    def mlp(prefix: str, comp: str, width: int, copies: int, active: int | None = None) -> None:
        mods = ("gate_proj", "up_proj") if cfg.gated_mlp else ("up_proj",)
        for m in mods:
            add(f"{prefix}.{m}.weight", comp, (width, d), copies, "linear", m, active)
            if cfg.mlp_bias:
                add(f"{prefix}.{m}.bias", comp, (width,), copies, "vector", "", active)
        add(f"{prefix}.down_proj.weight", comp, (d, width), copies, "linear", "down_proj", active)
        if cfg.mlp_bias:
            add(f"{prefix}.down_proj.bias", comp, (d,), copies, "vector", "", active)

    e = cfg.embed_dim
    add("embed_tokens.weight", "embedding", (cfg.vocab_size, e), 1, "table")
    if cfg.position_embedding_type == "absolute":
        rows = cfg.max_position_embeddings + cfg.position_embedding_offset
        add("embed_positions.weight", "position", (rows, d), 1, "table")  # OPT: hidden_size wide
    if cfg.type_vocab_size:
        add("token_type_embeddings.weight", "token_type", (cfg.type_vocab_size, d), 1, "table")
    if cfg.embedding_norm:
        norm("embeddings.norm", d, 1)
    if e != d:
        add("project_in.weight", "other", (d, e), 1, "linear")
        add("project_out.weight", "other", (e, d), 1, "linear")

    q, kv = cfg.num_attention_heads * cfg.d_head, cfg.kv_heads * cfg.d_head
    for m, rows in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
        add(f"layers.{m}.weight", "attention", (rows, d), L, "linear", m)
        if cfg.qkv_bias:
            add(f"layers.{m}.bias", "attention", (rows,), L, "vector")
    add("layers.o_proj.weight", "attention", (d, q), L, "linear", "o_proj")
    if cfg.attn_out_bias:
        add("layers.o_proj.bias", "attention", (d,), L, "vector")
    if cfg.qk_norm:
        norm("layers.q_norm", cfg.d_head, L)
        norm("layers.k_norm", cfg.d_head, L)
    norm("layers.norm", d, L * cfg.norms_per_layer)

    mlp("layers.mlp", "mlp", cfg.intermediate_size, cfg.dense_layers)
    moe = cfg.moe_layers
    if moe:
        add("layers.router.weight", "router", (cfg.num_experts, d), moe, "linear")
        mlp(
            "layers.experts",
            "experts",
            cfg.expert_intermediate_size,
            moe * cfg.num_experts,
            moe * cfg.num_experts_per_tok,
        )
        mlp("layers.shared_expert", "mlp", cfg.shared_intermediate_size, moe)
        if cfg.shared_expert_gate:
            add("layers.shared_expert_gate.weight", "router", (1, d), moe, "linear")

    if cfg.final_norm:
        norm("norm", d, 1)
    if cfg.pooler:
        add("pooler.weight", "other", (d, d), 1, "linear")
        add("pooler.bias", "other", (d,), 1, "vector")
    if cfg.has_lm_head:
        if not cfg.tie_word_embeddings:
            add("lm_head.weight", "lm_head", (cfg.vocab_size, e), 1, "table")
        if cfg.lm_head_bias:
            add("lm_head.bias", "lm_head", (cfg.vocab_size,), 1, "vector")
    return out


@dataclass(frozen=True)
class ParameterCount:
    """Parameter counts of a model, by component.

    All counts are numbers of parameters (elements), not bytes.

    Attributes:
        config: The config counted.
        embedding: Input token embedding table (``vocab_size x d``).
        position: Learned position table (0 with rotary embeddings).
        token_type: BERT token-type (segment) table.
        attention: q, k, v, o projections with their biases.
        mlp: Dense MLPs and shared experts.
        router: MoE routers (and Qwen2-MoE shared-expert gates).
        experts: All routed experts.
        norm: All norm weights and biases.
        lm_head: Untied output table (0 when tied) plus its bias if any.
        other: BERT pooler, OPT ``project_in``/``project_out``.
        experts_active: Routed-expert parameters one token uses (``experts * k / num_experts``).
    """

    config: ModelConfig
    embedding: int
    position: int
    token_type: int
    attention: int
    mlp: int
    router: int
    experts: int
    norm: int
    lm_head: int
    other: int
    experts_active: int

    @property
    def total(self) -> int:
        """All parameters, tied tables counted once."""
        return sum(getattr(self, c) for c in COMPONENTS)

    @property
    def non_embedding(self) -> int:
        """Parameters outside the vocabulary and position tables: Kaplan et al. 2020's N."""
        return self.total - self.embedding - self.position - self.token_type - self.lm_head

    @property
    def active(self) -> int:
        """Parameters one token uses: the total with only ``num_experts_per_tok`` routed experts per layer."""
        return self.total - self.experts + self.experts_active

    @property
    def embedding_share(self) -> float:
        """Fraction of all parameters in the token tables (input, plus output when untied), 0..1."""
        return (self.embedding + self.lm_head) / self.total

    def as_dict(self) -> dict[str, int | float]:
        """Components and totals as a plain dict (parameters; ``embedding_share`` as a fraction)."""
        d: dict[str, int | float] = {c: getattr(self, c) for c in COMPONENTS}
        d.update(
            experts_active=self.experts_active,
            total=self.total,
            non_embedding=self.non_embedding,
            active=self.active,
            embedding_share=self.embedding_share,
        )
        return d

    def table(self) -> str:
        """A human-readable table: one row per non-zero component, then the totals."""
        rows = [(c, getattr(self, c)) for c in COMPONENTS if getattr(self, c)]
        rows += [("total", self.total), ("non-embedding", self.non_embedding)]
        if self.config.is_moe:
            rows.append(("active per token", self.active))
        title = self.config.name or self.config.model_type
        lines = [f"{title}: parameters", f"{'component':<18}{'parameters':>18}{'share':>9}"]
        for label, n in rows:
            lines.append(f"{label:<18}{n:>18,}{100 * n / self.total:>8.2f}%")
        if not self.config.has_lm_head:
            tied = "no lm_head"
        else:
            tied = "tied" if self.config.tie_word_embeddings else "untied: input + output"
        lines.append(f"embedding share ({tied}): {100 * self.embedding_share:.2f}%")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def count_parameters(cfg: ModelConfig) -> ParameterCount:
    """Count a model's parameters exactly, by component.

    The layout follows the ``transformers`` implementation of each model type: a tied lm_head adds nothing,
    GQA shrinks k/v to ``num_key_value_heads * head_dim`` rows, ``head_dim`` is taken from the config (Gemma),
    MoE layers hold ``num_experts`` expert MLPs plus a ``hidden_size x num_experts`` router.

    Args:
        cfg: The model config (see :meth:`ModelConfig.from_hf` and ``bytepair.models``).

    Returns:
        A :class:`ParameterCount` (numbers of parameters) with ``total``, ``non_embedding``, ``active`` and
        ``embedding_share``.

    Example:
        >>> import bytepair as bp
        >>> bp.count_parameters(bp.models["gpt2"]).total
        124439808
    """
    sums = dict.fromkeys(COMPONENTS, 0)
    experts_active = 0
    for t in tensor_layout(cfg):
        sums[t.component] += t.total
        if t.component == "experts":
            experts_active += t.numel * t.active
    return ParameterCount(config=cfg, experts_active=experts_active, **sums)


# ------------------------------------------------------------------------------------------------------------
# safetensors headers

# Buffers that checkpoints sometimes store but that are not parameters (rotary frequencies, position ids,
# masks).
_BUFFER_SUFFIXES = ("inv_freq", "position_ids", "masked_bias", "_float_tensor", "cos_cached", "sin_cached")
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors format itself caps the header at 100 MB


@dataclass(frozen=True)
class SafetensorsCount:
    """Parameter count read from safetensors header(s).

    Attributes:
        total: Parameters (elements of all tensors that are not buffers).
        buffers: Non-parameter tensors left out of ``total``, name -> number of elements.
        tensors: Number of parameter tensors.
        by_dtype: Parameters per safetensors dtype (``"F32"``, ``"BF16"`` ...).
        nbytes: Bytes of the parameter tensors' data.
        files: The files whose headers were read.
        metadata: The ``__metadata__`` of the first file, if any.
    """

    total: int
    buffers: dict[str, int]
    tensors: int
    by_dtype: dict[str, int]
    nbytes: int
    files: tuple[Path, ...]
    metadata: dict[str, str] = field(default_factory=dict)

    def table(self) -> str:
        """A human-readable summary."""
        lines = [
            f"{', '.join(p.name for p in self.files)}: {self.total:,} parameters in {self.tensors} tensors"
        ]
        for dt, n in sorted(self.by_dtype.items()):
            lines.append(f"  {dt:<6}{n:>18,}")
        lines.append(f"  data  {self.nbytes:>18,} bytes")
        for name, n in self.buffers.items():
            lines.append(f"  buffer (not counted): {name} ({n:,} elements)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def is_buffer(name: str, dtype: str, shape: list[int]) -> bool:
    """Whether a stored tensor is a non-parameter buffer.

    Buffers are recognised by name (``inv_freq``, ``position_ids``, ``masked_bias`` ...), by a boolean dtype,
    and as a 4-D ``*.bias`` (the causal mask GPT-2, GPT-J and GPT-NeoX register as ``attn.bias``; real biases
    are 1-D).

    Args:
        name: Tensor name in the checkpoint.
        dtype: safetensors dtype string.
        shape: Tensor shape.

    Returns:
        True for a buffer.
    """
    last = name.rsplit(".", 1)[-1]
    return last in _BUFFER_SUFFIXES or dtype == "BOOL" or (last == "bias" and len(shape) == 4)


def read_safetensors_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the JSON header of one ``.safetensors`` file without touching its data.

    The format is an 8-byte little-endian unsigned header length N, then N bytes of JSON mapping tensor names
    to ``{"dtype", "shape", "data_offsets"}`` (https://github.com/huggingface/safetensors#format).

    Args:
        path: The file.

    Returns:
        The parsed header, including ``__metadata__`` if present.

    Raises:
        FormatError: (a ``BytepairError``) if the file is too short or the header is not valid.
        OSError: if the file cannot be read.
    """
    p = Path(path)
    size = p.stat().st_size
    with open(p, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise FormatError(f"{p}: not a safetensors file (shorter than the 8-byte header length)")
        (n,) = struct.unpack("<Q", prefix)
        if n > _MAX_HEADER or 8 + n > size:
            raise FormatError(
                f"{p}: not a safetensors file (header length {n} does not fit the file of {size} bytes)"
            )
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{p}: safetensors header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise FormatError(f"{p}: safetensors header must be a JSON object")
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if (
            not isinstance(info, dict)
            or not isinstance(info.get("dtype"), str)
            or not isinstance(info.get("shape"), list)
            or not all(isinstance(s, int) and s >= 0 for s in info["shape"])
            or not isinstance(info.get("data_offsets"), list)
            or len(info["data_offsets"]) != 2
        ):
            raise FormatError(f"{p}: safetensors header entry {name!r} needs dtype, shape and data_offsets")
    return header


def _resolve_files(path: Path) -> tuple[list[Path], dict[str, str] | None, Path | None]:
    """The shard files to read, and the index's weight_map (if sharded)."""
    if path.is_dir():
        for candidate in ("model.safetensors.index.json", "model.safetensors"):
            if (path / candidate).exists():
                return _resolve_files(path / candidate)
        shards = sorted(path.glob("*.safetensors"))
        if not shards:
            raise FormatError(
                f"{path}: no model.safetensors, model.safetensors.index.json or *.safetensors found"
            )
        return shards, None, None
    if path.name.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            try:
                index = json.load(f)
            except json.JSONDecodeError as exc:
                raise FormatError(f"{path}: index is not valid JSON: {exc}") from None
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            raise FormatError(f"{path}: a safetensors index needs a 'weight_map' object of name -> file")
        files = [path.parent / name for name in dict.fromkeys(weight_map.values())]
        return files, weight_map, path
    return [path], None, None


def count_parameters_safetensors(path: str | os.PathLike[str]) -> SafetensorsCount:
    """Count the parameters of a safetensors checkpoint by reading only its header(s).

    Args:
        path: A ``.safetensors`` file, a ``model.safetensors.index.json`` of a sharded checkpoint, or a model
            directory holding either.

    Returns:
        A :class:`SafetensorsCount`; non-parameter buffers (``inv_freq``, ``position_ids``, attention masks)
        are listed in ``buffers`` and left out of ``total``.

    Raises:
        FormatError: (a ``BytepairError``) if a header is malformed, or a sharded checkpoint's index names a
            tensor that its shard does not hold (or a shard holds a tensor the index does not list).
        OSError: if a file is missing or unreadable.
    """
    files, weight_map, index_path = _resolve_files(Path(path))
    total = tensors = nbytes = 0
    buffers: dict[str, int] = {}
    by_dtype: dict[str, int] = {}
    seen: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for file in files:
        header = read_safetensors_header(file)
        if not metadata and isinstance(header.get("__metadata__"), dict):
            metadata = dict(header["__metadata__"])
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if name in seen:
                raise FormatError(f"tensor {name!r} is stored in both {seen[name]} and {file.name}")
            seen[name] = file.name
            n = math.prod(info["shape"])
            if is_buffer(name, info["dtype"], info["shape"]):
                buffers[name] = n
                continue
            total += n
            tensors += 1
            by_dtype[info["dtype"]] = by_dtype.get(info["dtype"], 0) + n
            start, end = info["data_offsets"]
            nbytes += end - start
    if weight_map is not None:
        missing = [name for name, file in weight_map.items() if seen.get(name) != Path(file).name]
        extra = [name for name in seen if name not in weight_map]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"listed in the index but not in their shard: {', '.join(missing[:5])}")
            if extra:
                parts.append(f"in a shard but not in the index: {', '.join(extra[:5])}")
            raise FormatError(f"{index_path}: index and shards disagree; tensors " + "; ".join(parts))
    return SafetensorsCount(
        total=total,
        buffers=buffers,
        tensors=tensors,
        by_dtype=by_dtype,
        nbytes=nbytes,
        files=tuple(files),
        metadata=metadata,
    )
