"""Attention masks for padded batches, in numpy: the causal mask of a decoder and its combination with padding.

Convention everywhere: **True = may attend**. Entry ``[q, k]`` says whether the token at query position ``q`` may
look at the token at key position ``k``. This is the convention of ``torch.nn.functional.scaled_dot_product_attention``
(``attn_mask`` of dtype bool); to get an additive float mask, use ``np.where(mask, 0.0, -np.inf)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["causal_mask", "combine_masks"]


def causal_mask(seq_len: int) -> npt.NDArray[np.bool_]:
    """The causal (autoregressive) mask: each position may attend to itself and to earlier positions only.

    Args:
        seq_len: number of positions (an int >= 0).

    Returns:
        ``(seq_len, seq_len)`` bool array, lower triangular: ``mask[q, k] == (k <= q)``.

    Raises:
        TypeError: ``seq_len`` is not an int. ValueError: ``seq_len`` is negative.
    """
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)):
        raise TypeError(f"seq_len must be an int, got {type(seq_len).__name__}")
    if seq_len < 0:
        raise ValueError(f"seq_len must be >= 0, got {seq_len}")
    return np.tri(int(seq_len), dtype=np.bool_)


def _bool_mask(attention_mask: Any, what: str = "attention_mask") -> npt.NDArray[np.bool_]:
    """A ``(batch, seq)`` 0/1 or bool mask as bool (the caller's array is not modified)."""
    m = np.asarray(attention_mask)
    if m.ndim != 2:
        raise ValueError(f"{what} must be 2-D (batch, seq), got shape {m.shape}")
    if m.dtype == np.bool_:
        return m
    if m.dtype.kind not in "iu":
        raise TypeError(f"{what} must be bool or integer 0/1, got dtype {m.dtype}")
    if m.size and not bool(np.all((m == 0) | (m == 1))):
        raise ValueError(f"{what} must hold only 0 and 1 (1 = real token), got values {np.unique(m)[:10].tolist()}")
    return m.astype(np.bool_)


def combine_masks(attention_mask: Any, *, causal: bool = True) -> npt.NDArray[np.bool_]:
    """The mask a decoder's attention uses on a padded batch: causal AND key padding.

    ``out[b, 0, q, k]`` is True when query position ``q`` of row ``b`` may attend to key position ``k``: ``k <= q``
    (if ``causal``) and ``k`` is a real token (``attention_mask[b, k]`` is 1). The singleton axis broadcasts over
    attention heads, giving the ``(batch, heads, seq, seq)`` layout of PyTorch's ``scaled_dot_product_attention``.

    Rows of padding *queries* are not masked: their outputs are discarded anyway (and masked out of any pooling or
    loss). With left padding such a row has no True entry at all (a pad query only sees earlier pads); softmax over
    it gives NaN in many implementations, so either ignore those rows or use ``np.where`` to give them one allowed
    key.

    Args:
        attention_mask: ``(batch, seq)`` bool or integer 0/1 array, 1 = real token (as returned by
            ``Tokenizer.encode_batch_to_numpy(..., padding=...)``). Not modified.
        causal: also apply the causal mask (default). ``False`` gives the key-padding mask alone, broadcast to
            ``(batch, 1, seq, seq)``, as a bidirectional encoder uses.

    Returns:
        ``(batch, 1, seq, seq)`` bool array, a new array.

    Raises:
        ValueError: the mask is not 2-D, or holds values other than 0 and 1.
        TypeError: the mask is not bool or integer.
    """
    keys = _bool_mask(attention_mask)
    batch, seq = keys.shape
    out = np.broadcast_to(keys[:, None, None, :], (batch, 1, seq, seq)).copy()
    if causal:
        out &= causal_mask(seq)
    return out
