"""``bytepair demo``: the main job on a built-in default input.

Trains a tokenizer (cl100k pattern) on text every Python install carries: the standard library's documentation
topics (``pydoc_data.topics``) and its ``.py`` sources. One file in ten (and one topic in ten) is held out; the
report gives the vocab size, compression on the held-out text, a round-trip check, encoding throughput beside
tiktoken on the same ranks (when tiktoken is installed) and sample tokenizations.
"""

from __future__ import annotations

import sysconfig
import time
from pathlib import Path

from .tokenizer import Tokenizer

SPECIAL = "<|endoftext|>"


def default_corpus(max_bytes: int) -> tuple[list[str], list[str]]:
    """(train, held_out) documents from ``pydoc_data.topics`` and the standard library's ``.py`` files (sorted by path,
    site-packages and non-UTF-8 files skipped). Every tenth document is held out. ``max_bytes`` caps the total."""
    from pydoc_data import topics

    docs: list[str] = [topics.topics[k] for k in sorted(topics.topics)]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    total = sum(len(d.encode("utf-8")) for d in docs)
    for p in sorted(stdlib.rglob("*.py")):
        if "site-packages" in p.parts or "test" in p.parts or "tests" in p.parts:
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        n = len(text.encode("utf-8"))
        if total + n > max_bytes:
            break
        docs.append(text)
        total += n
    train = [d for i, d in enumerate(docs) if i % 10 != 9]
    held = [d for i, d in enumerate(docs) if i % 10 == 9]
    return train, held


def _fmt_rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / seconds / 1e6:6.1f} MB/s" if seconds > 0 else "   inf"


def run_demo(vocab_size: int = 8192, max_bytes: int = 12_000_000, quiet: bool = False) -> int:
    """Runs the demo and prints the report. Returns 0 when the round trip is exact, 1 otherwise."""
    train_docs, held = default_corpus(max_bytes)
    train_bytes = sum(len(d.encode("utf-8")) for d in train_docs)
    held_text = SPECIAL.join(held)
    held_bytes = len(held_text.encode("utf-8"))
    print(f"bytepair demo: training on {len(train_docs)} documents ({train_bytes / 1e6:.1f} MB) from the Python "
          f"standard library; {len(held)} held out ({held_bytes / 1e6:.1f} MB)")
    t0 = time.perf_counter()
    tok = Tokenizer.train(train_docs, vocab_size, pattern="cl100k", special_tokens=[SPECIAL], progress=not quiet)
    t_train = time.perf_counter() - t0
    print(f"trained {tok!r} in {t_train:.2f} s ({_fmt_rate(train_bytes, t_train).strip()})")
    print(f"  vocab size: {tok.n_vocab} ids = 256 bytes + {len(tok.merges)} merges + {len(tok.special_tokens)} "
          "special token")

    t0 = time.perf_counter()
    ids = tok.encode(held_text, allowed_special="all")
    t_ours = time.perf_counter() - t0
    print(f"held-out compression: {held_bytes / len(ids):.3f} bytes per token ({len(ids):,} tokens for "
          f"{held_bytes:,} bytes)")
    ok = tok.decode(ids) == held_text
    print(f"round trip over the held-out text: {'exact' if ok else 'MISMATCH'}")

    try:
        import tiktoken
    except ImportError:
        tiktoken = None  # type: ignore[assignment]
    ordinary = held_text.replace(SPECIAL, "\n")
    t0 = time.perf_counter()
    ours = tok.encode_ordinary(ordinary)
    t_ours = time.perf_counter() - t0
    line = f"throughput (one thread, held-out text): bytepair {_fmt_rate(held_bytes, t_ours)}"
    if tiktoken is not None:
        enc = tiktoken.Encoding(
            "bytepair-demo", pat_str=tok.pattern, mergeable_ranks=tok.mergeable_ranks,
            special_tokens=tok.special_tokens,
        )
        enc.encode_ordinary("warm up")
        t0 = time.perf_counter()
        theirs = enc.encode_ordinary(ordinary)
        t_tik = time.perf_counter() - t0
        same = "identical ids" if theirs == ours else "IDS DIFFER"
        line += f", tiktoken {_fmt_rate(held_bytes, t_tik)} on the same ranks ({t_tik / t_ours:.2f}x; {same})"
        ok = ok and theirs == ours
    else:
        line += " (install tiktoken to compare)"
    print(line)
    print("samples:")
    for s in ["def encode(self, text: str) -> list[int]:", "Hello, world! Tokenizers split text into pieces.",
              "    return {k: v for k, v in items.items()}\n"]:
        pieces = [tok.decode_single_token_bytes(i).decode("utf-8", "replace") for i in tok.encode(s)]
        print(f"  {len(pieces):3d} tokens | " + "|".join(p.replace("\n", "\\n") for p in pieces))
    return 0 if ok else 1
