"""Vocabulary sweep on the shared corpus: held-out compression per language and Llama-3-8B embedding cost.

Usage: python benches/sweep_corpus.py [--shared ../shared] [--sizes 4096,8192,16384,32768,65536] [--model llama-3-8b]

The last 10% of the lines of every file of ``corpus/en`` and ``corpus/multi`` is held out; held-out text is grouped
as ``en`` (all English files) and one group per multilingual file (named by its language prefix). Training uses the
rest (cl100k pattern, ``<|endoftext|>`` special token). Writes ``benches/results/sweep.md`` and ``sweep.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bytepair as bp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--sizes", default="4096,8192,16384,32768,65536")
    ap.add_argument("--model", default="llama-3-8b")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args()
    corpus = Path(args.shared) / "corpus"
    train: list[str] = []
    held: dict[str, list[str]] = {}
    for sub in ("en", "multi"):
        for p in sorted((corpus / sub).glob("*.txt")):
            lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
            cut = len(lines) - max(1, len(lines) // 10)
            train.append("".join(lines[:cut]))
            name = "en" if sub == "en" else p.stem.split("_")[0]
            held.setdefault(name, []).append("".join(lines[cut:]))
    sizes = [int(s) for s in args.sizes.split(",")]
    t0 = time.perf_counter()
    sweep = bp.vocab_sweep(train, sizes, held_out=held, special_tokens=["<|endoftext|>"], model=args.model)
    seconds = time.perf_counter() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sweep.plot(out / "sweep.png")
    names = list(held)
    lines = [
        "| vocab | all held-out | " + " | ".join(names) + f" | {args.model} embedding params | share | GiB (bf16) |",
        "|---:|---:|" + "---:|" * len(names) + "---:|---:|---:|",
    ]
    for r in sweep.rows:
        lines.append(
            f"| {r.vocab_size:,} | {r.bytes_per_token:.3f} | "
            + " | ".join(f"{r.by_name[n]:.3f}" for n in names)
            + f" | {r.embedding_params:,} | {100 * (r.embedding_share or 0):.2f}% | {(r.embedding_bytes or 0) / 2**30:.3f} |"
        )
    text = (
        "Held-out bytes per token (higher is better) per language, and the token tables' cost in "
        f"{args.model} (input + untied output head).\n\n" + "\n".join(lines) + "\n\n"
        f"Made by `python benches/sweep_corpus.py` in {seconds:.0f} s (one training at {max(sizes):,}, truncated "
        "for the smaller sizes).\n"
    )
    (out / "sweep.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
