"""``bytepair shrink``: what cutting layers, width, heads or vocabulary does to a model."""

from __future__ import annotations

import argparse
from typing import Any

from .cli_calc import resolve_model
from .compare import compare
from .memory import KV_DTYPES, WEIGHT_DTYPES

# (option, ModelConfig field, help)
_SIZE_OPTIONS = (
    ("--layers", "num_hidden_layers", "transformer blocks"),
    ("--hidden", "hidden_size", "model width d_model"),
    ("--heads", "num_attention_heads", "query heads"),
    ("--kv-heads", "num_key_value_heads", "key/value heads (GQA)"),
    ("--head-dim", "head_dim", "width of one head (default: derived, hidden / heads)"),
    ("--intermediate", "intermediate_size", "MLP width"),
    ("--vocab", "vocab_size", "vocabulary size (rows of the embedding table)"),
    ("--experts", "num_experts", "routed experts per MoE layer"),
    ("--experts-per-tok", "num_experts_per_tok", "routed experts each token uses"),
    ("--moe-intermediate", "moe_intermediate_size", "width of one routed expert's MLP"),
)


def _shrink(args: argparse.Namespace) -> int:
    base = resolve_model(args.model)
    changes: dict[str, Any] = {
        field: getattr(args, field) for _, field, _ in _SIZE_OPTIONS if getattr(args, field) is not None
    }
    if args.tie is not None:
        changes["tie_word_embeddings"] = args.tie
    c = compare(
        base,
        dtype=args.dtype,
        base_dtype=args.base_dtype,
        kv_dtype=args.kv_dtype,
        seq_len=args.seq_len,
        group_size=args.group_size,
        **changes,
    )
    print(c.table())
    return 0


def register(subparsers: Any) -> None:
    """Add the ``shrink`` sub-command."""
    p = subparsers.add_parser(
        "shrink",
        help="what-if: parameters, memory and FLOPs of a model with other sizes",
        description="Change a model's sizes and weight format and compare it with the original: parameters "
        "by component, weight memory, KV cache per token and FLOPs per token, with the ratios. "
        "Example: bytepair shrink llama-3-8b --layers 16 --hidden 3072 --vocab 32000 --dtype int4",
    )
    p.add_argument(
        "model",
        help="a catalog name (see `bytepair models`), a Hugging Face repo id in the catalog, "
        "or a config.json",
    )
    for option, field, text in _SIZE_OPTIONS:
        p.add_argument(option, dest=field, type=int, metavar="N", help=text)
    tie = p.add_mutually_exclusive_group()
    tie.add_argument(
        "--untie", dest="tie", action="store_const", const=False, help="separate output table (lm_head)"
    )
    tie.add_argument(
        "--tie", dest="tie", action="store_const", const=True, help="output table shares the embedding"
    )
    p.add_argument(
        "--dtype", default=None, choices=WEIGHT_DTYPES, help="the new model's weights (default: --base-dtype)"
    )
    p.add_argument("--base-dtype", default="bf16", choices=WEIGHT_DTYPES, help="the original's weights")
    p.add_argument("--kv-dtype", default="bf16", choices=tuple(KV_DTYPES), help="KV cache format")
    p.add_argument("--seq-len", type=int, default=2048, help="context length for FLOPs (default 2048)")
    p.add_argument("--group-size", type=int, default=128, help="int4 group size (default 128)")
    p.set_defaults(func=_shrink, tie=None)
