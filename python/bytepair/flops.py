"""FLOPs per token of a transformer, with the attention and MLP parts separate.

Follows Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1 and sec. 2.1: a forward pass
costs ``2N + 2 n_layer n_ctx d_attn`` FLOPs per token, where N is the number of non-embedding parameters (one
multiply-add, 2 FLOPs, per weight) and the second term is the attention over the context; the backward pass
costs twice the forward, so training costs 3x (``6N + ...``). For MoE models N counts only the active
parameters: the experts a token is routed to, not all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._core import BytepairError
from .config import ModelConfig
from .params import tensor_layout

__all__ = ["FlopsPerToken", "flops_per_token"]


@dataclass(frozen=True)
class FlopsPerToken:
    """FLOPs for one token at a given context length (forward, or forward + backward when training).

    Attributes:
        config: The model config.
        seq_len: Context length n_ctx.
        training: Whether the figures include the backward pass (x3).
        attention_proj: q, k, v, o projections: 2 FLOPs per attention parameter.
        attention_context: Attention scores and weighted sum over the context: ``2 n_layer n_ctx d_attn``
            (``d_attn = num_attention_heads * head_dim``), Kaplan et al. 2020, Table 1.
        mlp: Dense MLPs, shared experts, routers and the routed experts a token uses
            (``num_experts_per_tok`` of them).
        lm_head: The output projection ``2 * vocab_size * d`` (applied even when tied; 0 without an LM head).
        other: Norms and other per-token weights (OPT projections); BERT's pooler runs once per sequence
            and is left out.
        active_parameters: Non-embedding parameters a token passes through (Kaplan's N, active experts only).
    """

    config: ModelConfig
    seq_len: int
    training: bool
    attention_proj: int
    attention_context: int
    mlp: int
    lm_head: int
    other: int
    active_parameters: int

    @property
    def attention(self) -> int:
        """FLOPs in attention: projections plus the context term."""
        return self.attention_proj + self.attention_context

    @property
    def total(self) -> int:
        """All FLOPs per token."""
        return self.attention + self.mlp + self.lm_head + self.other

    @property
    def attention_share(self) -> float:
        """Fraction of the FLOPs spent in attention (grows with ``seq_len``, shrinks with width)."""
        return self.attention / self.total

    @property
    def context_share(self) -> float:
        """Fraction of the FLOPs spent in the context term alone."""
        return self.attention_context / self.total

    @property
    def mlp_share(self) -> float:
        """Fraction of the FLOPs spent in the MLP / experts."""
        return self.mlp / self.total

    def table(self) -> str:
        """A human-readable table."""
        mode = "training (forward + backward)" if self.training else "forward"
        title = self.config.name or self.config.model_type
        lines = [
            f"{title}: FLOPs per token, {mode}, context {self.seq_len:,}",
            f"{'part':<20}{'FLOPs':>22}{'share':>9}",
        ]
        for label, n in (
            ("attention proj", self.attention_proj),
            ("attention context", self.attention_context),
            ("mlp", self.mlp),
            ("lm_head", self.lm_head),
            ("other", self.other),
            ("total", self.total),
        ):
            lines.append(f"{label:<20}{n:>22,}{100 * n / self.total:>8.2f}%")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def flops_per_token(cfg: ModelConfig, seq_len: int, *, training: bool = False) -> FlopsPerToken:
    """FLOPs per token, Kaplan et al. 2020: ``2N + 2 n_layer n_ctx d_attn`` forward, 3x that for training.

    N counts each non-embedding weight a token passes through once (2 FLOPs per multiply-add), with only the
    ``num_experts_per_tok`` routed experts of an MoE layer: Mixtral-8x7B uses its 12.9B active parameters
    here, not its 46.7B. The input embedding is a lookup (no FLOPs); the output projection costs
    ``2 * vocab_size * d`` even when tied. The context term is not halved for causal masking, as in the paper.

    Args:
        cfg: The model config.
        seq_len: Context length n_ctx (tokens attended to).
        training: Include the backward pass (twice the forward): 3x the forward FLOPs.

    Returns:
        A :class:`FlopsPerToken` with ``attention_proj``, ``attention_context``, ``mlp``, ``lm_head``,
        ``other`` and ``total`` (FLOPs per token) and the shares.

    Raises:
        BytepairError: (a ``ValueError``) if ``seq_len`` is below 1.
    """
    if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
        raise BytepairError(f"seq_len must be a positive integer, got {seq_len!r}")
    mult = 3 if training else 1
    parts = {"attention": 0, "mlp": 0, "other": 0}
    lm_head = 0
    for t in tensor_layout(cfg):
        if t.component in ("embedding", "position", "token_type") or t.name.startswith("pooler."):
            continue
        if t.component == "lm_head":
            continue
        key = {"attention": "attention", "mlp": "mlp", "experts": "mlp", "router": "mlp"}.get(
            t.component, "other"
        )
        parts[key] += t.numel * t.active
    if cfg.has_lm_head:
        lm_head = cfg.vocab_size * cfg.embed_dim
    active = sum(parts.values())
    d_attn = cfg.num_attention_heads * cfg.d_head
    return FlopsPerToken(
        config=cfg,
        seq_len=seq_len,
        training=training,
        attention_proj=mult * 2 * parts["attention"],
        attention_context=mult * 2 * cfg.num_hidden_layers * seq_len * d_attn,
        mlp=mult * 2 * parts["mlp"],
        lm_head=mult * 2 * lm_head,
        other=mult * 2 * parts["other"],
        active_parameters=active,
    )
