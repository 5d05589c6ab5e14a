"""``bytepair params | memory | flops | models``: the calculators on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._core import BytepairError
from .catalog import models, models_table, plot_embedding_share
from .config import ModelConfig
from .flops import flops_per_token
from .memory import WEIGHT_DTYPES, KVCacheSpec, LoRASpec, TrainingSpec, estimate_memory
from .params import count_parameters, count_parameters_safetensors

_MODEL_HELP = (
    "a catalog name (see `bytepair models`), a Hugging Face repo id in the catalog, or a config.json"
)


def resolve_model(spec: str) -> ModelConfig:
    """A config from a catalog name / Hugging Face id, a ``config.json`` or a model directory.

    Raises:
        BytepairError: if ``spec`` is neither an existing path nor a catalog model.
    """
    path = Path(spec)
    if path.exists():
        return ModelConfig.from_hf(path)
    if spec in models:
        return models[spec]
    raise BytepairError(
        f"{spec!r} is neither a file nor a catalog model; catalog models: {', '.join(models)}"
    )


def _is_checkpoint(path: Path) -> bool:
    if path.is_dir():
        return not (path / "config.json").exists() and any(path.glob("*.safetensors"))
    if path.suffix == ".safetensors":
        return True
    if path.suffix == ".json" and path.exists():
        try:
            with open(path, encoding="utf-8") as f:
                data: Any = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return False
        return isinstance(data, dict) and "weight_map" in data
    return False


def _params(args: argparse.Namespace) -> int:
    path = Path(args.model)
    if _is_checkpoint(path):
        print(count_parameters_safetensors(path).table())
        return 0
    cfg = resolve_model(args.model)
    if args.untied:
        import dataclasses

        cfg = dataclasses.replace(cfg, tie_word_embeddings=False)
    print(count_parameters(cfg).table())
    return 0


def _memory(args: argparse.Namespace) -> int:
    cfg = resolve_model(args.model)
    kv = KVCacheSpec(args.seq_len, args.batch, args.kv_dtype) if args.seq_len and not args.train else None
    if args.seq_len and args.train:
        print(
            "note: --seq-len/--batch size the inference KV cache, which training does not keep; training "
            "activations are not estimated",
            file=sys.stderr,
        )
    training = (
        TrainingSpec(
            optimizer=args.optimizer, grad_dtype=args.grad_dtype, zero_stage=args.zero, num_gpus=args.gpus
        )
        if args.train
        else None
    )
    if not args.train and (args.zero or args.gpus != 1):
        raise BytepairError("--zero and --gpus apply to training; add --train")
    lora = None
    if args.lora_rank:
        targets: Any = args.lora_targets
        targets = "all-linear" if targets == "all-linear" else tuple(t for t in targets.split(",") if t)
        lora = LoRASpec(args.lora_rank, targets, args.lora_dtype)
    est = estimate_memory(
        cfg, weights_dtype=args.dtype, kv_cache=kv, training=training, lora=lora, group_size=args.group_size
    )
    print(est.table())
    return 0


def _flops(args: argparse.Namespace) -> int:
    print(flops_per_token(resolve_model(args.model), args.seq_len, training=args.train).table())
    return 0


def _models(args: argparse.Namespace) -> int:
    print(models_table())
    if args.plot:
        plot_embedding_share(args.plot)
        print(f"wrote {args.plot}")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``params``, ``memory``, ``flops`` and ``models`` sub-commands."""
    p = subparsers.add_parser(
        "params",
        help="count a model's parameters by component",
        description="Count parameters exactly, by component, from a catalog model, a "
        "config.json, or a safetensors checkpoint (header only).",
    )
    p.add_argument(
        "model",
        metavar="MODEL_OR_CONFIG_JSON",
        help=_MODEL_HELP + ", or a .safetensors file / model.safetensors.index.json",
    )
    p.add_argument("--untied", action="store_true", help="count with untied input/output embeddings")
    p.set_defaults(func=_params)

    m = subparsers.add_parser(
        "memory",
        help="memory of weights, KV cache, training state, LoRA",
        description="Memory in bytes, GB (10^9) and GiB (2^30). Activations are not included.",
    )
    m.add_argument("model", help=_MODEL_HELP)
    m.add_argument("--dtype", default="bf16", choices=WEIGHT_DTYPES, help="weights format (default bf16)")
    m.add_argument("--group-size", type=int, default=128, help="int4 group size (default 128)")
    m.add_argument("--seq-len", type=int, default=0, help="tokens per sequence for the KV cache")
    m.add_argument("--batch", type=int, default=1, help="sequences in the KV cache (default 1)")
    m.add_argument("--kv-dtype", default="bf16", help="KV cache format (default bf16)")
    m.add_argument("--train", action="store_true", help="add gradients and optimizer state")
    m.add_argument("--optimizer", default="adam", help="adam, adamw or sgd (default adam)")
    m.add_argument(
        "--grad-dtype", default=None, help="gradient format (default: the trained weights' format)"
    )
    m.add_argument("--zero", type=int, default=0, choices=(0, 1, 2, 3), help="ZeRO stage (default 0)")
    m.add_argument("--gpus", type=int, default=1, help="data-parallel GPUs (default 1)")
    m.add_argument("--lora-rank", type=int, default=0, help="add LoRA adapters of this rank")
    m.add_argument(
        "--lora-targets",
        default="q_proj,v_proj",
        help="comma-separated modules or all-linear (default q_proj,v_proj)",
    )
    m.add_argument("--lora-dtype", default="bf16", help="adapter format (default bf16)")
    m.set_defaults(func=_memory)

    f = subparsers.add_parser("flops", help="FLOPs per token (Kaplan et al. 2020)")
    f.add_argument("model", help=_MODEL_HELP)
    f.add_argument("--seq-len", type=int, default=2048, help="context length (default 2048)")
    f.add_argument("--train", action="store_true", help="forward + backward (3x forward)")
    f.set_defaults(func=_flops)

    c = subparsers.add_parser("models", help="the catalog of real models with embedding shares")
    c.add_argument("--plot", metavar="PATH", help="also draw embedding share vs model size to a PNG")
    c.set_defaults(func=_models)
