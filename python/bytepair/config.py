"""Transformer shape description shared by the parameter, memory and FLOPs calculators.

:class:`ModelConfig` names its fields like Hugging Face ``config.json`` files (``vocab_size``,
``hidden_size``, ``num_key_value_heads`` ...), and :meth:`ModelConfig.from_hf` reads such a file for the model
types listed in :data:`SUPPORTED_MODEL_TYPES`. Each reader mirrors the module structure of the corresponding
``transformers`` modeling file (``modeling_llama.py``, ``modeling_gpt2.py`` ...), which is what makes the
counts exact.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from ._core import BytepairError

__all__ = ["SUPPORTED_MODEL_TYPES", "ModelConfig"]

NORM_TYPES = ("rmsnorm", "layernorm")
POSITION_EMBEDDING_TYPES = ("rotary", "absolute", "none")

# Short names people use for the sizes (and ``bytepair shrink`` options), for error messages.
_SHORT_NAMES = {
    "layers": "num_hidden_layers",
    "n_layer": "num_hidden_layers",
    "hidden": "hidden_size",
    "d_model": "hidden_size",
    "n_embd": "hidden_size",
    "heads": "num_attention_heads",
    "n_head": "num_attention_heads",
    "kv_heads": "num_key_value_heads",
    "intermediate": "intermediate_size",
    "ffn_dim": "intermediate_size",
    "vocab": "vocab_size",
    "experts": "num_experts",
    "num_local_experts": "num_experts",
    "tie": "tie_word_embeddings",
}

PathOrDict = Union[str, "os.PathLike[str]", Mapping[str, Any]]


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a decoder-only or encoder-only transformer, with Hugging Face field names.

    Build one with :meth:`from_hf` from a ``config.json`` (or take a catalog entry,
    ``bytepair.models["llama-3-8b"]``), or directly. ``num_key_value_heads`` defaults to
    ``num_attention_heads`` and ``head_dim`` to ``hidden_size // num_attention_heads``; give ``head_dim``
    explicitly when it differs (Gemma-7B: 16 heads of 256 on a 3072-wide model). Change fields with
    :meth:`replace`, which validates again and derives ``head_dim`` and ``num_key_value_heads`` anew when
    they were derived (:func:`dataclasses.replace` keeps the resolved values).

    Attributes:
        model_type: Hugging Face ``model_type`` (a label; only :meth:`from_hf` restricts it).
        vocab_size: Rows of the token embedding table.
        hidden_size: Model width d_model.
        intermediate_size: Width of the dense MLP (``4 * hidden_size`` in GPT-2 style models).
        num_hidden_layers: Number of transformer blocks.
        num_attention_heads: Query heads.
        num_key_value_heads: Key/value heads (fewer than query heads under GQA, 1 under MQA).
        head_dim: Width of one attention head.
        tie_word_embeddings: The output projection (lm_head) shares the input embedding matrix.
        qkv_bias: The q, k and v projections have biases (GPT-2, Qwen2, BERT).
        attn_out_bias: The attention output projection has a bias.
        mlp_bias: The MLP (and expert) projections have biases.
        lm_head_bias: The output projection has a bias (GPT-J, Phi-2).
        norm_type: ``"rmsnorm"`` (weight only) or ``"layernorm"`` (weight and bias).
        norms_per_layer: Norm modules per block (2 usually, 1 for GPT-J / Phi-2 parallel blocks).
        final_norm: A norm after the last block.
        embedding_norm: A norm right after the embeddings (BERT).
        qk_norm: Per-head norms on queries and keys (Phi ``qk_layernorm``).
        gated_mlp: SwiGLU/GeGLU MLP with gate, up and down projections (3 matrices instead of 2).
        position_embedding_type: ``"rotary"`` (no parameters), ``"absolute"`` (a learned table) or ``"none"``.
        max_position_embeddings: Context length the model was built for (rows of a learned table).
        position_embedding_offset: Extra rows in a learned position table (OPT reserves 2).
        type_vocab_size: Rows of BERT's token-type (segment) table, 0 if none.
        parallel_attn_mlp: Attention and MLP read the same input (GPT-J, GPT-NeoX, Phi-2); informational.
        has_lm_head: The model ends in a vocabulary projection (False for ``BertModel``).
        pooler: BERT's pooler (a ``hidden_size x hidden_size`` dense layer with bias on the first token).
        word_embed_proj_dim: Width of the embedding table when it differs from ``hidden_size`` (OPT-350m),
            with ``project_in``/``project_out`` matrices; ``None`` means ``hidden_size``.
        num_experts: Routed experts per MoE layer (0 for a dense model); ``num_local_experts`` in Mixtral.
        num_experts_per_tok: Routed experts each token uses.
        moe_intermediate_size: Width of one routed expert's MLP; ``None`` means ``intermediate_size``.
        num_shared_experts: Always-active shared experts (DeepSeek/Qwen2-MoE style).
        shared_expert_intermediate_size: Total width of the shared-expert MLP; ``None`` means
            ``num_shared_experts * moe_intermediate_size``.
        shared_expert_gate: A ``hidden_size -> 1`` sigmoid gate on the shared expert (Qwen2-MoE).
        first_k_dense_replace: The first k blocks use a dense MLP instead of experts ("dense layers first").
        decoder_sparse_step: Every n-th block is an MoE block (Qwen2-MoE).
        mlp_only_layers: Block indices that use the dense MLP (Qwen2-MoE).
        name: Display name.

    Raises:
        BytepairError: (a ``ValueError``) if a size is not positive, ``hidden_size`` is not divisible by
            ``num_attention_heads`` and no ``head_dim`` is given, ``num_attention_heads`` is not a multiple of
            ``num_key_value_heads``, ``num_experts_per_tok`` exceeds ``num_experts``, or a type string is
            unknown.
            The message names the fields involved.
    """

    model_type: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int | None = None
    head_dim: int | None = None
    tie_word_embeddings: bool = False
    qkv_bias: bool = False
    attn_out_bias: bool = False
    mlp_bias: bool = False
    lm_head_bias: bool = False
    norm_type: str = "rmsnorm"
    norms_per_layer: int = 2
    final_norm: bool = True
    embedding_norm: bool = False
    qk_norm: bool = False
    gated_mlp: bool = True
    position_embedding_type: str = "rotary"
    max_position_embeddings: int = 0
    position_embedding_offset: int = 0
    type_vocab_size: int = 0
    parallel_attn_mlp: bool = False
    has_lm_head: bool = True
    pooler: bool = False
    word_embed_proj_dim: int | None = None
    num_experts: int = 0
    num_experts_per_tok: int = 0
    moe_intermediate_size: int | None = None
    num_shared_experts: int = 0
    shared_expert_intermediate_size: int | None = None
    shared_expert_gate: bool = False
    first_k_dense_replace: int = 0
    decoder_sparse_step: int = 1
    mlp_only_layers: tuple[int, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        for field in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads"):
            _check_int(field, getattr(self, field), minimum=1)
        _check_int("intermediate_size", self.intermediate_size, minimum=0)
        if self.num_key_value_heads is None:
            object.__setattr__(self, "num_key_value_heads", self.num_attention_heads)
        _check_int("num_key_value_heads", self.num_key_value_heads, minimum=1)
        if self.head_dim is None:
            if self.hidden_size % self.num_attention_heads:
                raise BytepairError(
                    f"hidden_size ({self.hidden_size}) is not divisible by num_attention_heads "
                    f"({self.num_attention_heads}); give head_dim explicitly"
                )
            object.__setattr__(self, "head_dim", self.hidden_size // self.num_attention_heads)
        _check_int("head_dim", self.head_dim, minimum=1)
        if self.num_attention_heads % self.kv_heads:
            raise BytepairError(
                f"num_attention_heads ({self.num_attention_heads}) is not a multiple of num_key_value_heads "
                f"({self.kv_heads})"
            )
        if self.norm_type not in NORM_TYPES:
            raise BytepairError(f"norm_type must be one of {', '.join(NORM_TYPES)}, got {self.norm_type!r}")
        if self.position_embedding_type not in POSITION_EMBEDDING_TYPES:
            raise BytepairError(
                f"position_embedding_type must be one of {', '.join(POSITION_EMBEDDING_TYPES)}, "
                f"got {self.position_embedding_type!r}"
            )
        for field in (
            "norms_per_layer",
            "max_position_embeddings",
            "position_embedding_offset",
            "type_vocab_size",
            "num_experts",
            "num_experts_per_tok",
            "num_shared_experts",
            "first_k_dense_replace",
        ):
            _check_int(field, getattr(self, field), minimum=0)
        _check_int("decoder_sparse_step", self.decoder_sparse_step, minimum=1)
        if self.position_embedding_type == "absolute" and self.max_position_embeddings < 1:
            raise BytepairError(
                "position_embedding_type is 'absolute' but max_position_embeddings is 0; "
                "a learned position table needs its size"
            )
        if self.word_embed_proj_dim is not None:
            _check_int("word_embed_proj_dim", self.word_embed_proj_dim, minimum=1)
        if self.moe_intermediate_size is not None:
            _check_int("moe_intermediate_size", self.moe_intermediate_size, minimum=1)
        if self.shared_expert_intermediate_size is not None:
            _check_int("shared_expert_intermediate_size", self.shared_expert_intermediate_size, minimum=0)
        object.__setattr__(self, "mlp_only_layers", tuple(self.mlp_only_layers))
        if self.num_experts:
            if not 1 <= self.num_experts_per_tok <= self.num_experts:
                raise BytepairError(
                    f"num_experts_per_tok ({self.num_experts_per_tok}) must be between 1 and num_experts "
                    f"({self.num_experts})"
                )
        elif self.num_experts_per_tok or self.num_shared_experts or self.shared_expert_intermediate_size:
            raise BytepairError(
                "num_experts is 0 (a dense model) but num_experts_per_tok / num_shared_experts / "
                "shared_expert_intermediate_size are set"
            )
        if self.dense_layers and self.intermediate_size < 1:
            raise BytepairError("intermediate_size must be positive: the model has dense MLP blocks")

    # ------------------------------------------------------------------------------------------------------
    @property
    def kv_heads(self) -> int:
        """``num_key_value_heads`` as an int (it is always resolved after construction)."""
        assert self.num_key_value_heads is not None
        return self.num_key_value_heads

    @property
    def d_head(self) -> int:
        """``head_dim`` as an int (it is always resolved after construction)."""
        assert self.head_dim is not None
        return self.head_dim

    @property
    def embed_dim(self) -> int:
        """Width of the token embedding table (``word_embed_proj_dim`` or ``hidden_size``)."""
        return self.word_embed_proj_dim or self.hidden_size

    @property
    def expert_intermediate_size(self) -> int:
        """Width of one routed expert's MLP."""
        return self.moe_intermediate_size or self.intermediate_size

    @property
    def shared_intermediate_size(self) -> int:
        """Total width of the always-active shared-expert MLP (0 if none)."""
        if self.shared_expert_intermediate_size is not None:
            return self.shared_expert_intermediate_size
        return self.num_shared_experts * self.expert_intermediate_size

    @property
    def is_moe(self) -> bool:
        """True if the model has routed experts."""
        return self.num_experts > 0

    def is_moe_layer(self, index: int) -> bool:
        """Whether block ``index`` (0-based) uses routed experts instead of the dense MLP.

        Args:
            index: Block index, ``0 <= index < num_hidden_layers``.

        Returns:
            True for an MoE block, following ``first_k_dense_replace`` (DeepSeek), ``decoder_sparse_step`` and
            ``mlp_only_layers`` (Qwen2-MoE).
        """
        if not self.num_experts or index < self.first_k_dense_replace or index in self.mlp_only_layers:
            return False
        return (index + 1) % self.decoder_sparse_step == 0

    @property
    def moe_layers(self) -> int:
        """Number of blocks with routed experts."""
        return sum(self.is_moe_layer(i) for i in range(self.num_hidden_layers))

    @property
    def dense_layers(self) -> int:
        """Number of blocks with a dense MLP."""
        return self.num_hidden_layers - self.moe_layers

    @property
    def is_decoder(self) -> bool:
        """False for encoder-only models (BERT), which have no KV cache."""
        return self.model_type != "bert"

    # ------------------------------------------------------------------------------------------------------
    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with some fields changed, re-validated, keeping derived sizes consistent.

        Unlike :func:`dataclasses.replace`, the sizes that were derived at construction follow the change:
        ``head_dim`` is derived again from ``hidden_size // num_attention_heads`` when one of those changes
        and the model's head width was the derived one (an explicit ``head_dim`` such as Gemma-7B's 256 on a
        3072-wide model with 16 heads is kept); ``num_key_value_heads`` follows ``num_attention_heads`` in a
        multi-head model (one KV head per query head) and is kept under GQA/MQA. Pass the field to override.

        Args:
            **changes: :class:`ModelConfig` fields and their new values.

        Returns:
            The new config (``self`` is unchanged).

        Raises:
            BytepairError: (a ``ValueError``) for an unknown field name (the message suggests the field meant,
                e.g. ``layers`` -> ``num_hidden_layers``) or values the new shape cannot have (see
                :class:`ModelConfig`; the message names the fields).
        """
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            hints = []
            for name in unknown:
                near = (
                    [_SHORT_NAMES[name]]
                    if name in _SHORT_NAMES
                    else [n for n in names if name in n] or difflib.get_close_matches(name, names, n=3)
                )
                hints.append(f"{name!r} (did you mean {' or '.join(near)}?)" if near else repr(name))
            listed = "" if all("did you mean" in h for h in hints) else f"; fields: {', '.join(names)}"
            raise BytepairError(f"unknown ModelConfig field(s): {', '.join(hints)}{listed}")
        shape_changed = {"hidden_size", "num_attention_heads"} & set(changes)
        if (
            shape_changed
            and "head_dim" not in changes
            and self.d_head * self.num_attention_heads == self.hidden_size
        ):
            changes["head_dim"] = None
        if (
            "num_attention_heads" in changes
            and "num_key_value_heads" not in changes
            and self.kv_heads == self.num_attention_heads
        ):
            changes["num_key_value_heads"] = None
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------------------------------------------
    @classmethod
    def from_hf(cls, path_or_dict: PathOrDict, **overrides: Any) -> ModelConfig:
        """Build a config from a Hugging Face ``config.json``.

        Args:
            path_or_dict: The parsed config (a mapping), a path to a ``config.json``, or a model directory
                containing one.
            **overrides: :class:`ModelConfig` fields to set after reading, e.g. ``tie_word_embeddings=False``
                or ``pooler=False``.

        Returns:
            The config, with every default that ``transformers`` applies for that model type filled in.

        Raises:
            BytepairError: (a ``ValueError``) if ``model_type`` is missing or not one of
                :data:`SUPPORTED_MODEL_TYPES` (the message lists them), a required field is missing or not an
                integer, or the values are inconsistent (see :class:`ModelConfig`).
            OSError: if the file cannot be read.
        """
        if isinstance(path_or_dict, Mapping):
            raw: Mapping[str, Any] = path_or_dict
        else:
            path = Path(path_or_dict)
            if path.is_dir():
                path = path / "config.json"
            with open(path, encoding="utf-8") as f:
                loaded = json.load(f)
            if not isinstance(loaded, dict):
                raise BytepairError(f"{path}: a config.json must hold a JSON object")
            raw = loaded
        model_type = raw.get("model_type")
        if model_type is None:
            raise BytepairError(
                f"config has no 'model_type'; supported model types: {', '.join(SUPPORTED_MODEL_TYPES)}"
            )
        reader = _READERS.get(model_type)
        if reader is None:
            raise BytepairError(
                f"unsupported model_type {model_type!r}; supported model types: "
                f"{', '.join(SUPPORTED_MODEL_TYPES)}"
            )
        fields = reader(_Raw(raw, model_type))
        fields.setdefault("name", str(raw.get("_name_or_path", "") or ""))
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise BytepairError(f"unknown ModelConfig field(s) in overrides: {', '.join(sorted(unknown))}")
        fields.update(overrides)
        return cls(model_type=model_type, **fields)


def _check_int(field: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BytepairError(f"{field} must be an integer, got {value!r}")
    if value < minimum:
        raise BytepairError(f"{field} must be >= {minimum}, got {value}")


class _Raw:
    """Typed access to a raw HF config dict, with errors that name the model type and field."""

    def __init__(self, raw: Mapping[str, Any], model_type: str) -> None:
        self.raw = raw
        self.model_type = model_type

    def get_int(self, *keys: str, default: int | None = None) -> int:
        """The first of ``keys`` present and not null (HF aliases such as ``n_embd``/``hidden_size``)."""
        for key in keys:
            value = self.raw.get(key)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise BytepairError(
                        f"{self.model_type} config field {key!r} must be an integer, got {value!r}"
                    )
                return value
        if default is None:
            raise BytepairError(
                f"{self.model_type} config is missing required field {' or '.join(map(repr, keys))}"
            )
        return default

    def opt_int(self, key: str) -> int | None:
        return self.get_int(key) if self.raw.get(key) is not None else None

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise BytepairError(
                f"{self.model_type} config field {key!r} must be true or false, got {value!r}"
            )
        return value


# Readers: one per model type, following the module structure of transformers' modeling_<type>.py.
def _llama_like(c: _Raw, *, qkv_bias: bool = False, tie: bool = False) -> dict[str, Any]:
    attention_bias = c.get_bool("attention_bias", False)
    return {
        "vocab_size": c.get_int("vocab_size"),
        "hidden_size": c.get_int("hidden_size"),
        "intermediate_size": c.get_int("intermediate_size"),
        "num_hidden_layers": c.get_int("num_hidden_layers"),
        "num_attention_heads": c.get_int("num_attention_heads"),
        "num_key_value_heads": c.opt_int("num_key_value_heads"),
        "head_dim": c.opt_int("head_dim"),
        "tie_word_embeddings": c.get_bool("tie_word_embeddings", tie),
        "qkv_bias": qkv_bias or attention_bias,
        "attn_out_bias": attention_bias,
        "mlp_bias": c.get_bool("mlp_bias", False),
        "norm_type": "rmsnorm",
        "gated_mlp": True,
        "position_embedding_type": "rotary",
        "max_position_embeddings": c.get_int("max_position_embeddings", default=0),
    }


def _llama(c: _Raw) -> dict[str, Any]:
    return _llama_like(c)


def _mixtral(c: _Raw) -> dict[str, Any]:
    fields = _llama_like(c)
    fields.update(
        num_experts=c.get_int("num_local_experts"), num_experts_per_tok=c.get_int("num_experts_per_tok")
    )
    return fields


def _qwen2(c: _Raw) -> dict[str, Any]:
    # Qwen2Attention: q/k/v with bias, o_proj without.
    fields = _llama_like(c, qkv_bias=True)
    fields["attn_out_bias"] = False
    return fields


def _qwen2_moe(c: _Raw) -> dict[str, Any]:
    fields = _qwen2(c)
    shared = c.get_int("shared_expert_intermediate_size", default=0)
    only = c.raw.get("mlp_only_layers") or []
    if not isinstance(only, list) or not all(isinstance(i, int) for i in only):
        raise BytepairError(
            f"qwen2_moe config field 'mlp_only_layers' must be a list of integers, got {only!r}"
        )
    fields.update(
        num_experts=c.get_int("num_experts"),
        num_experts_per_tok=c.get_int("num_experts_per_tok"),
        moe_intermediate_size=c.get_int("moe_intermediate_size"),
        num_shared_experts=1 if shared else 0,
        shared_expert_intermediate_size=shared,
        shared_expert_gate=bool(shared),
        decoder_sparse_step=c.get_int("decoder_sparse_step", default=1),
        mlp_only_layers=tuple(only),
    )
    return fields


def _gemma(c: _Raw) -> dict[str, Any]:
    # GemmaConfig ties embeddings by default and always gives head_dim (256 for 2B and 7B).
    return _llama_like(c, tie=True)


def _gpt2(c: _Raw) -> dict[str, Any]:
    d = c.get_int("n_embd", "hidden_size")
    return {
        "vocab_size": c.get_int("vocab_size"),
        "hidden_size": d,
        "intermediate_size": c.get_int("n_inner", default=4 * d),
        "num_hidden_layers": c.get_int("n_layer", "num_hidden_layers"),
        "num_attention_heads": c.get_int("n_head", "num_attention_heads"),
        "tie_word_embeddings": c.get_bool("tie_word_embeddings", True),
        "qkv_bias": True,
        "attn_out_bias": True,
        "mlp_bias": True,
        "norm_type": "layernorm",
        "gated_mlp": False,
        "position_embedding_type": "absolute",
        "max_position_embeddings": c.get_int("n_positions", "max_position_embeddings"),
    }


def _gptj(c: _Raw) -> dict[str, Any]:
    # GPTJBlock: one ln_1 feeding attention and MLP in parallel; q/k/v/out without bias; lm_head with bias.
    d = c.get_int("n_embd", "hidden_size")
    return {
        "vocab_size": c.get_int("vocab_size"),
        "hidden_size": d,
        "intermediate_size": c.get_int("n_inner", default=4 * d),
        "num_hidden_layers": c.get_int("n_layer", "num_hidden_layers"),
        "num_attention_heads": c.get_int("n_head", "num_attention_heads"),
        "tie_word_embeddings": c.get_bool("tie_word_embeddings", False),
        "mlp_bias": True,
        "lm_head_bias": True,
        "norm_type": "layernorm",
        "norms_per_layer": 1,
        "gated_mlp": False,
        "parallel_attn_mlp": True,
        "position_embedding_type": "rotary",
        "max_position_embeddings": c.get_int("n_positions", default=0),
    }


def _gpt_neox(c: _Raw) -> dict[str, Any]:
    # GPTNeoXLayer keeps input_layernorm and post_attention_layernorm even with use_parallel_residual.
    bias = c.get_bool("attention_bias", True)
    return {
        "vocab_size": c.get_int("vocab_size"),
        "hidden_size": c.get_int("hidden_size"),
        "intermediate_size": c.get_int("intermediate_size"),
        "num_hidden_layers": c.get_int("num_hidden_layers"),
        "num_attention_heads": c.get_int("num_attention_heads"),
        "tie_word_embeddings": c.get_bool("tie_word_embeddings", False),
        "qkv_bias": bias,
        "attn_out_bias": bias,
        "mlp_bias": True,
        "norm_type": "layernorm",
        "gated_mlp": False,
        "parallel_attn_mlp": c.get_bool("use_parallel_residual", True),
        "position_embedding_type": "rotary",
        "max_position_embeddings": c.get_int("max_position_embeddings", default=0),
    }


def _phi(c: _Raw) -> dict[str, Any]:
    # PhiDecoderLayer: one input_layernorm, parallel attention and MLP, biases everywhere, lm_head with bias.
    return {
        "vocab_size": c.get_int("vocab_size"),
        "hidden_size": c.get_int("hidden_size"),
        "intermediate_size": c.get_int("intermediate_size"),
        "num_hidden_layers": c.get_int("num_hidden_layers"),
        "num_attention_heads": c.get_int("num_attention_heads"),
        "num_key_value_heads": c.opt_int("num_key_value_heads"),
        "tie_word_embeddings": c.get_bool("tie_word_embeddings", False),
        "qkv_bias": True,
        "attn_out_bias": True,
        "mlp_bias": True,
        "lm_head_bias": True,
        "norm_type": "layernorm",
        "norms_per_layer": 1,
        "gated_mlp": False,
        "parallel_attn_mlp": True,
        "qk_norm": c.get_bool("qk_layernorm", False),
        "position_embedding_type": "rotary",
        "max_position_embeddings": c.get_int("max_position_embeddings", default=0),
    }


def _phi3(c: _Raw) -> dict[str, Any]:
    # Phi3: fused qkv_proj and gate_up_proj, same parameter count as separate Llama projections.
    return _llama_like(c)


def _bert(c: _Raw) -> dict[str, Any]:
    # BertModel (add_pooling_layer=True): word/position/token-type embeddings + LayerNorm, post-norm blocks,
    # no final norm, pooler; no vocabulary head.
    pet = c.raw.get("position_embedding_type", "absolute")
    if pet != "absolute":
        raise BytepairError(
            f"bert config field 'position_embedding_type' {pet!r} is not supported (only 'absolute')"
        )
    return {
        "vocab_size": c.get_int("vocab_size"),
        "hidden_size": c.get_int("hidden_size"),
        "intermediate_size": c.get_int("intermediate_size"),
        "num_hidden_layers": c.get_int("num_hidden_layers"),
        "num_attention_heads": c.get_int("num_attention_heads"),
        "qkv_bias": True,
        "attn_out_bias": True,
        "mlp_bias": True,
        "norm_type": "layernorm",
        "final_norm": False,
        "embedding_norm": True,
        "gated_mlp": False,
        "position_embedding_type": "absolute",
        "max_position_embeddings": c.get_int("max_position_embeddings"),
        "type_vocab_size": c.get_int("type_vocab_size", default=2),
        "has_lm_head": False,
        "pooler": True,
    }


def _opt(c: _Raw) -> dict[str, Any]:
    # OPTLearnedPositionalEmbedding has max_position_embeddings + 2 rows; the final norm exists only with
    # do_layer_norm_before; project_in/out exist when word_embed_proj_dim != hidden_size.
    d = c.get_int("hidden_size")
    bias = c.get_bool("enable_bias", True)
    proj = c.get_int("word_embed_proj_dim", default=d)
    return {
        "vocab_size": c.get_int("vocab_size"),
        "hidden_size": d,
        "intermediate_size": c.get_int("ffn_dim"),
        "num_hidden_layers": c.get_int("num_hidden_layers"),
        "num_attention_heads": c.get_int("num_attention_heads"),
        "tie_word_embeddings": c.get_bool("tie_word_embeddings", True),
        "qkv_bias": bias,
        "attn_out_bias": bias,
        "mlp_bias": bias,
        "norm_type": "layernorm",
        "gated_mlp": False,
        "final_norm": c.get_bool("do_layer_norm_before", True)
        and not c.get_bool("_remove_final_layer_norm", False),
        "position_embedding_type": "absolute",
        "max_position_embeddings": c.get_int("max_position_embeddings"),
        "position_embedding_offset": 2,
        "word_embed_proj_dim": None if proj == d else proj,
    }


_READERS: dict[str, Callable[[_Raw], dict[str, Any]]] = {
    "llama": _llama,
    "mistral": _llama,
    "mixtral": _mixtral,
    "qwen2": _qwen2,
    "qwen2_moe": _qwen2_moe,
    "gemma": _gemma,
    "gpt2": _gpt2,
    "gptj": _gptj,
    "gpt_neox": _gpt_neox,
    "phi": _phi,
    "phi3": _phi3,
    "bert": _bert,
    "opt": _opt,
}

#: Hugging Face ``model_type`` values that :meth:`ModelConfig.from_hf` reads.
SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(_READERS)
