"""Format sub-commands of the ``bytepair`` CLI: ``inspect`` (what a tokenizer file holds) and ``convert`` (between
bytepair, tiktoken, Hugging Face and GPT-2 formats). The input format is detected from the content."""

from __future__ import annotations

import argparse

from .formats import FORMATS, detect_format, load_any, save_as
from .tokenizer import PATTERNS, Tokenizer


def _show(b: bytes) -> str:
    try:
        return repr(b.decode("utf-8"))
    except UnicodeDecodeError:
        return repr(b)


def summary(tok: Tokenizer, *, top: int = 10, merges: int = 10) -> list[str]:
    """The lines ``bytepair inspect`` prints for ``tok``."""
    special_ids = set(tok.special_tokens.values())
    regular = [(i, b) for i, b in tok.vocab.items() if i not in special_ids]
    invalid = 0
    for _, b in regular:
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            invalid += 1
    name = next((k for k, v in PATTERNS.items() if v == tok.pattern), None)
    all_merges = tok.merges
    lines = [
        (
            f"n_vocab:        {tok.n_vocab:,} ({len(regular):,} regular tokens, {len(special_ids)} special, "
            f"{tok.n_vocab - len(regular) - len(special_ids):,} unassigned ids)"
        ),
        f"merges:         {len(all_merges):,}",
        f"pattern:        {name if name else 'custom'}" + ("" if name else f" {tok.pattern!r}"),
        f"special tokens: {len(special_ids)}"
        + "".join(f"\n  {i:>8}  {t!r}" for t, i in sorted(tok.special_tokens.items(), key=lambda kv: kv[1])),
        f"not valid UTF-8 on their own: {invalid:,} of {len(regular):,} tokens ({invalid / max(1, len(regular)):.1%})",
        f"longest tokens (top {top}, by bytes):",
    ]
    for i, b in sorted(regular, key=lambda ib: (-len(ib[1]), ib[0]))[:top]:
        lines.append(f"  {i:>8}  {len(b):>4} B  {_show(b)}")
    if all_merges:
        lines.append(f"merges (first {min(merges, len(all_merges))} and last {min(3, len(all_merges))}):")
        shown = list(enumerate(all_merges))
        picked = shown[:merges] + ([(-1, (b"", b""))] if len(shown) > merges + 3 else []) + shown[max(merges, len(shown) - 3):]
        for k, (a, b) in picked:
            lines.append("  ..." if k < 0 else f"  {k:>8}  {_show(a)} + {_show(b)}")
    return lines


def cmd_inspect(args: argparse.Namespace) -> int:
    fmt = detect_format(args.path)
    tok = load_any(args.path, pattern=args.pattern)
    print(f"{args.path}: {fmt} format, {tok!r}")
    for line in summary(tok, top=args.top, merges=args.merges):
        print(line)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    fmt = detect_format(args.input)
    tok = load_any(args.input, pattern=args.pattern)
    written = save_as(tok, args.output, args.to)
    print(f"read {args.input} ({fmt}): {tok!r}")
    print("wrote " + ", ".join(str(p) for p in written) + f" ({args.to})")
    if args.to == "tiktoken":
        print("note: a .tiktoken file holds neither the pattern nor the special tokens; pass pattern= and "
              f"special_tokens= to Tokenizer.from_tiktoken (pattern: {tok.pattern!r}, specials: {tok.special_tokens})")
    elif args.to == "gpt2" and tok.pattern != PATTERNS["gpt2"]:
        print(f"note: GPT-2 files do not store the pattern; read them back with pattern={tok.pattern!r}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "inspect",
        help="show what a tokenizer file holds (bytepair, .tiktoken, tokenizer.json, GPT-2 vocab.json/merges.txt)",
    )
    p.add_argument("path", help="a tokenizer file, or a directory with tokenizer.json or vocab.json + merges.txt")
    p.add_argument("--pattern", default=None, help="pattern for formats that do not store one (gpt2, cl100k, o200k, regex)")
    p.add_argument("--top", type=int, default=10, help="how many of the longest tokens to show (default 10)")
    p.add_argument("--merges", type=int, default=10, help="how many of the first merges to show (default 10)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("convert", help="convert a tokenizer between formats (the input format is detected)")
    p.add_argument("input", help="a tokenizer file in any supported format (or a directory)")
    p.add_argument("output", help="output file (a directory for --to gpt2)")
    p.add_argument("--to", required=True, choices=FORMATS, help="output format")
    p.add_argument("--pattern", default=None, help="pattern for input formats that do not store one")
    p.set_defaults(func=cmd_convert)


__all__ = ["register", "summary"]
