"""``bytepair analyze`` and ``bytepair sweep``: compression on your text, and the cost of each vocabulary size."""

from __future__ import annotations

import argparse
from pathlib import Path

from .analysis import analyze, vocab_sweep


def _split_held_out(paths: list[Path], share: float) -> tuple[list[str], dict[str, str]]:
    """Training text and held-out text per file (named by its stem): the last ``share`` of each file's lines."""
    train, held = [], {}
    for p in paths:
        lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
        cut = len(lines) - max(1, int(len(lines) * share))
        train.append("".join(lines[:cut]))
        held[p.stem] = "".join(lines[cut:])
    return train, held


def cmd_analyze(args: argparse.Namespace) -> int:
    from .cli_tokenizer import load_tokenizer

    tok = load_tokenizer(args.tokenizer)
    texts = {Path(f).stem: Path(f).read_text(encoding="utf-8") for f in args.files}
    print(f"{tok!r}")
    print(analyze(tok, texts).table())
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    paths = [Path(f) for f in args.files]
    if args.held_out:
        train: list[str] | list[Path] = paths
        held = {Path(f).stem: Path(f).read_text(encoding="utf-8") for f in args.held_out}
    else:
        train, held = _split_held_out(paths, args.held_out_share)
    specials = [t for t in (args.special_tokens or "").split(",") if t]
    sweep = vocab_sweep(
        train, sizes, held_out=held, pattern=args.pattern, special_tokens=specials, model=args.model,
        dtype=args.dtype, progress=not args.quiet,
    )
    print(sweep.table())
    if args.plot:
        sweep.plot(args.plot)
        print(f"plot written to {args.plot}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("analyze", help="compression of a tokenizer on text files (bytes/chars per token, ...)")
    p.add_argument("tokenizer", help="a tokenizer file (any supported format)")
    p.add_argument("files", nargs="+", help="UTF-8 text files; each is reported by its name")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser(
        "sweep", help="train at several vocab sizes: held-out compression and embedding cost for a model"
    )
    p.add_argument("files", nargs="+", help="UTF-8 training files")
    p.add_argument("--sizes", default="4096,8192,16384,32768,65536", help="comma-separated vocab sizes")
    p.add_argument("--held-out", nargs="*", default=None, help="held-out files (default: the last 10%% of each file)")
    p.add_argument("--held-out-share", type=float, default=0.1, help="share of lines held out when no --held-out")
    p.add_argument("--model", default=None, help="a catalog model for embedding cost, e.g. llama-3-8b")
    p.add_argument("--dtype", default="bf16", help="embedding memory dtype (fp32, fp16, bf16, fp8, int8)")
    p.add_argument("--pattern", default="cl100k")
    p.add_argument("--special-tokens", default="", help="comma-separated")
    p.add_argument("--plot", default=None, help="write a PNG chart here")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_sweep)
