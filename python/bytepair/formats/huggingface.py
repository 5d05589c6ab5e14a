"""Hugging Face ``tokenizer.json`` for byte-level BPE (the ``tokenizers`` library's format).

Export: model ``BPE`` (vocab and merges in GPT-2's byte-to-unicode form, ``ignore_merges: true``), pre-tokenizer
``Sequence[Split(Regex pattern, Isolated), ByteLevel(add_prefix_space=false, use_regex=false)]``, decoder
``ByteLevel``, special tokens as ``added_tokens``.

Import: the same, ``ByteLevel`` alone (``use_regex=true`` means GPT-2's pattern), merges as ``[a, b]`` pairs or legacy
``"a b"`` strings. Anything that is not byte-level BPE (WordPiece, Unigram, WordLevel, BPE without ByteLevel, a
normalizer, ``add_prefix_space=true``) raises :class:`bytepair.FormatError` saying what it is.

Merge rules. ``tokenizers`` merges the adjacent pair with the lowest *merge index* (pair priority); bytepair and
tiktoken merge the pair whose *concatenation* has the lowest rank, and look a whole pre-token up first. The two agree
when every token is made by one merge and tokens are ranked in merge order, except where a pre-token is itself a
token that its merges do not reach: ``ignore_merges: true`` (tokenizers >= 0.19) makes ``tokenizers`` look the
whole pre-token up first too, so exports set it. For a ``tokenizer.json`` trained by ``tokenizers`` itself
(``ignore_merges: false``), see :func:`load` and the README (section "File formats and streaming decode").
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._core import FormatError
from .gpt2 import from_unicode, to_unicode

if TYPE_CHECKING:  # pragma: no cover
    from ..tokenizer import Tokenizer

PathLike = str | os.PathLike[str]

# tokenizers' ByteLevel pre-tokenizer regex (use_regex=true): GPT-2's pattern, equivalent to tiktoken's r50k one.
HF_BYTELEVEL_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

# tokenizers compiles Split regexes with Oniguruma (Ruby syntax), where ``{1,3}+`` is not possessive and ``$`` is
# the end of a line. The built-in patterns are written in an equivalent form without possessive quantifiers, with
# ``\z`` for the end of the text. A pattern read back in one of these forms becomes the built-in pattern again.
HF_PATTERNS: dict[str, str] = {
    "gpt2": r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+\z|\s+(?!\S)|\s""",
    "cl100k": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+\z|\s*[\r\n]|"""
        r"""\s+(?!\S)|\s"""
    ),
}


def _hf_pattern(pattern: str) -> str:
    from ..tokenizer import PATTERNS

    for name, pat in PATTERNS.items():
        if pat == pattern:
            return HF_PATTERNS.get(name, pat)
    return pattern


def _our_pattern(hf_pattern: str) -> str:
    from ..tokenizer import PATTERNS

    for name, pat in HF_PATTERNS.items():
        if pat == hf_pattern:
            return PATTERNS[name]
    if hf_pattern == HF_BYTELEVEL_REGEX:
        return PATTERNS["gpt2"]
    return hf_pattern


def to_json(tok: Tokenizer) -> dict[str, Any]:
    """The ``tokenizer.json`` document for ``tok``."""
    special_ids = set(tok._special_tokens.values())
    vocab = {to_unicode(b): i for i, b in tok._core.vocab() if i not in special_ids}
    # Special tokens also go in the model vocab (as GPT-2's tokenizer.json has them): tokenizers gives an added token
    # the id of the same string in the model vocab, and otherwise the next free id after it, which loses the ids of
    # specials that do not directly follow the regular tokens (cl100k's 100257..100276, o200k's 199999, 200018).
    for t, i in tok._special_tokens.items():
        vocab.setdefault(t, i)
    merges = [[to_unicode(a), to_unicode(b)] for a, b in tok.merges]
    added = [
        {
            "id": i,
            "content": t,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for t, i in sorted(tok._special_tokens.items(), key=lambda kv: kv[1])
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": _hf_pattern(tok.pattern)},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": True,
            "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
            "merges": merges,
        },
    }


def save(tok: Tokenizer, path: PathLike) -> None:
    """Writes ``tokenizer.json`` (a directory ``path`` gets ``path/tokenizer.json``)."""
    p = Path(path)
    if p.is_dir():
        p = p / "tokenizer.json"
    with open(p, "w", encoding="utf-8") as f:
        json.dump(to_json(tok), f, ensure_ascii=False, indent=None, separators=(",", ":"))


def _describe(component: Any) -> str:
    if isinstance(component, Mapping):
        t = component.get("type")
        if t == "Sequence":
            inner = component.get("pretokenizers") or component.get("normalizers") or component.get("decoders")
            return "Sequence[" + ", ".join(_describe(c) for c in inner or []) + "]"
        return str(t)
    return repr(component)


def _pattern_of(pre: Any, where: str) -> str:
    """The pre-tokenization regex of a byte-level pre-tokenizer, or a FormatError saying what it is instead."""
    from ..tokenizer import PATTERNS

    def not_byte_level(why: str) -> FormatError:
        return FormatError(
            f"{where}: not a byte-level BPE tokenizer: the pre-tokenizer is {_describe(pre)} ({why}); bytepair reads "
            "ByteLevel or Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)]"
        )

    def check_bytelevel(bl: Mapping[str, Any]) -> None:
        if bl.get("add_prefix_space"):
            raise FormatError(
                f"{where}: the ByteLevel pre-tokenizer has add_prefix_space=true (a space is added before the text), "
                "which bytepair does not do; set it to false"
            )

    if not isinstance(pre, Mapping):
        raise not_byte_level("no pre-tokenizer")
    if pre.get("type") == "ByteLevel":
        check_bytelevel(pre)
        if pre.get("use_regex", True):
            return PATTERNS["gpt2"]
        raise not_byte_level("ByteLevel with use_regex=false and no Split: no pre-tokenization")
    if pre.get("type") == "Sequence":
        parts = list(pre.get("pretokenizers") or [])
        if len(parts) == 2 and parts[0].get("type") == "Split" and parts[1].get("type") == "ByteLevel":
            split, bl = parts
            check_bytelevel(bl)
            if bl.get("use_regex", True):
                raise not_byte_level("ByteLevel after Split must have use_regex=false")
            pat = split.get("pattern")
            if not isinstance(pat, Mapping) or "Regex" not in pat:
                raise not_byte_level("Split needs a Regex pattern")
            if split.get("behavior") != "Isolated" or split.get("invert"):
                raise not_byte_level(f"Split behavior {split.get('behavior')!r}, invert={split.get('invert')!r}")
            return _our_pattern(str(pat["Regex"]))
        if len(parts) == 1:
            return _pattern_of(parts[0], where)
    raise not_byte_level("unsupported combination")


def from_json(doc: Any, where: str) -> Tokenizer:
    """A tokenizer from a parsed ``tokenizer.json``; errors name ``where``."""
    from ..tokenizer import Tokenizer

    if not isinstance(doc, Mapping) or not isinstance(doc.get("model"), Mapping):
        raise FormatError(f"{where}: not a Hugging Face tokenizer.json (no \"model\" object)")
    model = doc["model"]
    mtype = model.get("type")
    if mtype is None and "merges" in model and "vocab" in model:
        mtype = "BPE"
    if mtype != "BPE":
        what = {"WordPiece": "a WordPiece", "Unigram": "a Unigram", "WordLevel": "a WordLevel"}.get(
            str(mtype), f"a {mtype!r}"
        )
        raise FormatError(f"{where}: {what} model, not byte-level BPE: bytepair reads byte-level BPE tokenizers only")
    if doc.get("normalizer") is not None:
        raise FormatError(
            f"{where}: has a normalizer ({_describe(doc['normalizer'])}), which bytepair does not apply; "
            "byte-level BPE tokenizers have none"
        )
    pattern = _pattern_of(doc.get("pre_tokenizer"), where)
    dec = doc.get("decoder")
    if dec is not None and not (isinstance(dec, Mapping) and dec.get("type") == "ByteLevel"):
        raise FormatError(f"{where}: the decoder is {_describe(dec)}, not ByteLevel: not a byte-level BPE tokenizer")
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            raise FormatError(f"{where}: BPE with {key}={model[key]!r} is not byte-level BPE")
    if model.get("dropout"):
        raise FormatError(f"{where}: BPE dropout={model['dropout']!r} is random; bytepair encodes deterministically")
    raw_vocab = model.get("vocab")
    raw_merges = model.get("merges")
    if not isinstance(raw_vocab, Mapping) or not isinstance(raw_merges, list):
        raise FormatError(f"{where}: model.vocab must be an object and model.merges a list")
    specials: dict[str, int] = {}
    for k, a in enumerate(doc.get("added_tokens") or []):
        try:
            specials[str(a["content"])] = int(a["id"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(f"{where}: added_tokens[{k}] needs \"content\" and \"id\", got {a!r}") from None
    special_ids = set(specials.values())
    vocab: dict[int, bytes] = {}
    for t, i in raw_vocab.items():
        if not isinstance(i, int) or isinstance(i, bool) or i < 0:
            raise FormatError(f"{where}: model.vocab[{t!r}] must be a non-negative integer id, got {i!r}")
        if i in special_ids or t in specials:
            continue
        if i in vocab:
            raise FormatError(f"{where}: model.vocab has id {i} twice")
        vocab[i] = from_unicode(t, f"{where}: model.vocab")
    merges: list[tuple[bytes, bytes]] = []
    for k, m in enumerate(raw_merges):
        if isinstance(m, str):
            parts = m.split(" ")
        elif isinstance(m, list) and all(isinstance(x, str) for x in m):
            parts = m
        else:
            parts = []
        if len(parts) != 2:
            raise FormatError(f"{where}: model.merges[{k}] must be \"a b\" or [\"a\", \"b\"], got {m!r}")
        merges.append((from_unicode(parts[0], f"{where}: merges[{k}]"), from_unicode(parts[1], f"{where}: merges[{k}]")))
    have = set(vocab.values())
    missing = [b for b in range(256) if bytes([b]) not in have]
    if missing:
        raise FormatError(
            f"{where}: the vocab lacks {len(missing)} of the 256 single bytes (e.g. byte {missing[0]}); byte-level BPE "
            "needs all of them (train with initial_alphabet=pre_tokenizers.ByteLevel.alphabet())"
        )
    try:
        return Tokenizer(vocab, merges, specials, pattern=pattern)
    except FormatError as e:
        raise FormatError(f"{where}: vocab and merges disagree: {e}") from None


def load(path: PathLike) -> Tokenizer:
    """Reads a ``tokenizer.json`` (a directory ``path`` means ``path/tokenizer.json``).

    Raises:
        FormatError: not JSON, truncated, not byte-level BPE (says what it is), vocab and merges that disagree.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "tokenizer.json"
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"tokenizer.json not found: {p}") from None
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise FormatError(f"{p}: not UTF-8 (invalid byte at offset {e.start})") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{p}: not a tokenizer.json (truncated or corrupt JSON: {e})") from None
    return from_json(doc, str(p))
