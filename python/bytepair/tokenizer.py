"""The byte-level BPE :class:`Tokenizer` (a typed facade over the Rust core) and :func:`train_bpe`.

Semantics follow tiktoken (``tiktoken/core.py``) for encoding and special tokens, and the Stanford CS336 assignment
for training (DESIGN §3.4).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import _core
from ._core import BytepairError, CoreTokenizer, FormatError
from .counts import PretokenCounts, _progress_bar, count_pretokens

if TYPE_CHECKING:  # pragma: no cover
    import tiktoken

__all__ = ["PATTERNS", "Tokenizer", "train_bpe"]

PATTERNS: dict[str, str] = dict(_core.PATTERNS)
"""Built-in pre-tokenization patterns, tiktoken's regexes: ``gpt2`` (r50k_base), ``cl100k`` (cl100k_base) and
``o200k`` (o200k_base). Pass a name or any regex (fancy-regex syntax) as ``pattern``."""

PathLike = str | os.PathLike[str]
SpecialSet = Literal["all"] | Collection[str]

FORMAT_NAME = "bytepair"
FORMAT_VERSION = 1


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
        BytepairError: a single byte missing, duplicate or empty special tokens, a pattern that does not compile.
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
                if not isinstance(i, int) or i < 0:
                    raise TypeError(f"special token {t!r} must map to a non-negative int id, got {i!r}")
                specials.append((t, i))
        else:
            next_id = max((k for k, _ in items), default=-1) + 1
            for t in _check_specials(special_tokens):
                tid = by_bytes.get(t.encode("utf-8"))
                if tid is None:
                    tid = next_id
                    next_id += 1
                specials.append((t, tid))
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

        Args:
            enc_or_path: a ``tiktoken.Encoding``, or the path of a ``.tiktoken`` ranks file (lines ``base64 rank``;
                ``.gz`` accepted).
            pattern: the pre-tokenization pattern; for an Encoding it defaults to the Encoding's own, for a file to
                the one its name implies (``cl100k``, ``o200k``, ``r50k``/``gpt2``), else it is required.
            special_tokens: ``{token: id}``; defaults to the Encoding's own, or none for a file.

        Raises:
            FormatError: a malformed ranks file (the message names the file and line).
            BytepairError: a missing pattern, duplicate ranks, a special token whose id is also a rank.
        """
        if isinstance(enc_or_path, (str, os.PathLike)):
            path = Path(enc_or_path)
            ranks = _read_tiktoken_ranks(path)
            if pattern is None:
                name = path.name.lower()
                for key, pat in (("cl100k", "cl100k"), ("o200k", "o200k"), ("r50k", "gpt2"), ("p50k", "gpt2"),
                                 ("gpt2", "gpt2")):
                    if key in name:
                        pattern = pat
                        break
                else:
                    raise BytepairError(
                        f"{path}: cannot tell the pre-tokenization pattern from the file name; pass pattern= "
                        f"(one of {sorted(PATTERNS)} or a regex)"
                    )
            specials = dict(special_tokens or {})
        else:
            try:
                ranks = enc_or_path._mergeable_ranks
                specials = dict(enc_or_path._special_tokens if special_tokens is None else special_tokens)
                pat = enc_or_path._pat_str
            except AttributeError:
                raise TypeError(
                    f"from_tiktoken expects a tiktoken.Encoding or a path, got {type(enc_or_path).__name__}"
                ) from None
            pattern = pat if pattern is None else pattern
        core = CoreTokenizer.from_ranks(ranks, list(specials.items()), _check_pattern(pattern))
        return cls._wrap(core)

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
            FormatError: malformed files (the message names the file and line).
        """
        dec = _gpt2_byte_decoder()
        vpath, mpath = Path(vocab_json), Path(merges_txt)
        try:
            raw = json.loads(vpath.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FormatError(f"{vpath}: not a JSON vocab: {e}") from None
        if not isinstance(raw, dict):
            raise FormatError(f"{vpath}: expected a JSON object {{token: id}}")

        def to_bytes(s: str, where: str) -> bytes:
            try:
                return bytes(dec[c] for c in s)
            except KeyError as e:
                raise FormatError(f"{where}: {s!r} has a character outside GPT-2's byte-to-unicode map: {e}") from None

        merges: list[tuple[bytes, bytes]] = []
        for n, line in enumerate(mpath.read_text(encoding="utf-8").splitlines(), 1):
            if not line or (n == 1 and line.startswith("#version")):
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise FormatError(f"{mpath}:{n}: expected 'left right', got {line!r}")
            merges.append((to_bytes(parts[0], f"{mpath}:{n}"), to_bytes(parts[1], f"{mpath}:{n}")))
        vocab: dict[int, bytes] = {}
        specials: dict[str, int] = {}
        for tok, i in raw.items():
            if special_tokens is None and tok.startswith("<|") and tok.endswith("|>") and len(tok) > 4:
                specials[tok] = i
                continue
            vocab[i] = to_bytes(tok, str(vpath))
        if special_tokens is not None:
            sp: Sequence[str] | Mapping[str, int] = special_tokens
        else:
            sp = specials
        return cls(vocab, merges, sp, pattern=pattern)

    # ------------------------------------------------------------------------------------------------- encoding
    def _special_args(
        self, allowed_special: SpecialSet, disallowed_special: SpecialSet
    ) -> tuple[list[str] | None, list[str] | None]:
        if allowed_special == "all":
            allowed: Collection[str] = self._special_set
        else:
            if isinstance(allowed_special, str):
                raise TypeError('allowed_special must be "all" or a collection of str, not a single str')
            allowed = allowed_special
        if disallowed_special == "all":
            disallowed: Collection[str] = self._special_set.difference(allowed)
        else:
            if isinstance(disallowed_special, str):
                raise TypeError('disallowed_special must be "all" or a collection of str, not a single str')
            disallowed = disallowed_special
        return (list(allowed) or None), (list(disallowed) or None)

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
        ``disallowed_special=()`` encodes the others as plain text. Lone surrogates encode as U+FFFD.

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
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__} (use encode_bytes for bytes)")
        if not self._special_list:
            return self._core.encode_ordinary(text)
        allowed, disallowed = self._special_args(allowed_special, disallowed_special)
        return self._core.encode(text, allowed, disallowed)

    def encode_ordinary(self, text: str) -> list[int]:
        """Encodes a string with special-token text treated as plain text (tiktoken's ``encode_ordinary``).

        Raises:
            TypeError: ``text`` is not a str.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__} (use encode_bytes for bytes)")
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
            texts: a sequence of str.
            num_threads: threads to use (default: all cores).

        Returns:
            ``list[list[int]]``, one list per text, in order.

        Raises:
            TypeError: an item is not a str (the message gives its index).
            DisallowedSpecialError: as :meth:`encode`.
        """
        _check_texts(texts)
        allowed, disallowed = self._special_args(allowed_special, disallowed_special)
        return self._core.encode_batch(texts, allowed, disallowed, num_threads)

    def encode_ordinary_batch(self, texts: Sequence[str], *, num_threads: int | None = None) -> list[list[int]]:
        """:meth:`encode_ordinary` on many strings in parallel (GIL released)."""
        _check_texts(texts)
        return self._core.encode_batch(texts, None, None, num_threads)

    def encode_bytes(self, data: bytes) -> list[int]:
        """Encodes raw bytes. Valid UTF-8 gives the ids of :meth:`encode_ordinary` on the decoded text; each maximal
        run of invalid bytes is a piece of its own, so ``decode_bytes(encode_bytes(b)) == b`` for any ``b``.

        Raises:
            TypeError: ``data`` is not bytes-like.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        return self._core.encode_bytes(bytes(data))

    def count_tokens(self, text: str) -> int:
        """The number of tokens of ``encode_ordinary(text)``."""
        return len(self.encode_ordinary(text))

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
    def _state(self) -> dict[str, Any]:
        b64 = base64.b64encode
        state: dict[str, Any] = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "pattern": self.pattern,
            "special_tokens": [[t, i] for t, i in self._special_tokens.items()],
        }
        special_ids = set(self._special_tokens.values())
        if self._core.has_merges:
            state["vocab"] = [[i, b64(b).decode()] for i, b in self._core.vocab() if i not in special_ids]
            state["merges"] = [[b64(a).decode(), b64(b).decode()] for a, b in self._core.merges()]
        else:
            state["ranks"] = [[b64(b).decode(), r] for b, r in self._core.ranks().items()]
        return state

    @classmethod
    def _from_state(cls, state: Mapping[str, Any], source: str = "<state>") -> Tokenizer:
        def bad(msg: str) -> FormatError:
            return FormatError(f"{source}: {msg}")

        if not isinstance(state, Mapping) or state.get("format") != FORMAT_NAME:
            raise bad("not a bytepair tokenizer file (no \"format\": \"bytepair\")")
        version = state.get("version")
        if version != FORMAT_VERSION:
            raise bad(f"unsupported version {version!r} (this bytepair reads version {FORMAT_VERSION})")
        try:
            pattern = state["pattern"]
            specials = [(str(t), int(i)) for t, i in state["special_tokens"]]
            d64 = base64.b64decode
            if "merges" in state:
                vocab = [(int(i), d64(b, validate=True)) for i, b in state["vocab"]]
                merges = [(d64(a, validate=True), d64(b, validate=True)) for a, b in state["merges"]]
                core = CoreTokenizer.from_vocab_merges(vocab, merges, specials, pattern)
            else:
                ranks = {d64(b, validate=True): int(r) for b, r in state["ranks"]}
                core = CoreTokenizer.from_ranks(ranks, specials, pattern)
        except FormatError as e:
            raise bad(str(e)) from None
        except BytepairError as e:
            raise bad(f"inconsistent tokenizer: {e}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise bad(f"malformed field: {type(e).__name__}: {e}") from None
        return cls._wrap(core)

    def save(self, path: PathLike) -> None:
        """Writes the tokenizer to ``path`` in bytepair's versioned JSON format (pattern, special tokens and their
        ids, vocab and merges, or ranks). Read it back with :meth:`load`."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self._state(), f, separators=(",", ":"))

    @classmethod
    def load(cls, path: PathLike) -> Tokenizer:
        """Reads a tokenizer written by :meth:`save`.

        Raises:
            FormatError: a truncated, corrupt, wrong-version or inconsistent file (the message names the file and
                the problem).
            FileNotFoundError: no such file.
        """
        p = Path(path)
        try:
            state = json.loads(p.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FormatError(f"{p}: not a bytepair tokenizer file (truncated or corrupt JSON: {e})") from None
        return cls._from_state(state, str(p))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Tokenizer._from_state, (self._state(),))

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


def _check_texts(texts: object) -> None:
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a sequence of str, not a single str (use encode for one text)")


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


def _read_tiktoken_ranks(path: Path) -> dict[bytes, int]:
    """Reads a tiktoken ranks file: one ``base64(token) rank`` per line (optionally gzip-compressed)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"tiktoken ranks file not found: {path}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise FormatError(f"{path}: corrupt gzip data: {e}") from None
    ranks: dict[bytes, int] = {}
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise FormatError(f"{path}:{n}: expected 'base64token rank', got {line[:80]!r}")
        try:
            token = base64.b64decode(parts[0], validate=True)
            rank = int(parts[1])
        except ValueError as e:
            raise FormatError(f"{path}:{n}: {e}") from None
        if token in ranks:
            raise FormatError(f"{path}:{n}: token {token!r} appears twice")
        ranks[token] = rank
    return ranks


_BYTE_DECODER: dict[str, int] | None = None


def _gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's byte-to-unicode map, inverted (``encoder.py`` of the GPT-2 release)."""
    global _BYTE_DECODER
    if _BYTE_DECODER is None:
        bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
        cs = bs[:]
        n = 0
        for b in range(256):
            if b not in bs:
                bs.append(b)
                cs.append(256 + n)
                n += 1
        _BYTE_DECODER = {chr(c): b for b, c in zip(bs, cs)}
    return _BYTE_DECODER


def _iter_docs(paths: Iterable[PathLike]) -> Iterator[str]:  # pragma: no cover - helper for the CLI
    for p in paths:
        yield Path(p).read_text(encoding="utf-8")
