"""tiktoken ranks files (``.tiktoken``: one ``base64(token) rank`` line per mergeable token, optionally gzip'd) and
conversion to and from ``tiktoken.Encoding``.

A ranks file holds neither the pattern nor the special tokens: the pattern is taken from the file name
(``cl100k``, ``o200k``, ``r50k``/``p50k``/``gpt2``) or must be given, special tokens are given or none.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from .._core import BytepairError, FormatError

if TYPE_CHECKING:  # pragma: no cover
    import tiktoken as _tiktoken

    from ..tokenizer import Tokenizer

PathLike = str | os.PathLike[str]

# File-name fragment -> pattern name (tiktoken's encodings and the patterns they use).
_NAME_HINTS = (("cl100k", "cl100k"), ("o200k", "o200k"), ("r50k", "gpt2"), ("p50k", "gpt2"), ("gpt2", "gpt2"))

# Special tokens of OpenAI's encodings (tiktoken_ext/openai_public.py), used when a file name says which it is.
KNOWN_SPECIALS: dict[str, dict[str, int]] = {
    "cl100k": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "o200k": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    "r50k": {"<|endoftext|>": 50256},
}


def pattern_from_name(path: Path) -> str | None:
    """The pattern name a file name implies, or None."""
    name = path.name.lower()
    for key, pat in _NAME_HINTS:
        if key in name:
            return pat
    return None


def read_bytes(path: Path) -> bytes:
    """The file's contents, gunzipped when gzip'd."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"tiktoken ranks file not found: {path}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise FormatError(f"{path}: corrupt or truncated gzip data: {e}") from None
    return raw


def read_ranks(path: PathLike) -> dict[bytes, int]:
    """``{token bytes: rank}`` of a ranks file (parsed in Rust; errors name the file and line)."""
    p = Path(path)
    return _core.parse_tiktoken(read_bytes(p), str(p))


def load(
    path: PathLike, *, pattern: str | None = None, special_tokens: Mapping[str, int] | None = None
) -> Tokenizer:
    """A tokenizer from a ranks file (see :meth:`bytepair.Tokenizer.from_tiktoken`)."""
    from ..tokenizer import Tokenizer, _check_pattern

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"ranks file not found: {p}" + (" (a directory)" if p.is_dir() else ""))
    if pattern is None:
        pattern = pattern_from_name(p)
        if pattern is None:
            raise BytepairError(
                f"{p}: cannot tell the pre-tokenization pattern from the file name; pass pattern= "
                "(one of 'gpt2', 'cl100k', 'o200k' or a regex)"
            )
    specials = _special_ids(special_tokens)
    core = _core.load_tiktoken(read_bytes(p), str(p), list(specials.items()), _check_pattern(pattern))
    return Tokenizer._wrap(core)


def _special_ids(special_tokens: object) -> dict[str, int]:
    """``special_tokens`` checked to be a ``{str: int id}`` mapping (ids from 0 to 2**32 - 1, each once)."""
    if special_tokens is None:
        return {}
    if not isinstance(special_tokens, Mapping):
        raise TypeError(
            f"special_tokens must be a mapping {{token: id}}, got {type(special_tokens).__name__} "
            "(a ranks file has no ids for special tokens: give them, e.g. {'<|endoftext|>': 100257})"
        )
    out: dict[str, int] = {}
    seen: dict[int, str] = {}
    for t, i in special_tokens.items():
        if not isinstance(t, str):
            raise TypeError(f"special_tokens: token {t!r} is not a str")
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < 2**32 - 1:
            raise BytepairError(f"special_tokens: id of {t!r} must be an int from 0 to 2**32 - 2, got {i!r}")
        i = int(i)
        if i in seen:
            raise BytepairError(f"special_tokens: {seen[i]!r} and {t!r} have the same id {i}")
        seen[i] = t
        out[t] = i
    return out


def dumps(tok: Tokenizer) -> bytes:
    """The ranks file's bytes (``base64 id`` lines in id order).

    Raises:
        BytepairError: the ids of multi-byte tokens are not in merge order (tiktoken merges by id).
    """
    return _core.dump_tiktoken(tok._core)


def save(tok: Tokenizer, path: PathLike) -> None:
    """Writes a ranks file; gzip'd when ``path`` ends with ``.gz``. Special tokens and the pattern are not stored."""
    data = dumps(tok)
    p = Path(path)
    if p.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    p.write_bytes(data)


def mergeable_ranks(tok: Tokenizer) -> dict[bytes, int]:
    """``{bytes: id}`` checked to be usable as tiktoken ``mergeable_ranks`` (ids in merge order)."""
    return _core.tiktoken_ranks(tok._core)


def to_encoding(tok: Tokenizer, name: str | None = None) -> _tiktoken.Encoding:
    """A ``tiktoken.Encoding`` with the same ranks, pattern and special tokens, so the same ids."""
    try:
        import tiktoken
    except ImportError:  # pragma: no cover - tiktoken is an optional dependency
        raise ImportError("to_tiktoken needs tiktoken: pip install 'bytepair[tiktoken]'") from None
    from ..tokenizer import PATTERNS

    if name is None:
        name = next((k for k, v in PATTERNS.items() if v == tok.pattern), "bytepair")
    return tiktoken.Encoding(
        name=name,
        pat_str=tok.pattern,
        mergeable_ranks=mergeable_ranks(tok),
        special_tokens=tok.special_tokens,
    )


def from_encoding(
    enc: Any, *, pattern: str | None = None, special_tokens: Mapping[str, int] | None = None
) -> Tokenizer:
    """A tokenizer from a ``tiktoken.Encoding`` (its ranks, pattern and special tokens unless overridden)."""
    from ..tokenizer import Tokenizer, _check_pattern

    try:
        ranks = enc._mergeable_ranks
        specials = _special_ids(enc._special_tokens if special_tokens is None else special_tokens)
        pat = enc._pat_str
    except AttributeError:
        raise TypeError(f"from_tiktoken expects a tiktoken.Encoding or a path, got {type(enc).__name__}") from None
    pattern = pat if pattern is None else pattern
    return Tokenizer._wrap(_core.CoreTokenizer.from_ranks(ranks, list(specials.items()), _check_pattern(pattern)))
