"""bytepair's own tokenizer file (``tok.save`` / ``Tokenizer.load``): versioned, self-describing JSON, parsed and
validated in Rust (``bytepair-core/src/formats/native.rs``).

Layout (version 1)::

    {"format": "bytepair", "version": 1,
     "pattern": "<regex>", "pattern_name": "o200k" | null, "n_vocab": 200019,
     "special_tokens": [["<|endoftext|>", 199999], ...],
     "ranks": [["IQ==", 0], ...],                        # base64 token, rank (= id), tiktoken-style
       or "vocab": [[0, "AA=="], ...], "merges": [["IA==", "dA=="], ...],   # trained / GPT-2 style
     "checksum": "fnv1a64:..."}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .. import _core
from .._core import FormatError

if TYPE_CHECKING:  # pragma: no cover
    from ..tokenizer import Tokenizer

PathLike = str | os.PathLike[str]

FORMAT_NAME = "bytepair"
FORMAT_VERSION = 1


def dumps(tok: Tokenizer) -> bytes:
    """The file's bytes."""
    return _core.dump_bytepair(tok._core)


def loads(data: bytes, source: str = "<bytes>") -> Tokenizer:
    """A tokenizer from a file's bytes; errors name ``source``."""
    from ..tokenizer import Tokenizer

    return Tokenizer._wrap(_core.load_bytepair(data, source))


def save(tok: Tokenizer, path: PathLike) -> None:
    """Writes ``tok`` to ``path`` (atomically: a temporary file renamed over the target)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_bytes(dumps(tok))
    os.replace(tmp, p)


def load(path: PathLike) -> Tokenizer:
    """Reads a file written by :func:`save`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"tokenizer file not found: {p}") from None
    if not data.strip():
        raise FormatError(f"{p}: empty file, not a bytepair tokenizer")
    return loads(data, str(p))


def _unpickle(data: bytes) -> Tokenizer:
    """Pickle support: ``Tokenizer.__reduce__`` stores the file bytes."""
    return loads(data, "<pickle>")
