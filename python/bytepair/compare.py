"""What-if for a smaller (or larger) model: ``bytepair.compare(base, **changes)``.

Change any :class:`~bytepair.config.ModelConfig` fields (layers, width, heads, KV heads, MLP width,
vocabulary, tied head, experts) and the weights' format, and see side by side what that does to the
parameters by component, the weight memory, the KV cache per token and the FLOPs per token, with the
ratio to the base. All figures come from the exact calculators (:func:`~bytepair.params.count_parameters`,
:func:`~bytepair.memory.estimate_memory`, :func:`~bytepair.memory.kv_cache_bytes`,
:func:`~bytepair.flops.flops_per_token`).

    >>> import bytepair as bp
    >>> c = bp.compare(bp.models["llama-3-8b"], num_hidden_layers=16)
    >>> c["blocks"].ratio
    0.5
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._core import BytepairError
from .config import ModelConfig
from .flops import flops_per_token
from .memory import GB, GiB, estimate_memory, kv_cache_bytes
from .params import COMPONENTS, ParameterCount, count_parameters, tensor_layout

__all__ = ["Comparison", "ComparisonRow", "compare"]

_WIDTH = 110


@dataclass(frozen=True)
class ComparisonRow:
    """One figure of the base and the candidate model.

    Attributes:
        key: Stable name, e.g. ``"attention"``, ``"total"``, ``"weights_bytes"``, ``"flops_per_token"``.
        label: Text shown in the table.
        section: ``"parameters"``, ``"memory"`` or ``"flops"``.
        base: The base model's value (parameters, bytes or FLOPs).
        candidate: The candidate model's value, same unit.
    """

    key: str
    label: str
    section: str
    base: int
    candidate: int

    @property
    def ratio(self) -> float | None:
        """``candidate / base``; exactly 1.0 for equal values, ``None`` when the base is 0."""
        return self.candidate / self.base if self.base else None


@dataclass(frozen=True)
class Comparison:
    """A base model and a candidate side by side (see :func:`compare`).

    Attributes:
        base: The base config.
        candidate: The candidate config.
        base_dtype: Format of the base model's weights.
        dtype: Format of the candidate's weights.
        kv_dtype: Format of the KV cache (both models).
        seq_len: Context length of the FLOPs figures.
        rows: The figures, parameters first, then memory, then FLOPs. Parameter components that are 0 in both
            models are left out, as is the KV cache for encoder-only models.
        base_params: The base model's :class:`~bytepair.params.ParameterCount`.
        candidate_params: The candidate's :class:`~bytepair.params.ParameterCount`.
    """

    base: ModelConfig
    candidate: ModelConfig
    base_dtype: str
    dtype: str
    kv_dtype: str
    seq_len: int
    rows: tuple[ComparisonRow, ...]
    base_params: ParameterCount
    candidate_params: ParameterCount

    def __getitem__(self, key: str) -> ComparisonRow:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"no row {key!r}; rows: {', '.join(r.key for r in self.rows)}")

    def __contains__(self, key: object) -> bool:
        return any(row.key == key for row in self.rows)

    def __iter__(self) -> Iterator[ComparisonRow]:
        return iter(self.rows)

    @property
    def ratios(self) -> dict[str, float | None]:
        """``{row key: candidate / base}`` (``None`` where the base is 0)."""
        return {row.key: row.ratio for row in self.rows}

    @property
    def changes(self) -> dict[str, tuple[Any, Any]]:
        """``{field: (base value, candidate value)}`` for every config field that differs (the name aside)."""
        out: dict[str, tuple[Any, Any]] = {}
        for f in dataclasses.fields(ModelConfig):
            a, b = getattr(self.base, f.name), getattr(self.candidate, f.name)
            if f.name != "name" and a != b:
                out[f.name] = (a, b)
        return out

    def table(self) -> str:
        """The comparison as text: one row per figure with both values and the ratio."""
        base_name = self.base.name or self.base.model_type
        changed = [f"{k} {a} -> {b}" for k, (a, b) in self.changes.items()]
        if self.dtype != self.base_dtype:
            changed.append(f"weights {self.base_dtype} -> {self.dtype}")
        lines = [f"base: {base_name}, weights in {self.base_dtype}"]
        lines += textwrap.wrap(
            "changes: " + (", ".join(changed) if changed else "none"),
            _WIDTH,
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
        header = f"{'':<28}{'base':>20}{'candidate':>20}{'ratio':>10}"
        lines += [header, "-" * len(header)]
        titles = {
            "parameters": "parameters",
            "memory": f"memory, bytes (KV cache in {self.kv_dtype})",
            "flops": f"FLOPs per token, forward, context {self.seq_len:,}",
        }
        section = ""
        for row in self.rows:
            if row.section != section:
                section = row.section
                lines.append(titles[section])
            ratio = "new" if row.ratio is None else f"{row.ratio:.4f}"
            lines.append(f"  {row.label:<26}{row.base:>20,}{row.candidate:>20,}{ratio:>10}")
        w0, w1 = self["weights_bytes"].base, self["weights_bytes"].candidate
        lines.append(
            f"weights: {w0 / GB:,.2f} GB -> {w1 / GB:,.2f} GB ({w0 / GiB:,.2f} GiB -> {w1 / GiB:,.2f} GiB)"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _block_parameters(cfg: ModelConfig) -> int:
    return sum(t.total for t in tensor_layout(cfg) if t.name.startswith("layers."))


def compare(
    base: ModelConfig,
    candidate: ModelConfig | None = None,
    /,
    *,
    dtype: str | None = None,
    base_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    seq_len: int = 2048,
    group_size: int = 128,
    **changes: Any,
) -> Comparison:
    """Compare a model with a changed copy (or with another model): parameters, memory and FLOPs.

    The candidate is ``base.replace(**changes)`` (or ``candidate.replace(**changes)``), so ``head_dim`` and
    ``num_key_value_heads`` are derived anew when they were derived in the base (see
    :meth:`ModelConfig.replace`). Rows: parameters by component (``embedding``, ``attention``, ``mlp`` ...,
    see :class:`~bytepair.params.ParameterCount`), ``blocks`` (everything inside the transformer blocks),
    ``total``, ``non_embedding`` and, for MoE models, ``active``; ``weights_bytes`` (the weights in
    ``base_dtype`` / ``dtype``, as :func:`~bytepair.memory.estimate_memory` counts them) and
    ``kv_cache_bytes_per_token`` (decoders only); ``flops_per_token`` with its ``flops_attention`` and
    ``flops_mlp`` parts (forward, :func:`~bytepair.flops.flops_per_token`).

    Args:
        base: The model to start from, e.g. ``bytepair.models["llama-3-8b"]``.
        candidate: Another model to compare with instead of a copy of ``base``.
        dtype: The candidate's weight format (``fp32, fp16, bf16, fp8, int8, int4, nf4, nf4-dq``); default
            ``base_dtype``.
        base_dtype: The base's weight format (default ``bf16``).
        kv_dtype: KV cache format for both (default ``bf16``).
        seq_len: Context length for the FLOPs (default 2048).
        group_size: int4 group size.
        **changes: :class:`ModelConfig` fields to change, e.g. ``num_hidden_layers=16, hidden_size=3072,
            vocab_size=32000, tie_word_embeddings=True, num_experts=8``.

    Returns:
        A :class:`Comparison`: ``c["total"].ratio``, ``c.ratios``, ``c.table()``.

    Raises:
        BytepairError: (a ``ValueError``) for an unknown field, a shape the candidate cannot have
            (``hidden_size`` not divisible by ``num_attention_heads`` when ``head_dim`` is derived,
            ``num_key_value_heads`` not dividing ``num_attention_heads``, a non-positive size ...; the message
            names the fields), an unknown dtype or a bad ``seq_len``.
    """
    for what, value in (("base", base), ("candidate", candidate)):
        if value is not None and not isinstance(value, ModelConfig):
            raise BytepairError(f"{what} must be a ModelConfig, got {type(value).__name__}")
    cand = (candidate or base).replace(**changes) if changes else (candidate or base)
    dtype = dtype or base_dtype
    p0, p1 = count_parameters(base), count_parameters(cand)
    rows: list[ComparisonRow] = []

    def add(key: str, label: str, section: str, a: int, b: int) -> None:
        rows.append(ComparisonRow(key, label, section, a, b))

    for comp in COMPONENTS:
        a, b = getattr(p0, comp), getattr(p1, comp)
        if a or b:
            add(comp, comp, "parameters", a, b)
    add("blocks", "in blocks (per-layer)", "parameters", _block_parameters(base), _block_parameters(cand))
    add("total", "total", "parameters", p0.total, p1.total)
    add("non_embedding", "non-embedding", "parameters", p0.non_embedding, p1.non_embedding)
    if base.is_moe or cand.is_moe:
        add("active", "active per token", "parameters", p0.active, p1.active)

    m0 = estimate_memory(base, weights_dtype=base_dtype, group_size=group_size)
    m1 = estimate_memory(cand, weights_dtype=dtype, group_size=group_size)
    add(
        "weights_bytes",
        f"weights ({m0.weights_dtype} | {m1.weights_dtype})",
        "memory",
        m0.weights,
        m1.weights,
    )
    if base.is_decoder and cand.is_decoder:
        add(
            "kv_cache_bytes_per_token",
            "KV cache per token",
            "memory",
            kv_cache_bytes(base, 1, dtype=kv_dtype),
            kv_cache_bytes(cand, 1, dtype=kv_dtype),
        )

    f0, f1 = flops_per_token(base, seq_len), flops_per_token(cand, seq_len)
    add("flops_per_token", "total", "flops", f0.total, f1.total)
    add("flops_attention", "attention", "flops", f0.attention, f1.attention)
    add("flops_mlp", "mlp", "flops", f0.mlp, f1.mlp)
    if f0.lm_head or f1.lm_head:
        add("flops_lm_head", "lm_head", "flops", f0.lm_head, f1.lm_head)

    return Comparison(
        base=base,
        candidate=cand,
        base_dtype=m0.weights_dtype,
        dtype=m1.weights_dtype,
        kv_dtype=kv_dtype,
        seq_len=seq_len,
        rows=tuple(rows),
        base_params=p0,
        candidate_params=p1,
    )
