"""The byte-level BPE :class:`Tokenizer` (a typed facade over the Rust core) and :func:`train_bpe`.

Semantics follow tiktoken (``tiktoken/core.py``) for encoding and special tokens, and the Stanford CS336 assignment
for training (DESIGN §3.4).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt

from . import _core
from . import batch as _b
from ._core import BytepairError, CoreTokenizer, DisallowedSpecialError
from .batch import PaddedBatch, PaddingArg, SideArg, TokenArg, TruncationArg
from .counts import PretokenCounts, _check_threads, _progress_bar, count_pretokens

if TYPE_CHECKING:  # pragma: no cover
    import tiktoken

    from .decoder import IncrementalDecoder

__all__ = ["PATTERNS", "Tokenizer", "clear_piece_caches", "pretokenize", "train_bpe"]

PATTERNS: dict[str, str] = dict(_core.PATTERNS)
"""Built-in pre-tokenization patterns, tiktoken's regexes: ``gpt2`` (r50k_base), ``cl100k`` (cl100k_base) and
``o200k`` (o200k_base). Pass a name or any regex (fancy-regex syntax) as ``pattern``."""

PathLike = str | os.PathLike[str]
SpecialSet = Literal["all"] | Collection[str]

# Marks keyword arguments the caller did not pass (encode_batch_to_numpy is flat unless a padding argument is given).
_UNSET: Any = object()

# The largest token id (2**32 - 1 is no id: the core's tables hold ids as uint32 and keep one value free).
_MAX_ID = 2**32 - 2

# encode_iterable / encode_file work in blocks of about this many characters.
_STREAM_BLOCK_CHARS = 4 << 20


_CUT_TRIES = 4096

# What _last_safe_cut may use: nothing (a custom pattern), the rules of every built-in pattern (gpt2), or also the
# end of any line (cl100k, o200k).
_CUT_NONE, _CUT_ANY_PATTERN, _CUT_LINES = 0, 1, 2


def _last_safe_cut(text: str, mode: int = _CUT_ANY_PATTERN) -> int:
    r"""The largest index ``i`` found (``0 < i < len(text)``) where no pre-token can cross, so that encoding
    ``text[:i]`` and then ``text[i:]`` gives the ids of ``text``; 0 when none is found. In any script:

    - a space after a character that is not whitespace (every built-in pattern: no alternative matches a
      non-whitespace character followed by a space, and the piece at the space does not look behind);
    - after a newline that has a character that is not whitespace on each side, the second not ``/`` (every
      built-in pattern; o200k's punctuation takes ``[\r\n/]*`` after it). These two are the rules of
      ``PreTokenizer::is_safe_cut`` in the Rust core, tested there against the regexes;
    - with ``mode=_CUT_LINES`` (cl100k and o200k, whose ``\s*[\r\n]`` / ``\s*[\r\n]+`` end a whitespace run at its
      last line break, before ``\s+(?!\S)`` is tried): after any ``\r`` or ``\n`` followed by whitespace that holds
      no line break (maybe none) and then a character that is not whitespace, not ``/`` right after the break.
      So CRLF text, blank lines and indented lines (``\u3000`` in Chinese) are cut too.

    ``str.isspace`` holds for every char of the regexes' ``\s`` (and a few more), so a char it calls non-whitespace
    is one for the regexes too. Only the last few thousand candidates are looked at, so a long run of whitespace
    costs little (and may give 0: the caller then buffers more text and tries again).
    """
    n = len(text)
    best = 0
    i = n
    for _ in range(_CUT_TRIES):
        i = text.rfind(" ", 1, i)
        if i < 1:
            break
        if not text[i - 1].isspace():
            best = i
            break
    lines = mode == _CUT_LINES
    lo = best if lines else max(best, 1)  # a break at j gives the cut j + 1, after best
    end = n - 1  # so that a char follows the break
    for _ in range(_CUT_TRIES):
        j = text.rfind("\n", lo, end)
        if lines:
            j = max(j, text.rfind("\r", lo, end))
        if j < lo:
            break
        end = j
        if lines:
            k = j + 1
            while k < n and k - j <= 64 and text[k] not in "\r\n" and text[k].isspace():
                k += 1
            if k < n and not text[k].isspace() and (k > j + 1 or text[k] != "/"):
                return j + 1
        elif not text[j - 1].isspace() and not text[j + 1].isspace() and text[j + 1] != "/":
            return j + 1
    return best


def _cut_stream(parts: Iterable[str], mode: int, block: int) -> Iterator[tuple[int, str]]:
    """``(character offset, text)`` blocks whose concatenation is ``"".join(parts)``, cut at
    :func:`_last_safe_cut` once about ``block`` characters are buffered, so memory stays bounded by a few blocks.
    With ``mode=_CUT_NONE`` everything is one block; so is a stretch with no cut, until its end. When no cut is
    found, the next try waits until the buffer has doubled, so text with few cuts costs linear time."""
    buf: list[str] = []
    size = 0
    done = 0  # characters yielded
    goal = block
    for part in parts:
        buf.append(part)
        size += len(part)
        if mode and size >= goal:
            text = "".join(buf)
            cut = _last_safe_cut(text, mode)
            if cut > 0:
                yield done, text[:cut]
                done += cut
                text = text[cut:]
            buf, size = [text], len(text)
            goal = size + max(block, size)
    text = "".join(buf)
    if text:
        yield done, text


def _cut_mode(pattern: str, special_tokens: Iterable[str]) -> int:
    """How text may be cut at :func:`_last_safe_cut`: not at all for a custom pattern (a custom regex may match
    across anything) or when a special token holds a space or a line break (a cut could fall inside one)."""
    if pattern not in PATTERNS.values() or any(" " in t or "\n" in t or "\r" in t for t in special_tokens):
        return _CUT_NONE
    return _CUT_ANY_PATTERN if pattern == PATTERNS["gpt2"] else _CUT_LINES


def pretokenize(text: str, pattern: str = "cl100k") -> list[str]:
    """Splits text into pre-tokens (the pieces BPE runs on), as tiktoken's regex would.

    Args:
        text: the string.
        pattern: ``"gpt2"``, ``"cl100k"``, ``"o200k"`` or a regex. With a custom regex, text between matches is kept as
            pieces of their own, so ``"".join(pretokenize(t, p)) == t`` always.

    Returns:
        ``list[str]``: the pieces, in order.

    Raises:
        BytepairError: a pattern that does not compile. TypeError: ``text`` is not a str.
    """
    _check_text(text)
    return _core.pretokenize(text, _check_pattern(pattern))


def clear_piece_caches() -> None:
    """Empties the piece caches of every thread (each empties its own before its next encode).

    Each encoding thread keeps the tokens of the pieces it has seen (about 6 MiB per thread), so a piece met again
    skips BPE. The ids are the same with or without the caches; this only matters for measurements. A benchmark
    that encodes the same documents several times and keeps the best run should call it before each run, or the
    later runs find every piece of those documents cached, as no first pass over new text does
    (``benches/bench_encode.py`` does).
    """
    _core.clear_piece_caches()


def _check_text(text: object, hint: str = "") -> None:
    """TypeError naming the type when ``text`` is not a str (``hint`` is appended to the message)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}{hint}")


def _shift_offset(message: str, start: int) -> str:
    """A disallowed-special message with its ``character offset N`` moved by ``start``."""
    return re.sub(r"at character offset (\d+)", lambda m: f"at character offset {int(m.group(1)) + start}", message,
                  count=1)


def _name_list(names: object, what: str) -> list[str] | None:
    """The special-token names of ``allowed_special`` / ``disallowed_special`` as a list (None when empty)."""
    try:
        out = list(names)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f'{what} must be "all" or a collection of str, got {type(names).__name__}') from None
    for t in out:
        if not isinstance(t, str):
            raise TypeError(f"{what} must hold str, got {type(t).__name__}")
    return out or None


def _check_pattern(pattern: object) -> str:
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a str (a name in {sorted(PATTERNS)} or a regex), got {type(pattern).__name__}")
    return PATTERNS.get(pattern, pattern)


def _check_specials(special_tokens: Iterable[object]) -> list[str]:
    if isinstance(special_tokens, (str, bytes)):
        raise TypeError("special_tokens must be a list of str, not a single string")
    out: list[str] = []
    for i, t in enumerate(special_tokens):
        if not isinstance(t, str):
            raise TypeError(f"special_tokens[{i}] must be str, got {type(t).__name__}")
        if not t:
            raise BytepairError("special tokens must not be empty strings")
        if t in out:
            raise BytepairError(f"duplicate special token {t!r}")
        out.append(t)
    return out


class Tokenizer:
    """A byte-level BPE tokenizer: a pre-tokenization regex, mergeable tokens with ranks, and special tokens.

    Encoding follows tiktoken exactly (DESIGN §3.2): each pre-token is looked up whole, else its bytes are merged
    pairwise by lowest rank, leftmost on ties. Ids are those of the vocabulary. Instances are immutable, thread-safe
    and picklable.

    Build one with :meth:`train`, :meth:`from_tiktoken`, :meth:`from_files` (GPT-2 ``vocab.json`` +
    ``merges.txt``), :meth:`load`, or from a vocab and merges::

        tok = Tokenizer({0: b"\\x00", ...}, [(b"t", b"h"), ...], special_tokens=["<|endoftext|>"], pattern="gpt2")

    Args:
        vocab: ``{id: token bytes}``; must contain all 256 single bytes. May include the special tokens.
        merges: ``[(left bytes, right bytes)]`` in merge order; each part and their concatenation must be in vocab.
        special_tokens: a list of str (an id is taken from ``vocab`` when the token's bytes are there, else the next
            free id after the largest), or a ``{str: id}`` mapping.
        pattern: a name in :data:`PATTERNS` or a regex (default ``"gpt2"``, the CS336 pre-tokenizer).

    Raises:
        FormatError: vocab and merges disagree (the message names the merge).
        BytepairError: a single byte missing, duplicate or empty special tokens, a pattern that does not compile,
            an id above 2**32 - 2 (given, or the next free one for a special token), regular ids too sparse for
            tables indexed by id (one of 2 x the number of tokens + 2**22 or more; special tokens may have any id).
        TypeError: arguments of the wrong type.
    """

    __slots__ = ("_core", "_special_list", "_special_set", "_special_tokens")

    _core: CoreTokenizer
    _special_tokens: dict[str, int]
    _special_set: frozenset[str]
    _special_list: list[str]

    def __init__(
        self,
        vocab: Mapping[int, bytes],
        merges: Sequence[tuple[bytes, bytes]],
        special_tokens: Sequence[str] | Mapping[str, int] | None = None,
        *,
        pattern: str = "gpt2",
    ) -> None:
        pattern = _check_pattern(pattern)
        if not isinstance(vocab, Mapping):
            raise TypeError(f"vocab must be a mapping {{id: bytes}}, got {type(vocab).__name__}")
        items: list[tuple[int, bytes]] = []
        by_bytes: dict[bytes, int] = {}
        for k, v in vocab.items():
            if not isinstance(k, int) or isinstance(k, bool) or k < 0:
                raise TypeError(f"vocab keys must be non-negative int ids, got {k!r}")
            if k > _MAX_ID:
                raise BytepairError(f"vocab id {k} is too large: ids must be from 0 to 2**32 - 2")
            if not isinstance(v, (bytes, bytearray)):
                raise TypeError(f"vocab[{k}] must be bytes, got {type(v).__name__}")
            items.append((k, bytes(v)))
            by_bytes.setdefault(bytes(v), k)
        merge_list: list[tuple[bytes, bytes]] = []
        for i, m in enumerate(merges):
            if not (isinstance(m, (tuple, list)) and len(m) == 2 and all(isinstance(x, (bytes, bytearray)) for x in m)):
                raise TypeError(f"merges[{i}] must be a pair of bytes, got {m!r}")
            merge_list.append((bytes(m[0]), bytes(m[1])))
        specials: list[tuple[str, int]] = []
        if special_tokens is None:
            pass
        elif isinstance(special_tokens, Mapping):
            for t, i in special_tokens.items():
                _check_specials([t])
                if not isinstance(i, int) or isinstance(i, bool) or i < 0:
                    raise TypeError(f"special token {t!r} must map to a non-negative int id, got {i!r}")
                if i > _MAX_ID:
                    raise BytepairError(f"special token {t!r} has id {i}: ids must be from 0 to 2**32 - 2")
                specials.append((t, i))
        else:
            # A special token takes the id its bytes have in the vocab (CS336 vocabs list the specials), unless that
            # entry is a regular token BPE needs (a single byte or a merge result): then it gets a new id.
            needed = {bytes([b]) for b in range(256)} | {a + b for a, b in merge_list}
            next_id = max((k for k, _ in items), default=-1) + 1
            for t in _check_specials(special_tokens):
                tb = t.encode("utf-8")
                tid = by_bytes.get(tb)
                if tid is None or tb in needed:
                    if next_id > _MAX_ID:
                        raise BytepairError(
                            f"no id left for special token {t!r}: a special token not in the vocab takes the next id "
                            f"after the largest ({next_id - 1}), and ids must be at most 2**32 - 2; give the ids "
                            "(special_tokens={token: id})"
                        )
                    tid = next_id
                    next_id += 1
                specials.append((t, tid))
        vocab_of = dict(items)
        needed_ids = {i for i, b in items if len(b) == 1} | {by_bytes[a + b] for a, b in merge_list if a + b in by_bytes}
        for t, i in specials:
            if i in vocab_of and vocab_of[i] != t.encode("utf-8"):
                raise BytepairError(
                    f"special token {t!r} has id {i}, which the vocab already uses for the token {vocab_of[i]!r}"
                )
            if i in needed_ids:
                raise BytepairError(
                    f"special token {t!r} has id {i}, which is the id of the regular token {vocab_of[i]!r} "
                    "(a single byte or a merge result); give it an id of its own"
                )
        special_ids = {i for _, i in specials}
        core = CoreTokenizer.from_vocab_merges(
            [(k, v) for k, v in items if k not in special_ids], merge_list, specials, pattern
        )
        self._init(core)

    def _init(self, core: CoreTokenizer) -> None:
        object.__setattr__(self, "_core", core)
        specials = dict(core.special_tokens)
        object.__setattr__(self, "_special_tokens", specials)
        object.__setattr__(self, "_special_set", frozenset(specials))
        object.__setattr__(self, "_special_list", list(specials))

    @classmethod
    def _wrap(cls, core: CoreTokenizer) -> Tokenizer:
        obj = cls.__new__(cls)
        obj._init(core)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Tokenizer objects are immutable")

    # ------------------------------------------------------------------------------------------------- training
    @classmethod
    def train(
        cls,
        data: PathLike | Iterable[str | os.PathLike[str]],
        vocab_size: int,
        *,
        pattern: str = "cl100k",
        special_tokens: Sequence[str] = (),
        min_frequency: int = 1,
        max_token_length: int | None = None,
        num_threads: int | None = None,
        progress: bool = False,
        errors: str = "strict",
        _chunk_bytes: int | None = None,
    ) -> Tokenizer:
        """Trains a byte-level BPE tokenizer (DESIGN §3.4, the Stanford CS336 rule).

        Ids 0..255 are the single bytes in byte order, merges get ids 256.. in creation order, special tokens follow in
        the order given; ``vocab_size`` counts all three. Each step merges the pair with the highest count; ties go to
        the lexicographically greatest ``(bytes_left, bytes_right)``. Pairs never cross a pre-token boundary or a
        special token; special tokens in the data split documents and are never merged. The result is the same for
        any ``num_threads``, batching or document order. Training stops early (a smaller vocab) when no pair is left
        or the best count is below ``min_frequency``.

        Args:
            data: a path (``str`` or ``os.PathLike``) to a UTF-8 text file, or an iterable whose items are documents
                (``str``) or file paths (``os.PathLike``, e.g. ``pathlib.Path``). Consumed in batches.
            vocab_size: the final number of ids (256 + merges + special tokens).
            pattern: pre-tokenization: ``"gpt2"``, ``"cl100k"``, ``"o200k"`` or a regex.
            special_tokens: strings that are never split or merged; appended to the vocab.
            min_frequency: stop when the best pair occurs fewer times than this.
            max_token_length: never create a token longer than this many bytes.
            num_threads: threads for pre-tokenization and counting (default: all cores).
            progress: show progress bars (tqdm when installed) on stderr: bytes counted, then merges.
            errors: ``"strict"`` (invalid UTF-8 in a file raises) or ``"replace"`` (invalid bytes count as U+FFFD).

        Files are streamed in chunks (memory grows with the number of distinct pre-tokens, not the corpus size);
        training equals :func:`bytepair.count_pretokens` followed by :meth:`train_from_counts`.

        Returns:
            The trained tokenizer.

        Raises:
            BytepairError: ``vocab_size < 256 + len(special_tokens)``, duplicate or empty special tokens, a pattern that
                does not compile, a file that is not UTF-8 (the message names the file and byte offset).
            FileNotFoundError: a path that does not exist.
            TypeError: an item of ``data`` that is neither str nor a path (the message gives its index and type).
            KeyboardInterrupt: Ctrl-C stops training promptly.
        """
        specials = _check_specials(special_tokens)
        _check_train_options(vocab_size, specials, min_frequency, max_token_length)
        counts = count_pretokens(
            data, pattern=pattern, special_tokens=specials, num_threads=num_threads, progress=progress,
            errors=errors, _chunk_bytes=_chunk_bytes,
        )
        return cls._wrap(
            _run_training(counts, vocab_size, specials, min_frequency, max_token_length, progress, consume=True)
        )

    @classmethod
    def train_from_counts(
        cls,
        counts: PretokenCounts,
        vocab_size: int,
        *,
        special_tokens: Sequence[str] | None = None,
        min_frequency: int = 1,
        max_token_length: int | None = None,
        progress: bool = False,
    ) -> Tokenizer:
        """Trains from pre-token counts (:func:`bytepair.count_pretokens`), e.g. counted in parts and added up.

        Gives exactly the merges of :meth:`train` on the same data (DESIGN §3.4). The pattern is the one the counts
        were made with.

        Args:
            counts: the table.
            vocab_size: the final number of ids (256 + merges + special tokens).
            special_tokens: the special tokens in vocab order; ``None`` (default) takes those of ``counts``. They
                must be the ones the counts were made with (in any order).
            min_frequency: stop when the best pair occurs fewer times than this.
            max_token_length: never create a token longer than this many bytes.
            progress: show a progress bar of merges (tqdm when installed) on stderr.

        Raises:
            BytepairError: ``vocab_size`` too small, or ``special_tokens`` that differ from those of ``counts``.
            TypeError: ``counts`` is not a :class:`PretokenCounts`.
            KeyboardInterrupt: Ctrl-C stops training promptly.
        """
        if not isinstance(counts, PretokenCounts):
            raise TypeError(f"counts must be a PretokenCounts (from bytepair.count_pretokens), got {type(counts).__name__}")
        specials = counts.special_tokens if special_tokens is None else _check_specials(special_tokens)
        if sorted(specials) != sorted(counts.special_tokens):
            raise BytepairError(
                f"special_tokens {specials!r} differ from the special tokens the counts were made with "
                f"{counts.special_tokens!r}; pass the same ones (any order) or None"
            )
        _check_train_options(vocab_size, specials, min_frequency, max_token_length)
        return cls._wrap(_run_training(counts, vocab_size, specials, min_frequency, max_token_length, progress))

    # ---------------------------------------------------------------------------------------------- construction
    @classmethod
    def from_tiktoken(
        cls,
        enc_or_path: tiktoken.Encoding | PathLike,
        *,
        pattern: str | None = None,
        special_tokens: Mapping[str, int] | None = None,
    ) -> Tokenizer:
        """Builds a tokenizer that gives the same ids as a ``tiktoken.Encoding`` or a tiktoken ranks file.

        The ids are tiktoken's for the built-in patterns and for any custom pattern whose matches cover the text.
        Text a custom pattern does not match is encoded as pieces of its own here; tiktoken drops it.

        Args:
            enc_or_path: a ``tiktoken.Encoding``, or the path of a ``.tiktoken`` ranks file (lines ``base64 rank``;
                ``.gz`` accepted).
            pattern: the pre-tokenization pattern; for an Encoding it defaults to the Encoding's own, for a file to
                the one its name implies (``cl100k``, ``o200k``, ``r50k``/``gpt2``), else it is required.
            special_tokens: ``{token: id}``; defaults to the Encoding's own, or none for a file.

        Raises:
            FileNotFoundError: the ranks file does not exist.
            FormatError: a malformed ranks file (the message names the file and line).
            BytepairError: a missing pattern, duplicate ranks, a special token whose id is also a rank or another
                special token's, an id outside 0..2**32 - 1, ranks too sparse for tables indexed by rank (a rank
                of 2 x the number of tokens + 2**22 or more; a special token may have any id up to 2**32 - 2).
            TypeError: ``special_tokens`` is not a mapping of str to int.
        """
        from .formats import tiktoken as _tt

        if isinstance(enc_or_path, (str, os.PathLike)):
            return _tt.load(enc_or_path, pattern=pattern, special_tokens=special_tokens)
        return _tt.from_encoding(enc_or_path, pattern=pattern, special_tokens=special_tokens)

    @classmethod
    def from_files(
        cls,
        vocab_json: PathLike,
        merges_txt: PathLike,
        special_tokens: Sequence[str] | Mapping[str, int] | None = None,
        *,
        pattern: str = "gpt2",
    ) -> Tokenizer:
        """Loads the GPT-2 format: ``vocab.json`` (token -> id, bytes written with GPT-2's byte-to-unicode map) and
        ``merges.txt`` (one ``left right`` pair a line, optional ``#version`` header).

        Tokens of ``vocab.json`` that look like special tokens (``<|...|>``) and are not reachable by merges are
        treated as special tokens when ``special_tokens`` is None.

        Raises:
            FormatError: malformed files, a token outside GPT-2's byte alphabet, vocab and merges that disagree (the
                message names the file and line).
            FileNotFoundError: a file that does not exist.
        """
        from .formats import gpt2

        return gpt2.read_files(vocab_json, merges_txt, special_tokens, pattern=pattern)

    # ------------------------------------------------------------------------------------------------- encoding
    def _special_args(
        self, allowed_special: SpecialSet, disallowed_special: SpecialSet
    ) -> tuple[list[str] | None, list[str] | None]:
        if allowed_special == "all":
            allowed = _name_list(self._special_set, "allowed_special")
        else:
            if isinstance(allowed_special, str):
                raise TypeError('allowed_special must be "all" or a collection of str, not a single str')
            allowed = _name_list(allowed_special, "allowed_special")
        if disallowed_special == "all":
            disallowed = _name_list(self._special_set.difference(allowed or ()), "disallowed_special")
        else:
            if isinstance(disallowed_special, str):
                raise TypeError('disallowed_special must be "all" or a collection of str, not a single str')
            disallowed = _name_list(disallowed_special, "disallowed_special")
        return allowed, disallowed

    def encode(
        self,
        text: str,
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
    ) -> list[int]:
        """Encodes a string into token ids, with tiktoken's special-token rules (DESIGN §3.3).

        Special-token text in ``text`` raises :class:`DisallowedSpecialError` unless it is allowed;
        ``allowed_special="all"`` (or a set) turns occurrences into their ids, leftmost-longest;
        ``disallowed_special=()`` encodes the others as plain text. Lone surrogates encode as U+FFFD, and a surrogate
        pair as the char it encodes (as tiktoken, which repairs such a str through UTF-16).

        Args:
            text: the string.
            allowed_special: ``"all"`` or the special tokens that become their ids.
            disallowed_special: ``"all"`` (every special token not allowed) or the ones that raise.

        Returns:
            ``list[int]`` of token ids.

        Raises:
            DisallowedSpecialError: a disallowed special token occurs in ``text`` (the message names it and its
                character offset).
            BytepairError: ``allowed_special`` names a string that is not a special token of this tokenizer.
            TypeError: ``text`` is not a str.
        """
        _check_text(text, " (use encode_bytes for bytes)")
        allowed, disallowed = self._special_args(allowed_special, disallowed_special)
        if allowed is None and disallowed is None:
            return self._core.encode_ordinary(text)
        return self._core.encode(text, allowed, disallowed)

    def encode_ordinary(self, text: str) -> list[int]:
        """Encodes a string with special-token text treated as plain text (tiktoken's ``encode_ordinary``).

        Raises:
            TypeError: ``text`` is not a str.
        """
        _check_text(text, " (use encode_bytes for bytes)")
        return self._core.encode_ordinary(text)

    def encode_batch(
        self,
        texts: Sequence[str],
        *,
        num_threads: int | None = None,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
    ) -> list[list[int]]:
        """Encodes many strings in parallel (Rust threads, GIL released); same ids as :meth:`encode` on each.

        Args:
            texts: a sequence (or any iterable) of str; taken at most about 8 MB or 65,536 texts ahead of the
                lists already built, so a generator is not drained at once.
            num_threads: threads to use, 1 to 1024 (default: all cores).

        Returns:
            ``list[list[int]]``, one list per text, in order.

        Python's cyclic garbage collector is paused while the lists are built (each new list would otherwise count
        towards a collection that walks all young lists, item by item; lists of ints hold no cycles), and left
        as it was on return.

        Raises:
            The first error in input order, as a loop calling :meth:`encode` on each text would:
            TypeError: an item is not a str (the message gives its index).
            DisallowedSpecialError: as :meth:`encode`.
            BytepairError: ``num_threads`` not an int, below 1 or above 1024.
            KeyboardInterrupt: Ctrl-C (checked between documents).
        """
        _check_texts(texts)
        num_threads = _check_threads(num_threads)
        allowed, disallowed = self._special_args(allowed_special, disallowed_special)
        return self._core.encode_batch(texts, allowed, disallowed, num_threads)

    def encode_ordinary_batch(self, texts: Sequence[str], *, num_threads: int | None = None) -> list[list[int]]:
        """:meth:`encode_ordinary` on many strings in parallel (GIL released)."""
        _check_texts(texts)
        num_threads = _check_threads(num_threads)
        return self._core.encode_batch(texts, None, None, num_threads)

    def encode_bytes(self, data: bytes) -> list[int]:
        """Encodes raw bytes. Valid UTF-8 gives the ids of :meth:`encode_ordinary` on the decoded text; each invalid
        sequence is a piece of its own (the sequences ``b.decode("utf-8", "replace")`` turns into one U+FFFD each,
        at most 3 bytes: ``b"\\xbb\\xbf"`` is two pieces), so ``decode_bytes(encode_bytes(b)) == b`` for any ``b``.

        Raises:
            TypeError: ``data`` is not bytes-like.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        return self._core.encode_bytes(bytes(data))

    def count_tokens(self, text: str) -> int:
        """The number of tokens of ``encode_ordinary(text)``, counted in Rust without building the list.

        Raises:
            TypeError: ``text`` is not a str.
        """
        _check_text(text)
        return self._core.count_tokens(text)

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
    ) -> npt.NDArray[np.uint32]:
        """:meth:`encode` as a numpy array.

        Returns:
            ``np.ndarray`` of shape ``(n_tokens,)``, dtype ``uint32``; its buffer is the Rust vector (no copy).

        Raises:
            As :meth:`encode`.
        """
        _check_text(text, " (use encode_bytes for bytes)")
        allowed, disallowed = self._special_args(allowed_special, disallowed_special)
        return self._core.encode_to_numpy(text, allowed, disallowed)

    @overload
    def encode_batch_to_numpy(
        self,
        texts: Sequence[str],
        *,
        num_threads: int | None = None,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]: ...

    @overload
    def encode_batch_to_numpy(
        self,
        texts: Sequence[str],
        *,
        num_threads: int | None = None,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
        max_length: int | None = None,
        padding: PaddingArg = "longest",
        truncation: TruncationArg = False,
        padding_side: SideArg = "right",
        pad_id: int | str | None = None,
        allow_any_pad_id: bool = False,
        add_special: tuple[TokenArg, TokenArg] | None = None,
        return_attention_mask: bool = True,
        dtype: npt.DTypeLike = np.uint32,
        mask_dtype: npt.DTypeLike = np.uint8,
    ) -> PaddedBatch: ...

    def encode_batch_to_numpy(
        self,
        texts: Sequence[str],
        *,
        num_threads: int | None = None,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
        max_length: Any = _UNSET,
        padding: Any = _UNSET,
        truncation: Any = _UNSET,
        padding_side: Any = _UNSET,
        pad_id: Any = _UNSET,
        allow_any_pad_id: Any = _UNSET,
        add_special: Any = _UNSET,
        return_attention_mask: Any = _UNSET,
        dtype: Any = _UNSET,
        mask_dtype: Any = _UNSET,
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]] | PaddedBatch:
        """:meth:`encode_batch` as numpy arrays, in parallel with the GIL released: flat, or padded into a batch.

        **Flat** (none of the padding arguments ``max_length`` ... ``mask_dtype`` below given): returns
        ``(ids, offsets)``; ``ids`` is ``uint32`` of shape ``(total_tokens,)``, ``offsets`` is ``int64`` of shape
        ``(len(texts) + 1,)`` with ``offsets[0] == 0``; text ``i`` is ``ids[offsets[i]:offsets[i + 1]]``.

        **Padded** (any of them given, e.g. just ``padding="longest"``): each text becomes ``[bos] + ids + [eos]``
        (``add_special``), is cut to ``max_length`` by ``truncation`` (the added specials are kept; every token,
        special or not, is one id, so none is ever cut in half), and is padded with ``pad_id`` on ``padding_side``
        to the batch's length. Encoding, truncation and padding run in Rust with the GIL released. Returns a
        :class:`PaddedBatch` ``(ids, attention_mask)``::

            ids, mask = tok.encode_batch_to_numpy(["a b c", "a"], padding="longest", pad_id=0)  # cl100k_base
            # ids  (2, 3) uint32: [[64, 293, 272], [64, 0, 0]]     mask (2, 3) uint8: [[1, 1, 1], [1, 0, 0]]

        Args:
            texts: a sequence of str.
            num_threads: threads to use (default: all cores).
            allowed_special, disallowed_special: as :meth:`encode`.
            max_length: the longest row, added specials included (an int >= 1). A text longer than this is an error
                unless ``truncation`` is set. Required by ``padding="max_length"`` and by ``truncation``.
            padding: ``"longest"`` (default in padded mode; also ``True``): rows are as long as the longest one;
                ``"max_length"``: rows are ``max_length`` long; ``False``: no padding, all texts must come out with
                the same length.
            truncation: ``False`` (default): no cutting; ``"right"`` (also ``True``): keep the first tokens;
                ``"left"``: keep the last tokens (the end of a long prompt).
            padding_side: ``"right"`` (default; encoders, training) or ``"left"`` (batched generation with a
                decoder, so every row's last real token is in the last column).
            pad_id: the id at padded positions: an int or a special-token string. It must be a token of the
                vocabulary unless ``allow_any_pad_id=True`` (any id in ``0..2**32-1``, e.g. a padding row of an
                embedding table beyond ``n_vocab``). Default: the first of the special tokens
                ``<|pad|>``, ``<pad>``, ``[PAD]``, ``<|endoftext|>`` that the tokenizer has (the usual GPT-2 practice
                of padding with the end-of-text token); without one of those, padding needs an explicit ``pad_id``.
                Padded positions are 0 in the attention mask, so the value only matters to code that ignores the
                mask (e.g. :class:`Embedding` with ``padding_idx``: give the pad a row of its own there).
            allow_any_pad_id: accept a ``pad_id`` that is not a token of the vocabulary.
            add_special: ``(bos, eos)``: token ids or special-token strings added before / after every text (either
                may be ``None``), e.g. ``(None, "<|endoftext|>")``. They are never truncated.
            return_attention_mask: build the mask (else ``attention_mask`` is ``None``).
            dtype: ids dtype in padded mode: ``np.uint32`` (default) or ``np.int64`` (PyTorch's index dtype).
            mask_dtype: mask dtype: ``np.uint8`` (default) or ``np.bool_``.

        Returns:
            Flat: ``(ids, offsets)`` as above. Padded: :class:`PaddedBatch` with ``ids`` of shape ``(len(texts),
            seq)`` and ``attention_mask`` of the same shape, where ``seq`` is ``max_length`` for
            ``padding="max_length"``, else the longest row (0 for no texts, or only empty ones).

        Raises:
            TypeError: an item is not a str (the message gives its index); an argument of the wrong type.
            DisallowedSpecialError: as :meth:`encode`.
            BytepairError: ``padding="max_length"`` or ``truncation`` without ``max_length``; ``max_length``
                smaller than the number of added specials; a text longer than ``max_length`` without
                ``truncation`` (named by its index); texts of different lengths with ``padding=False``; a
                ``pad_id``, ``bos`` or ``eos`` that is not a token (or not a special-token string); no ``pad_id``
                and no default pad token; an unknown ``padding`` / ``truncation`` / ``padding_side``;
                ``num_threads`` not an int, below 1 or above 1024.
        """
        _check_texts(texts)
        num_threads = _check_threads(num_threads)
        allowed, disallowed = self._special_args(allowed_special, disallowed_special)
        options = {
            "max_length": max_length,
            "padding": padding,
            "truncation": truncation,
            "padding_side": padding_side,
            "pad_id": pad_id,
            "allow_any_pad_id": allow_any_pad_id,
            "add_special": add_special,
            "return_attention_mask": return_attention_mask,
            "dtype": dtype,
            "mask_dtype": mask_dtype,
        }
        given = {k: v for k, v in options.items() if v is not _UNSET}
        if not given:
            return self._core.encode_batch_to_numpy(texts, allowed, disallowed, num_threads)
        return _pad_batch(self, texts, allowed, disallowed, num_threads, **given)


    def encode_iterable(
        self,
        lines: Iterable[str],
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
    ) -> Iterator[int]:
        """Encodes a stream of strings (e.g. the lines of a file opened in text mode) lazily.

        The ids are exactly those of encoding the concatenation ``"".join(lines)``: text is buffered and encoded up to
        a point where no piece of the built-in patterns can cross (a space after a non-space, a newline between two
        non-spaces, and with cl100k and o200k the end of any line, in any script), so memory stays flat over a long
        stream and time is linear. With a custom
        pattern, or a special token containing a space or a newline, no such point is known and the whole stream is
        buffered; so is a stretch of text with no such point (one pre-token, e.g. Chinese without punctuation or
        line breaks). Ids are yielded as parts are encoded: an error (a disallowed special token, whose offset is
        given in the whole stream) may come after some ids.

        Raises:
            TypeError: an item is not a str. As :meth:`encode` otherwise.
        """
        allowed, disallowed = self._special_args(allowed_special, disallowed_special)
        def checked() -> Iterator[str]:
            for i, line in enumerate(lines):
                if not isinstance(line, str):
                    raise TypeError(f"encode_iterable: item {i} is of type {type(line).__name__}, expected str")
                yield line

        for start, text in _cut_stream(checked(), _cut_mode(self.pattern, self._special_list), _STREAM_BLOCK_CHARS):
            yield from self._encode_at(text, start, allowed, disallowed)

    def _encode_at(
        self, text: str, start: int, allowed: list[str] | None, disallowed: list[str] | None
    ) -> list[int]:
        """``encode`` of a part of a stream that starts at character ``start``: a disallowed special token's offset
        is given in the stream."""
        try:
            return self._core.encode(text, allowed, disallowed)
        except DisallowedSpecialError as e:
            raise DisallowedSpecialError(_shift_offset(str(e), start)) from None

    def encode_file(
        self,
        src: PathLike,
        dst: PathLike,
        *,
        dtype: str | None = None,
        separator: str | None = None,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Encodes a UTF-8 text file into a ``.npy`` token shard for model training, in bounded memory, on all cores.

        Args:
            src: the text file (one document).
            dst: the ``.npy`` file to write (a 1-D array). It is written under a temporary name in the same directory
                and renamed when complete: if encoding fails, ``dst`` is left as it was.
            dtype: ``"uint16"`` or ``"uint32"``; default ``uint16`` when ``n_vocab <= 65536``, else ``uint32``.
            separator: a special token appended after the document (e.g. ``"<|endoftext|>"``), or None.
            num_threads: threads (default: all cores).
            progress: show a progress bar (bytes).

        Returns:
            A summary dict: ``path``, ``tokens``, ``bytes`` (of text), ``dtype``, ``seconds``.

        Raises:
            BytepairError: a dtype too small for ``n_vocab``, a separator that is not a special token, text that is not
                UTF-8 (the message names the file and byte offset), ``dst`` equal to ``src``, a bad ``num_threads``.
            DisallowedSpecialError: a disallowed special token (the message names the file and character offset).
            FileNotFoundError: ``src`` does not exist.
        """
        from .shards import encode_files

        return encode_files(
            self, [src], dst, dtype=dtype, separator=separator, allowed_special=allowed_special,
            disallowed_special=disallowed_special, num_threads=num_threads, progress=progress, single_file=True,
        )

    # ------------------------------------------------------------------------------------------------- decoding
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """Concatenates the bytes of the tokens (DESIGN §3.5).

        Raises:
            ValueError (:class:`BytepairError`): an id that is negative, >= ``n_vocab`` or unassigned (named).
            TypeError: an id that is not an int (its position is named).
        """
        return self._core.decode_bytes(ids)

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Decodes ids to a string: :meth:`decode_bytes` then ``bytes.decode("utf-8", errors)``.

        Args:
            ids: token ids.
            errors: as in ``bytes.decode`` (default ``"replace"``: invalid UTF-8 becomes U+FFFD).

        Raises:
            ValueError, TypeError: as :meth:`decode_bytes`; UnicodeDecodeError with ``errors="strict"``.
        """
        return self._core.decode_bytes(ids).decode("utf-8", errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        """The bytes of one token.

        Raises:
            ValueError: an invalid id (named). TypeError: not an int.
        """
        return self._core.decode_single_token_bytes(token)

    # ----------------------------------------------------------------------------------------------- properties
    @property
    def n_vocab(self) -> int:
        """One more than the largest id, special tokens included (tiktoken's ``n_vocab``)."""
        return self._core.n_vocab

    @property
    def vocab(self) -> dict[int, bytes]:
        """``{id: bytes}`` for every assigned id, special tokens included (a new dict on each access)."""
        return dict(self._core.vocab())

    @property
    def merges(self) -> list[tuple[bytes, bytes]]:
        """The merges in order. For a tokenizer built from ranks they are derived: each token's merge is the split
        BPE produces with only lower ranks (as tiktoken's educational ``bpe_train`` reconstructs them)."""
        return self._core.merges()

    @property
    def mergeable_ranks(self) -> dict[bytes, int]:
        """``{bytes: id}`` of the non-special tokens (tiktoken's ``mergeable_ranks``)."""
        return self._core.ranks()

    @property
    def special_tokens(self) -> dict[str, int]:
        """``{token: id}`` of the special tokens (a copy)."""
        return dict(self._special_tokens)

    @property
    def special_tokens_set(self) -> frozenset[str]:
        """The special tokens."""
        return self._special_set

    @property
    def pattern(self) -> str:
        """The pre-tokenization regex."""
        return self._core.pattern

    def __repr__(self) -> str:
        pat = next((k for k, v in PATTERNS.items() if v == self.pattern), None)
        shown = pat if pat else repr(self.pattern if len(self.pattern) < 40 else self.pattern[:37] + "...")
        return f"<bytepair.Tokenizer n_vocab={self.n_vocab} pattern={shown} special_tokens={len(self._special_list)}>"

    # ------------------------------------------------------------------------------------------- serialization
    def save(self, path: PathLike) -> None:
        """Writes the tokenizer to ``path`` in bytepair's versioned JSON format (pattern, special tokens and their
        ids, vocab and merges or ranks, n_vocab, a checksum). Read it back with :meth:`load`."""
        from .formats import native

        native.save(self, path)

    @classmethod
    def load(cls, path: PathLike) -> Tokenizer:
        """Reads a tokenizer written by :meth:`save` (parsed and validated in Rust).

        Raises:
            FormatError: a truncated, corrupt, wrong-version or inconsistent file (the message names the file and
                the problem).
            FileNotFoundError: no such file.
        """
        from .formats import native

        return native.load(path)

    def __reduce__(self) -> tuple[Any, ...]:
        from .formats import native

        return (native._unpickle, (native.dumps(self),))

    # ------------------------------------------------------------------------------------- formats (issue 6)
    def __copy__(self) -> Tokenizer:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Tokenizer:
        return self._wrap(self._core)  # immutable: sharing the Rust object is a deep copy

    def save_tiktoken(self, path: PathLike) -> None:
        """Writes the mergeable tokens as a tiktoken ranks file (``base64 id`` lines; gzip'd if ``path`` ends in
        ``.gz``). The pattern and special tokens are not part of that format: pass them to :meth:`from_tiktoken`.

        Raises:
            BytepairError: token ids not in merge order (tiktoken uses the id as the merge priority).
        """
        from .formats import tiktoken as _tt

        _tt.save(self, path)

    def to_tiktoken(self, name: str | None = None) -> tiktoken.Encoding:
        """A ``tiktoken.Encoding`` with the same ranks, pattern and special tokens: it gives the same ids.

        Raises:
            ImportError: tiktoken is not installed. BytepairError: ids not in merge order.
        """
        from .formats import tiktoken as _tt

        return _tt.to_encoding(self, name)

    def save_huggingface(self, path: PathLike) -> None:
        """Writes a Hugging Face ``tokenizer.json`` (byte-level BPE, ``ignore_merges``, specials as added tokens)
        that gives the same ids in the ``tokenizers`` library. A directory ``path`` gets ``tokenizer.json``."""
        from .formats import huggingface

        huggingface.save(self, path)

    @classmethod
    def from_huggingface(cls, path: PathLike) -> Tokenizer:
        """Reads a byte-level BPE ``tokenizer.json`` (or a directory holding one).

        Raises:
            FormatError: not byte-level BPE (WordPiece, Unigram, ...: the message says which), malformed or
                inconsistent (named).
        """
        from .formats import huggingface

        return huggingface.load(path)

    def save_gpt2(self, vocab_json: PathLike, merges_txt: PathLike) -> None:
        """Writes GPT-2's ``vocab.json`` + ``merges.txt`` (with a ``#version: 0.2`` header). The pattern is not
        stored: pass it to :meth:`from_files` when it is not ``"gpt2"``."""
        from .formats import gpt2

        gpt2.write_files(self, vocab_json, merges_txt)

    @classmethod
    def from_file(cls, path: PathLike, *, pattern: str | None = None) -> Tokenizer:
        """Loads any supported format, detected from the content: a bytepair file, a ``.tiktoken`` ranks file, a
        ``tokenizer.json``, or GPT-2 ``vocab.json`` / ``merges.txt`` (either file, or their directory). A ranks file
        named after an OpenAI encoding (``cl100k_base``, ``o200k_base``, ``r50k_base``) gets that encoding's special
        tokens (:meth:`from_tiktoken` adds none unless given).

        Raises:
            FormatError: an unrecognised or invalid file.
        """
        from .formats import load_any

        return load_any(path, pattern=pattern)

    def decoder(self, errors: str = "replace") -> IncrementalDecoder:
        """An incremental decoder (DESIGN §3.5): ``d.decode(id_or_ids)`` returns the text of the characters that are
        complete so far, never a partial character; ``d.flush()`` returns the rest (U+FFFD for an incomplete
        character with ``errors="replace"``, UnicodeDecodeError with ``"strict"``)."""
        from .decoder import IncrementalDecoder

        return IncrementalDecoder(self, errors)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tokenizer):
            return NotImplemented
        return (
            self.pattern == other.pattern
            and self._special_tokens == other._special_tokens
            and self._core.vocab() == other._core.vocab()
            and self._core.ranks() == other._core.ranks()
        )

    __hash__ = None  # type: ignore[assignment]


def _pad_batch(
    tok: Tokenizer,
    texts: Sequence[str],
    allowed: list[str] | None,
    disallowed: list[str] | None,
    num_threads: int | None,
    *,
    max_length: object = None,
    padding: object = "longest",
    truncation: object = False,
    padding_side: object = "right",
    pad_id: object = None,
    allow_any_pad_id: object = False,
    add_special: object = None,
    return_attention_mask: object = True,
    dtype: object = np.uint32,
    mask_dtype: object = np.uint8,
) -> PaddedBatch:
    """The padded form of :meth:`Tokenizer.encode_batch_to_numpy`: checks and converts the options, then encodes and
    pads in Rust."""
    specials = tok.special_tokens
    pad = _b.padding_name(padding)
    if pad_id is not None:
        pad_value = _b.token_id(pad_id, "pad_id", specials, None if allow_any_pad_id else tok.n_vocab)
    else:
        pad_value = None if pad == "false" else _b.default_pad_id(specials)
    bos, eos = _b.add_special_ids(add_special, specials, tok.n_vocab)
    ids, mask = tok._core.encode_batch_padded(
        texts,
        allowed,
        disallowed,
        num_threads,
        max_length=_b.max_length_value(max_length),
        padding=pad,
        truncation=_b.truncation_name(truncation),
        padding_side=_b.side_name(padding_side),
        pad_id=pad_value,
        allow_any_pad_id=bool(allow_any_pad_id),
        bos=bos,
        eos=eos,
        return_attention_mask=bool(return_attention_mask),
        int64=_b.ids_dtype_is_int64(dtype),
        mask_bool=_b.mask_dtype_is_bool(mask_dtype),
    )
    return PaddedBatch(ids, mask)


def _check_texts(texts: object) -> None:
    if isinstance(texts, (str, bytes, bytearray)):
        what = "str (use encode for one text)" if isinstance(texts, str) else f"{type(texts).__name__} object"
        raise TypeError(f"texts must be a sequence of str, not a single {what}")


def _check_train_options(
    vocab_size: int, specials: Sequence[str], min_frequency: int, max_token_length: int | None
) -> None:
    if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
    if vocab_size < 256 + len(specials):
        raise BytepairError(
            f"vocab_size={vocab_size} is too small: it must be at least 256 (one token per byte) + "
            f"{len(specials)} special token(s) = {256 + len(specials)}"
        )
    if not isinstance(min_frequency, int) or min_frequency < 1:
        raise BytepairError(f"min_frequency must be an int >= 1, got {min_frequency!r}")
    if max_token_length is not None and (not isinstance(max_token_length, int) or max_token_length < 1):
        raise BytepairError(f"max_token_length must be None or an int >= 1, got {max_token_length!r}")


def _run_training(
    counts: PretokenCounts,
    vocab_size: int,
    specials: Sequence[str],
    min_frequency: int,
    max_token_length: int | None,
    progress: bool,
    consume: bool = False,
) -> CoreTokenizer:
    bar = _progress_bar(progress, "merging", vocab_size - 256 - len(specials), unit="merge")
    last = [0]

    def report(done: int, total: int) -> None:
        bar.update(done - last[0])
        last[0] = done

    try:
        return counts._core.train(vocab_size, list(specials), min_frequency, max_token_length, report, consume)
    finally:
        bar.close()


def train_bpe(
    input_path: PathLike, vocab_size: int, special_tokens: Sequence[str]
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """Trains byte-level BPE on a UTF-8 text file: the Stanford CS336 assignment's API.

    The GPT-2 pre-tokenization pattern is used (the assignment's), special tokens split the text and are never merged.

    Args:
        input_path: path of the training text.
        vocab_size: final vocabulary size, counting the 256 bytes, the merges and the special tokens.
        special_tokens: special tokens, added to the vocab after the merges.

    Returns:
        ``(vocab, merges)``: ``vocab`` is ``dict[int, bytes]`` (ids 0..255 bytes, then merges, then specials),
        ``merges`` is ``list[tuple[bytes, bytes]]`` in creation order.

    Raises:
        As :meth:`Tokenizer.train`.
    """
    if not isinstance(input_path, (str, os.PathLike)):
        raise TypeError(f"input_path must be a path, got {type(input_path).__name__}")
    tok = Tokenizer.train(input_path, vocab_size, pattern="gpt2", special_tokens=special_tokens)
    return tok.vocab, tok.merges


def _iter_docs(paths: Iterable[PathLike]) -> Iterator[str]:  # pragma: no cover - helper for the CLI
    for p in paths:
        yield Path(p).read_text(encoding="utf-8")
