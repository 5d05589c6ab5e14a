"""Tokenizer sub-commands of the ``bytepair`` CLI: ``train``, ``encode``, ``decode`` and ``demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .tokenizer import Tokenizer


def load_tokenizer(spec: str) -> Tokenizer:
    """Loads a tokenizer from any supported file (bytepair, ``.tiktoken`` ranks, ``tokenizer.json``, GPT-2
    ``vocab.json``/``merges.txt`` or their directory), detected from the content."""
    p = Path(spec)
    if not p.exists():
        raise FileNotFoundError(f"tokenizer file not found: {spec}")
    return Tokenizer.from_file(p)


def _special_list(s: str | None) -> list[str]:
    return [t for t in (s or "").split(",") if t]


def _peak_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss) if sys.platform == "darwin" else int(rss) * 1024


def _init_ray(args: argparse.Namespace) -> bool:
    """Connects to Ray when ``--ray`` or ``--address`` is given (``--address`` alone implies ``--ray``): the cluster
    at ADDR, else the one in ``RAY_ADDRESS``, else a new local instance."""
    if not (args.ray or args.address):
        return False
    try:
        import ray
    except ImportError:
        raise ImportError("--ray needs Ray Data: pip install 'bytepair[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=args.address)
    return True


def _add_ray_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ray", action="store_true", help="run on Ray (a local instance, or the cluster in RAY_ADDRESS)")
    p.add_argument("--address", default=None, metavar="ADDR", help="Ray cluster address (implies --ray), e.g. auto")


def cmd_train(args: argparse.Namespace) -> int:
    import time

    from .counts import count_pretokens

    specials = list(args.special or []) + [t for t in _special_list(args.special_tokens) if t not in (args.special or [])]
    start = time.perf_counter()
    if _init_ray(args):
        from .distributed import _expand_paths, count_pretokens_ray

        paths = [Path(p) for p in _expand_paths(args.files)]
        counts = count_pretokens_ray(paths, pattern=args.pattern, special_tokens=specials, errors=args.errors)
    else:
        paths = [Path(p) for p in args.files]
        counts = count_pretokens(
            paths,
            pattern=args.pattern,
            special_tokens=specials,
            num_threads=args.threads,
            errors=args.errors,
            progress=not args.quiet,
        )
    counted = time.perf_counter()
    tok = Tokenizer.train_from_counts(
        counts,
        args.vocab_size,
        special_tokens=specials,
        min_frequency=args.min_frequency,
        max_token_length=args.max_token_length,
        progress=not args.quiet,
    )
    done = time.perf_counter()
    tok.save(args.out)
    size = sum(p.stat().st_size for p in paths)
    seconds = done - start
    rss = _peak_rss_bytes()
    print(f"trained {tok!r} on {len(paths)} file(s), {size / 1e6:,.1f} MB; saved to {args.out}")
    print(
        f"time {seconds:.2f} s (counting {counted - start:.2f} s, merges {done - counted:.2f} s), "
        f"{size / 1e6 / max(seconds, 1e-9):,.1f} MB/s, {len(counts):,} unique pre-tokens, "
        f"{len(tok.merges):,} merges"
        + (f", peak RSS {rss / 1e6:,.0f} MB" if rss is not None else "")
    )
    return 0


def _read_input(args: argparse.Namespace) -> str:
    if len(args.inputs) > 1:
        raise ValueError("give one TEXT to encode (or several FILES with --out DIR to write token shards)")
    if args.inputs:
        text = str(args.inputs[0])
        if Path(text).is_file() and not args.file:
            print(f"note: encoding the argument {text!r} itself; use -f {text} to encode the file's text, or "
                  "--out DIR to write its token shards", file=sys.stderr)
        return text
    if args.file:
        # newline="": the text as it is in the file (\r\n stays \r\n, as --out and tiktoken see it)
        with open(args.file, encoding="utf-8", newline="") as f:
            return f.read()
    return sys.stdin.read()


def cmd_encode(args: argparse.Namespace) -> int:
    tok = load_tokenizer(args.tokenizer)
    allowed: str | set[str] = "all" if args.allowed_special == "all" else set(_special_list(args.allowed_special))
    if args.out:
        from .shards import encode_files

        if not args.inputs:
            raise ValueError("--out needs input FILES")
        if _init_ray(args):
            from .distributed import encode_dataset_ray

            summary = encode_dataset_ray(
                tok, args.inputs, args.out, dtype=args.dtype, separator=args.separator or None,
                allowed_special=allowed, disallowed_special=() if args.plain_specials else "all",
                shard_bytes=args.shard_bytes,
            )
            print(
                f"encoded {summary['shards']} shard(s) on Ray ({summary['skipped']} already complete): "
                f"{summary['tokens']:,} {summary['dtype']} tokens in {args.out} (manifest.json, tokenizer "
                f"{summary['fingerprint'][:19]})"
            )
            return 0
        summary = encode_files(
            tok, args.inputs, args.out, dtype=args.dtype, separator=args.separator or None,
            allowed_special=allowed, disallowed_special=() if args.plain_specials else "all",
            num_threads=args.threads, progress=not args.quiet, shard_tokens=args.shard_tokens,
        )
        mb = summary["bytes"] / 1e6
        print(
            f"encoded {summary['documents']} file(s), {mb:.1f} MB -> {summary['tokens']:,} tokens "
            f"({summary['bytes'] / max(summary['tokens'], 1):.2f} bytes/token) in {summary['seconds']:.2f} s "
            f"({mb / max(summary['seconds'], 1e-9):.1f} MB/s); {len(summary['paths'])} {summary['dtype']} shard(s) "
            f"and manifest.json in {args.out}"
        )
        return 0
    text = _read_input(args)
    ids = tok.encode(text, allowed_special=allowed, disallowed_special=() if args.plain_specials else "all")
    if args.output:
        import numpy as np

        with open(args.output, "wb") as f:  # this exact path (np.save on a name would add .npy)
            np.save(f, np.asarray(ids, dtype=np.uint32))
        print(f"{len(ids)} tokens written to {args.output}", file=sys.stderr)
    else:
        print(" ".join(map(str, ids)))
    return 0


def cmd_decode(args: argparse.Namespace) -> int:
    tok = load_tokenizer(args.tokenizer)
    if args.ids:
        raw = args.ids
    else:
        raw = sys.stdin.read().split()
    try:
        ids = [int(x) for x in raw]
    except ValueError as e:
        raise ValueError(f"token ids must be integers: {e}") from None
    sys.stdout.write(tok.decode(ids))
    if sys.stdout.isatty():
        sys.stdout.write("\n")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(vocab_size=args.vocab_size, max_bytes=args.max_bytes, quiet=args.quiet)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("train", help="train a byte-level BPE tokenizer on text files")
    p.add_argument("files", nargs="+", help="UTF-8 text files (each file is a document; with --ray also directories)")
    p.add_argument("--vocab-size", type=int, required=True, help="256 bytes + merges + special tokens")
    p.add_argument("--pattern", default="cl100k", help="gpt2, cl100k, o200k or a regex (default cl100k)")
    p.add_argument(
        "--special", action="append", metavar="TOKEN", help="a special token (repeat for more), e.g. '<|endoftext|>'"
    )
    p.add_argument("--special-tokens", default="", help="comma-separated special tokens (alternative to --special)")
    p.add_argument("--min-frequency", type=int, default=1)
    p.add_argument("--max-token-length", type=int, default=None, help="in bytes")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--errors", choices=["strict", "replace"], default="strict", help="invalid UTF-8 in the files")
    p.add_argument(
        "--out", "-o", "--output", dest="out", required=True, help="where to save the tokenizer (bytepair format)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_ray_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "encode",
        help="encode a text to ids, or text FILES to .npy token shards (--out DIR)",
        description="bytepair encode -t TOK 'some text'  prints ids;  "
        "bytepair encode -t TOK FILES... --out DIR  writes .npy token shards (each file a document).",
    )
    p.add_argument("inputs", nargs="*", help="the text (default: --file or standard input), or FILES with --out")
    p.add_argument("-t", "--tokenizer", required=True, help="a bytepair tokenizer file or a .tiktoken ranks file")
    p.add_argument("-f", "--file", default=None, help="read the text from this UTF-8 file")
    p.add_argument("--allowed-special", default="", help="'all' or comma-separated special tokens to encode as such")
    p.add_argument("--plain-specials", action="store_true", help="encode other special-token text as plain text")
    p.add_argument("-o", "--output", default=None, help="write the ids of TEXT to this .npy file (uint32) instead")
    p.add_argument("--out", default=None, help="directory for token shards of FILES (shard_NNNNN.npy + manifest.json)")
    p.add_argument("--separator", default=None, help="special token appended after each document, e.g. '<|endoftext|>'")
    p.add_argument("--dtype", default=None, choices=["uint16", "uint32"], help="default: uint16 when ids fit")
    p.add_argument("--shard-tokens", type=int, default=100_000_000, help="tokens per shard (default 100M)")
    p.add_argument(
        "--shard-bytes", type=int, default=256 << 20, help="with --ray: text per shard, whole files (default 256 MiB)"
    )
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_ray_args(p)
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("decode", help="decode token ids to text")
    p.add_argument("ids", nargs="*", help="token ids (default: whitespace-separated on standard input)")
    p.add_argument("-t", "--tokenizer", required=True, help="a bytepair tokenizer file or a .tiktoken ranks file")
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser(
        "demo",
        help="train on the Python standard library's docs and sources, then report compression, round trip and speed",
    )
    p.add_argument("--vocab-size", type=int, default=8192)
    p.add_argument("--max-bytes", type=int, default=12_000_000, help="training text budget in bytes")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

