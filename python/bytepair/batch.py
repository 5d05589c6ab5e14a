"""Model-ready batches: the :class:`PaddedBatch` returned by ``Tokenizer.encode_batch_to_numpy(..., padding=...)`` and
the checks that turn its keyword arguments into the Rust core's options (``rust/bytepair-core/src/batch.rs``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from ._core import BytepairError

__all__ = ["DEFAULT_PAD_TOKENS", "PaddedBatch"]

PaddingArg = Literal["longest", "max_length"] | bool
TruncationArg = Literal["right", "left"] | bool
SideArg = Literal["right", "left"]
TokenArg = int | str | None

#: Special tokens tried, in order, for the padding id when ``pad_id`` is not given.
DEFAULT_PAD_TOKENS: tuple[str, ...] = ("<|pad|>", "<pad>", "[PAD]", "<|endoftext|>")


class PaddedBatch(NamedTuple):
    """A batch padded to one length: unpack it as ``ids, attention_mask = batch``.

    Attributes:
        ids: ``(batch, seq)`` token ids, ``uint32`` (or ``int64`` when asked for); padded positions hold ``pad_id``.
        attention_mask: ``(batch, seq)``, ``uint8`` 1/0 (or ``bool``): 1 / True where ``ids`` holds a real token
            (text or an added special), 0 / False at padding. ``None`` with ``return_attention_mask=False``.
    """

    ids: npt.NDArray[Any]
    attention_mask: npt.NDArray[Any] | None

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        """Number of real tokens per row, ``(batch,)`` int64 (needs the attention mask)."""
        if self.attention_mask is None:
            raise ValueError("lengths need the attention mask (encode with return_attention_mask=True)")
        return np.count_nonzero(self.attention_mask, axis=-1).astype(np.int64)


def padding_name(padding: object) -> str:
    if padding is True:
        return "longest"
    if padding is False or padding is None:
        return "false"
    if padding in ("longest", "max_length"):
        return str(padding)
    raise BytepairError(f'padding must be "longest", "max_length", True or False, got {padding!r}')


def truncation_name(truncation: object) -> str | None:
    if truncation is True:
        return "right"
    if truncation is False or truncation is None:
        return None
    if truncation in ("right", "left"):
        return str(truncation)
    raise BytepairError(f'truncation must be "right", "left", True (= "right") or False, got {truncation!r}')


def side_name(side: object) -> str:
    if side in ("right", "left"):
        return str(side)
    raise BytepairError(f'padding_side must be "right" or "left", got {side!r}')


def max_length_value(max_length: object) -> int | None:
    if max_length is None:
        return None
    if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)):
        raise TypeError(f"max_length must be an int or None, got {type(max_length).__name__}")
    if max_length < 1:
        raise BytepairError(f"max_length must be at least 1, got {max_length}")
    return int(max_length)


def token_id(token: object, what: str, specials: Mapping[str, int], n_vocab: int | None = None) -> int | None:
    """An id given as an int or as the text of a special token; ``None`` stays ``None``. Range checks are the core's,
    except for ints that are no ``uint32``: their message names ``0..n_vocab - 1`` when the id must be a token
    (``n_vocab`` given), else ``0..2**32 - 1``."""
    if token is None:
        return None
    if isinstance(token, str):
        if token not in specials:
            known = ", ".join(repr(s) for s in specials) or "none"
            raise BytepairError(f"{what}: {token!r} is not a special token of this tokenizer (special tokens: {known})")
        return specials[token]
    if isinstance(token, bool) or not isinstance(token, (int, np.integer)):
        raise TypeError(f"{what} must be a token id (int), a special-token string or None, got {type(token).__name__}")
    if not 0 <= token < 2**32:
        bound = "2**32 - 1" if n_vocab is None else f"{n_vocab - 1} (n_vocab = {n_vocab})"
        raise BytepairError(f"{what}: invalid token id {token}: ids must be from 0 to {bound}")
    return int(token)


def add_special_ids(
    add_special: object, specials: Mapping[str, int], n_vocab: int
) -> tuple[int | None, int | None]:
    if add_special is None:
        return None, None
    if isinstance(add_special, (str, bytes)) or not isinstance(add_special, (tuple, list)) or len(add_special) != 2:
        raise TypeError(
            f"add_special must be a pair (bos, eos) of token ids or special-token strings (either may be None), "
            f"got {add_special!r}"
        )
    bos = token_id(add_special[0], "add_special bos", specials, n_vocab)
    return bos, token_id(add_special[1], "add_special eos", specials, n_vocab)


def default_pad_id(specials: Mapping[str, int]) -> int:
    for name in DEFAULT_PAD_TOKENS:
        if name in specials:
            return specials[name]
    raise BytepairError(
        f"padding needs a pad_id, and this tokenizer has none of the special tokens {list(DEFAULT_PAD_TOKENS)} to "
        "use by default; pass pad_id=<token id or special token> (padded positions are masked out by the attention "
        "mask, so any token id works), or padding=False"
    )


def ids_dtype_is_int64(dtype: object) -> bool:
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise TypeError(f"dtype must be uint32 or int64, got {dtype!r}") from exc
    if dt == np.uint32:
        return False
    if dt == np.int64:
        return True
    raise TypeError(f"dtype must be uint32 or int64, got {dt}")


def mask_dtype_is_bool(dtype: object) -> bool:
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise TypeError(f"mask_dtype must be uint8 or bool, got {dtype!r}") from exc
    if dt == np.uint8:
        return False
    if dt == np.bool_:
        return True
    raise TypeError(f"mask_dtype must be uint8 or bool, got {dt}")
