"""Incremental (streaming) decoding: ids in, complete characters out (DESIGN §3.5).

Decoding is byte concatenation; a token may end inside a multi-byte UTF-8 character (byte-level BPE splits
characters freely), so a streaming decoder keeps the incomplete tail until the next ids complete it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .tokenizer import Tokenizer

__all__ = ["IncrementalDecoder"]


class IncrementalDecoder:
    """Decodes a stream of token ids into text, one id (or a few) at a time.

    ``decode`` returns the characters completed by the new ids and never a partial character; bytes that may still
    become a character are held back, so no U+FFFD appears for a character that completes later. Invalid UTF-8
    (bytes that can never complete) is handled at once according to ``errors``. ``flush`` ends the stream: what is
    held back becomes U+FFFD (``errors="replace"``), is dropped (``"ignore"``) or raises ``UnicodeDecodeError``
    (``"strict"``). Concatenating every ``decode`` and the final ``flush`` gives exactly
    ``tok.decode(all_ids, errors)``.

    Example::

        d = tok.decoder()
        for i in ids:
            print(d.decode(i), end="", flush=True)
        print(d.flush())

    Not thread-safe (it has state); use one per stream.
    """

    __slots__ = ("_core", "_dec", "errors")

    def __init__(self, tokenizer: Tokenizer, errors: str = "replace") -> None:
        codecs.lookup_error(errors)  # LookupError for an unknown handler, as bytes.decode would raise
        self._core = tokenizer._core
        self._dec = codecs.getincrementaldecoder("utf-8")(errors)
        self.errors = errors

    def decode(self, ids: int | Iterable[int]) -> str:
        """Adds one id or an iterable of ids; returns the newly completed text.

        Raises:
            ValueError (:class:`bytepair.BytepairError`): an id that is negative, >= ``n_vocab`` or unassigned (named);
                nothing is added then.
            TypeError: an id that is not an int.
            UnicodeDecodeError: invalid UTF-8 with ``errors="strict"``.
        """
        if isinstance(ids, int):
            data = self._core.decode_single_token_bytes(ids)
        else:
            data = self._core.decode_bytes(ids)
        return self._dec.decode(data, False)

    def flush(self) -> str:
        """Ends the stream and returns what is left (see the class doc); the decoder can then be reused."""
        try:
            return self._dec.decode(b"", True)
        finally:
            self._dec.reset()

    def reset(self) -> None:
        """Drops any held-back bytes."""
        self._dec.reset()

    @property
    def pending(self) -> bytes:
        """The bytes held back: the start of a character that is not complete yet."""
        return bytes(self._dec.getstate()[0])

    def __repr__(self) -> str:
        return f"<bytepair.IncrementalDecoder errors={self.errors!r} pending={len(self.pending)} bytes>"
