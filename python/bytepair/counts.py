"""Pre-token counts: :func:`count_pretokens` and :class:`PretokenCounts`, the table BPE training starts from.

Counting is the expensive, parallel part of training; the merges only need the table. Tables counted separately
(threads, processes, machines) and added with ``+`` are exactly the table of everything counted at once, so
``Tokenizer.train_from_counts(sum(parts))`` gives the merges of training on all the data (DESIGN §3.4).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._core import BytepairError, Counts

__all__ = ["PretokenCounts", "count_pretokens"]

PathLike = str | os.PathLike[str]


class PretokenCounts:
    """A table of pre-token counts (64-bit), with the pattern and special tokens it was counted with.

    Make one with :func:`count_pretokens` or :meth:`load`; add tables with ``+`` (or ``sum``); train with
    :meth:`bytepair.Tokenizer.train_from_counts`. Tables are immutable, picklable and comparable with ``==``.
    Adding tables counted with a different pattern or set of special tokens raises :class:`BytepairError`.
    """

    __slots__ = ("_core",)
    _core: Counts

    def __init__(self) -> None:
        raise TypeError("use bytepair.count_pretokens(data, ...) or PretokenCounts.load(path)")

    @classmethod
    def _wrap(cls, core: Counts) -> PretokenCounts:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_core", core)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PretokenCounts objects are immutable")

    def __add__(self, other: object) -> PretokenCounts:
        if not isinstance(other, PretokenCounts):
            return NotImplemented
        core = self._core.copy()
        core.merge(other._core)
        return PretokenCounts._wrap(core)

    def __radd__(self, other: object) -> PretokenCounts:
        if isinstance(other, int) and other == 0:  # sum(tables)
            return self
        return NotImplemented

    def __len__(self) -> int:
        """Number of distinct pre-tokens."""
        return len(self._core)

    @property
    def total(self) -> int:
        """Total number of pre-tokens counted."""
        return self._core.total

    @property
    def pattern(self) -> str:
        """The pre-tokenization regex the texts were split with."""
        return self._core.pattern

    @property
    def special_tokens(self) -> list[str]:
        """The special tokens that split the texts (never counted)."""
        return self._core.special_tokens

    def most_common(self, n: int | None = None) -> list[tuple[bytes, int]]:
        """The ``n`` most frequent pre-tokens (all when ``None``) as ``(bytes, count)``, most frequent first, ties
        by bytes."""
        if n is None:
            n = len(self)
        if not isinstance(n, int) or n < 0:
            raise BytepairError(f"n must be None or an int >= 0, got {n!r}")
        return self._core.most_common(n)

    def to_dict(self) -> dict[bytes, int]:
        """The table as ``{pre-token bytes: count}``."""
        return dict(self._core.items())

    def save(self, path: PathLike) -> None:
        """Writes the table to ``path`` (a versioned binary format; :meth:`load` reads it)."""
        Path(path).write_bytes(self._core.to_bytes())

    @classmethod
    def load(cls, path: PathLike) -> PretokenCounts:
        """Reads a table written by :meth:`save`.

        Raises:
            FileNotFoundError: no such file.
            FormatError: the file is not a counts table, or is truncated, corrupt or of another version.
        """
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"pre-token counts file not found: {p}")
        return cls._wrap(Counts.from_bytes(p.read_bytes()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_from_bytes, (self._core.to_bytes(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PretokenCounts):
            return NotImplemented
        return self._core == other._core

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<PretokenCounts {len(self):,} distinct, {self.total:,} total, specials={self.special_tokens!r}>"


def _from_bytes(data: bytes) -> PretokenCounts:
    return PretokenCounts._wrap(Counts.from_bytes(data))


def _check_threads(num_threads: object) -> int | None:
    """``num_threads`` as an int: None, or an integer (``int``, numpy integer) from 1 to 1024."""
    if num_threads is None:
        return None
    if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) or not 1 <= num_threads <= 1024:
        raise BytepairError(f"num_threads must be None or an int from 1 to 1024, got {num_threads!r}")
    return int(num_threads)


def count_pretokens(
    data: PathLike | Iterable[str | os.PathLike[str]],
    *,
    pattern: str = "cl100k",
    special_tokens: Sequence[str] = (),
    num_threads: int | None = None,
    errors: str = "strict",
    progress: bool = False,
    _chunk_bytes: int | None = None,
) -> PretokenCounts:
    """Counts the pre-tokens of a corpus: the first half of training, parallel and streamed.

    Files are read in chunks (4 MB) cut only where pre-tokenization is unaffected and never inside a UTF-8
    character or a special token, so memory grows with the number of distinct pre-tokens, not the corpus size.
    Documents from an iterable are counted in batches on a worker thread while the next batch is read.

    Args:
        data: a path (``str`` or ``os.PathLike``) to a UTF-8 text file, or an iterable whose items are documents
            (``str``) or file paths (``os.PathLike``, e.g. ``pathlib.Path``).
        pattern: pre-tokenization: ``"gpt2"``, ``"cl100k"``, ``"o200k"`` or a regex.
        special_tokens: strings that split documents and are never counted.
        num_threads: threads for pre-tokenization and counting (default: all cores).
        errors: ``"strict"`` (invalid UTF-8 in a file raises, naming the file and byte offset) or ``"replace"``
            (each invalid sequence counts as U+FFFD).
        progress: show a progress bar of bytes counted (tqdm when installed) on stderr.

    Returns:
        The table; add tables with ``+`` and train with :meth:`bytepair.Tokenizer.train_from_counts`.

    Raises:
        BytepairError: a pattern that does not compile, bad special tokens, a file that is not UTF-8.
        FileNotFoundError: a path that does not exist.
        TypeError: an item of ``data`` that is neither str nor a path.
        KeyboardInterrupt: Ctrl-C stops counting promptly.
    """
    from .tokenizer import _check_pattern, _check_specials

    if errors not in ("strict", "replace"):
        raise BytepairError(f"errors must be 'strict' or 'replace', got {errors!r}")
    num_threads = _check_threads(num_threads)
    core = Counts(
        _check_pattern(pattern), _check_specials(special_tokens), num_threads, errors, _chunk_bytes
    )
    _feed(core, data, progress)
    return PretokenCounts._wrap(core)


def _check_file(path: PathLike, single: bool = False) -> Path:
    p = Path(path)
    if not p.exists():
        hint = " (a single str is read as a path; pass a list of str to train on text)" if single else ""
        raise FileNotFoundError(f"training file not found: {str(path)[:200]!r}{hint}")
    if p.is_dir():
        raise IsADirectoryError(f"training path is a directory, not a file: {p}")
    return p


def _feed(core: Counts, data: object, progress: bool) -> None:
    if isinstance(data, (str, os.PathLike)):
        p = _check_file(data, single=True)
        bar = _progress_bar(progress, "counting", p.stat().st_size)
        try:
            core.add_file(os.fspath(p), bar.update if progress else None)
        finally:
            bar.close()
        return
    if isinstance(data, (bytes, bytearray)):
        raise TypeError("data must be a path or an iterable of str documents, not bytes")
    try:
        it = iter(data)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"data must be a path or an iterable of str, got {type(data).__name__}") from None
    total = None
    if isinstance(data, (list, tuple)) and data and all(isinstance(x, os.PathLike) for x in data):
        total = sum(_check_file(x).stat().st_size for x in data)
    bar = _progress_bar(progress, "counting", total)
    try:
        core.add_iterable(it, bar.update if progress else None)
    finally:
        bar.close()


class _NoBar:
    total: int | None = None

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(enabled: bool, desc: str, total: int | None, unit: str = "B") -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return _NoBar()
    scale = unit == "B"
    return tqdm(desc=desc, total=total, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                file=sys.stderr, leave=False)
