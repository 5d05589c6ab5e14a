"""GPT-2 files: ``vocab.json`` (``{token: id}``) + ``merges.txt`` (``left right`` lines), tokens written with GPT-2's
byte-to-unicode map (``encoder.py`` of the GPT-2 release). ``merges.txt`` may start with a ``#version`` line.

These files carry no pre-tokenization pattern: GPT-2's (``gpt2``) is assumed unless ``pattern=`` says otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .._core import FormatError

if TYPE_CHECKING:  # pragma: no cover
    from ..tokenizer import Tokenizer

PathLike = str | os.PathLike[str]

MERGES_HEADER = "#version: 0.2"


@lru_cache(maxsize=1)
def byte_encoder() -> dict[int, str]:
    """GPT-2's ``bytes_to_unicode``: byte -> printable character (printable Latin-1 bytes map to themselves, the
    other 68 bytes to U+0100..U+0143)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """The inverse of :func:`byte_encoder`."""
    return {c: b for b, c in byte_encoder().items()}


def to_unicode(token: bytes) -> str:
    """Token bytes in GPT-2's byte-to-unicode form (``b" the"`` -> ``"Ġthe"``)."""
    enc = byte_encoder()
    return "".join([enc[b] for b in token])


def from_unicode(text: str, where: str) -> bytes:
    """The inverse of :func:`to_unicode`; a character outside the map raises :class:`FormatError` naming ``where``."""
    dec = byte_decoder()
    try:
        return bytes([dec[c] for c in text])
    except KeyError as e:
        raise FormatError(
            f"{where}: token {text!r} has the character {e.args[0]!r} (U+{ord(e.args[0]):04X}), which is not in "
            "GPT-2's byte-to-unicode alphabet: not a byte-level BPE vocabulary"
        ) from None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"file not found: {path}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{path}: not UTF-8 (invalid byte at offset {e.start})") from None


def read_vocab_json(path: Path) -> dict[str, int]:
    """Reads ``{token: id}``, checking the types."""
    try:
        raw = json.loads(_read_text(path))
    except json.JSONDecodeError as e:
        raise FormatError(f"{path}: not a JSON vocab (truncated or corrupt: {e})") from None
    if not isinstance(raw, dict):
        raise FormatError(f"{path}: expected a JSON object {{token: id}}, got {type(raw).__name__}")
    for tok, i in raw.items():
        if not isinstance(i, int) or isinstance(i, bool) or i < 0:
            raise FormatError(f"{path}: the id of {tok!r} must be a non-negative integer, got {i!r}")
    return raw


def read_merges_txt(path: Path) -> list[tuple[str, str]]:
    """Reads ``left right`` lines; a first line starting with ``#version`` and blank lines are skipped."""
    merges: list[tuple[str, str]] = []
    for n, line in enumerate(_read_text(path).split("\n"), 1):
        line = line.rstrip("\r")
        if not line or (n == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise FormatError(f"{path}:{n}: expected a merge 'left right', got {line[:80]!r}")
        merges.append((parts[0], parts[1]))
    return merges


def looks_special(token: str) -> bool:
    """``<|...|>`` markers, the way GPT-2-style vocabularies write special tokens."""
    return token.startswith("<|") and token.endswith("|>") and len(token) > 4


def read_files(
    vocab_json: PathLike,
    merges_txt: PathLike,
    special_tokens: Sequence[str] | Mapping[str, int] | None = None,
    *,
    pattern: str = "gpt2",
) -> Tokenizer:
    """Loads ``vocab.json`` + ``merges.txt`` (see :meth:`bytepair.Tokenizer.from_files`)."""
    from ..tokenizer import Tokenizer

    vpath, mpath = Path(vocab_json), Path(merges_txt)
    raw = read_vocab_json(vpath)
    merges = [
        (from_unicode(a, f"{mpath}:{n}"), from_unicode(b, f"{mpath}:{n}"))
        for n, (a, b) in enumerate(read_merges_txt(mpath), 1)
    ]
    vocab: dict[int, bytes] = {}
    specials: dict[str, int] = {}
    explicit = set(special_tokens) if special_tokens is not None else set()
    for tok, i in raw.items():
        if (special_tokens is None and looks_special(tok)) or tok in explicit:
            if special_tokens is None:
                specials[tok] = i
            continue
        if i in vocab:
            raise FormatError(f"{vpath}: id {i} is used twice (by {to_unicode(vocab[i])!r} and {tok!r})")
        vocab[i] = from_unicode(tok, str(vpath))
    sp: Sequence[str] | Mapping[str, int]
    if special_tokens is None:
        sp = specials
    elif isinstance(special_tokens, Mapping):
        sp = special_tokens
    else:
        sp = {t: raw[t] for t in special_tokens if t in raw}
        missing = [t for t in special_tokens if t not in raw]
        if missing:
            sp = dict(sp)
            nxt = max([*vocab, *sp.values()], default=-1) + 1
            for t in missing:
                sp[t] = nxt
                nxt += 1
    try:
        return Tokenizer(vocab, merges, sp, pattern=pattern)
    except FormatError as e:
        raise FormatError(f"{vpath} + {mpath}: vocab and merges disagree: {e}") from None


def write_files(tok: Tokenizer, vocab_json: PathLike, merges_txt: PathLike, *, header: bool = True) -> None:
    """Writes ``vocab.json`` (special tokens included, ids in order) and ``merges.txt`` (with a ``#version: 0.2``
    first line unless ``header=False``). The pattern is not stored: pass it to ``from_files`` when it is not GPT-2's.
    """
    vocab = {to_unicode(b): i for i, b in tok._core.vocab() if i not in tok._special_tokens.values()}
    for t, i in tok._special_tokens.items():
        vocab[t] = i
    with open(vocab_json, "w", encoding="utf-8") as f:
        json.dump(dict(sorted(vocab.items(), key=lambda kv: kv[1])), f, ensure_ascii=False)
    lines = [f"{to_unicode(a)} {to_unicode(b)}" for a, b in tok.merges]
    with open(merges_txt, "w", encoding="utf-8", newline="\n") as f:
        if header:
            f.write(MERGES_HEADER + "\n")
        f.write("\n".join(lines))
        if lines:
            f.write("\n")
