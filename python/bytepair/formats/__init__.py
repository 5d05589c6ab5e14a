"""Tokenizer file formats: bytepair's own (:mod:`.native`), tiktoken ranks (:mod:`.tiktoken`), Hugging Face
``tokenizer.json`` (:mod:`.huggingface`) and GPT-2 ``vocab.json`` + ``merges.txt`` (:mod:`.gpt2`), with detection of
which one a path holds (:func:`detect_format`), :func:`load_any` and :func:`save_as`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._core import FormatError

if TYPE_CHECKING:  # pragma: no cover
    from ..tokenizer import Tokenizer

__all__ = ["FORMATS", "detect_format", "load_any", "save_as"]

PathLike = str | os.PathLike[str]

FORMATS = ("bytepair", "tiktoken", "huggingface", "gpt2")
"""Names accepted by :func:`save_as` and ``bytepair convert --to``."""


def _gpt2_pair(p: Path) -> tuple[Path, Path]:
    """``(vocab.json, merges.txt)`` for a directory, either file, or ``<prefix>vocab.json``/``<prefix>merges.txt``."""
    if p.is_dir():
        return p / "vocab.json", p / "merges.txt"
    if p.name.endswith("merges.txt"):
        return p.with_name(p.name[: -len("merges.txt")] + "vocab.json"), p
    if p.name.endswith("vocab.json"):
        return p, p.with_name(p.name[: -len("vocab.json")] + "merges.txt")
    return p, p.with_name("merges.txt")


def detect_format(path: PathLike) -> str:
    """Which format ``path`` holds, from its content: one of :data:`FORMATS`.

    A directory holds ``tokenizer.json`` (huggingface) or ``vocab.json`` + ``merges.txt`` (gpt2).

    Raises:
        FileNotFoundError: no such path. FormatError: none of the formats.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file or directory: {p}")
    if p.is_dir():
        if (p / "tokenizer.json").is_file():
            return "huggingface"
        if (p / "vocab.json").is_file() and (p / "merges.txt").is_file():
            return "gpt2"
        raise FormatError(f"{p}: a directory without tokenizer.json or vocab.json + merges.txt")
    with open(p, "rb") as f:
        head = f.read(4096)
    if head[:2] == b"\x1f\x8b":
        return "tiktoken"
    text = head.lstrip()
    if text.startswith(b"{"):
        if b'"format"' in head and b'"bytepair"' in head:
            return "bytepair"
        try:
            doc = json.loads(p.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FormatError(f"{p}: looks like JSON but does not parse (truncated or corrupt: {e})") from None
        if isinstance(doc, dict):
            if "format" in doc and "version" in doc:
                return "bytepair"
            if "model" in doc:
                return "huggingface"
            if doc and all(isinstance(v, int) for v in doc.values()):
                return "gpt2"
        raise FormatError(f"{p}: JSON, but not a bytepair file, a tokenizer.json or a GPT-2 vocab.json")
    first = text.split(b"\n", 1)[0].strip()
    if p.name.endswith("merges.txt") or first.startswith(b"#version"):
        return "gpt2"
    parts = first.split()
    if len(parts) == 2 and parts[1].isdigit():
        return "tiktoken"
    raise FormatError(
        f"{p}: unrecognised tokenizer file (not a bytepair file, a .tiktoken ranks file, a tokenizer.json or GPT-2 "
        "vocab.json / merges.txt)"
    )


def load_any(path: PathLike, *, pattern: str | None = None) -> Tokenizer:
    """Loads a tokenizer in any supported format (:func:`detect_format`).

    ``pattern`` is needed for formats that do not store one: a ``.tiktoken`` file whose name does not say
    (``cl100k``, ``o200k``, ``r50k``...), and GPT-2 files that do not use GPT-2's pattern. A ranks file named after one
    of OpenAI's encodings (``cl100k_base``, ``o200k_base``, ``r50k_base``) gets that encoding's special tokens.
    """
    from ..tokenizer import Tokenizer
    from . import tiktoken as _tt

    p = Path(path)
    fmt = detect_format(p)
    if fmt == "bytepair":
        if pattern is not None:
            raise FormatError(f"{p}: a bytepair file stores its pattern; pattern= cannot change it")
        return Tokenizer.load(p)
    if fmt == "huggingface":
        return Tokenizer.from_huggingface(p)
    if fmt == "gpt2":
        vocab, merges = _gpt2_pair(p)
        for f in (vocab, merges):
            if not f.is_file():
                raise FileNotFoundError(f"GPT-2 format needs vocab.json and merges.txt side by side; missing {f}")
        return Tokenizer.from_files(vocab, merges, pattern=pattern or "gpt2")
    name = p.name.lower()
    specials = next((v for k, v in _tt.KNOWN_SPECIALS.items() if name.startswith(k + "_base")), None)
    return Tokenizer.from_tiktoken(p, pattern=pattern, special_tokens=specials)


def save_as(tok: Tokenizer, out: PathLike, fmt: str) -> list[Path]:
    """Writes ``tok`` in format ``fmt`` (one of :data:`FORMATS`); returns the files written.

    ``gpt2`` writes ``vocab.json`` and ``merges.txt`` into the directory ``out`` (created if needed); ``huggingface``
    writes ``out`` or, for a directory, ``out/tokenizer.json``.
    """
    p = Path(out)
    if fmt == "bytepair":
        tok.save(p)
        return [p]
    if fmt == "tiktoken":
        tok.save_tiktoken(p)
        return [p]
    if fmt == "huggingface":
        target = p / "tokenizer.json" if p.is_dir() else p
        tok.save_huggingface(target)
        return [target]
    if fmt == "gpt2":
        if p.suffix in (".json", ".txt"):
            raise FormatError(f"{p}: the gpt2 format is two files; give a directory to write vocab.json and merges.txt")
        p.mkdir(parents=True, exist_ok=True)
        tok.save_gpt2(p / "vocab.json", p / "merges.txt")
        return [p / "vocab.json", p / "merges.txt"]
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
