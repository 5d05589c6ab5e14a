"""Positional encodings in numpy: fixed sinusoids (Vaswani et al. 2017) and rotary embeddings (Su et al. 2021).

Angles are always computed in float64 (``position * frequency`` loses precision in float32 beyond a few thousand
positions) and rounded to the output dtype at the end.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["apply_rope", "rope_inverse_frequencies", "sinusoidal_positions"]

_LAYOUTS = ("interleaved", "half")


def _check_base(base: float) -> float:
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
        raise TypeError(f"base must be a number, got {type(base).__name__}")
    if not np.isfinite(base) or base <= 1:
        raise ValueError(f"base must be a finite number > 1, got {base}")
    return float(base)


def _check_size(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    return int(value)


def sinusoidal_positions(
    seq_len: int, d_model: int, *, base: float = 10000.0, dtype: Any = np.float32
) -> npt.NDArray[Any]:
    """The fixed sinusoidal position encodings of "Attention Is All You Need" (Vaswani et al. 2017, §3.5).

    ``PE[pos, 2i] = sin(pos / base**(2i / d_model))`` and ``PE[pos, 2i + 1] = cos(pos / base**(2i / d_model))``:
    sines in even columns, cosines in odd columns (interleaved, as in the paper). For an odd ``d_model`` the last
    column is the sine of the next frequency, so the formula holds for every column.

    Args:
        seq_len: Number of positions (rows), ``>= 0``; positions are ``0 .. seq_len - 1`` (in tokens).
        d_model: Encoding width (columns), ``>= 1``.
        base: The wavelength base (10000 in the paper); wavelengths run from ``2*pi`` to ``base * 2*pi`` tokens.
        dtype: Output dtype (float32 by default; computed in float64).

    Returns:
        Array of shape ``(seq_len, d_model)``, values in ``[-1, 1]``, to be added to the token embeddings.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is out of range or ``base <= 1``.
    """
    seq_len = _check_size(seq_len, "seq_len", 0)
    d_model = _check_size(d_model, "d_model", 1)
    base = _check_base(base)
    pair = np.arange(d_model) // 2  # i for columns 2i and 2i+1
    inv_freq = base ** (-(2.0 * pair) / d_model)
    angles = np.arange(seq_len, dtype=np.float64)[:, None] * inv_freq[None, :]
    pe = np.where(np.arange(d_model) % 2 == 0, np.sin(angles), np.cos(angles))
    return pe.astype(dtype)


def rope_inverse_frequencies(head_dim: int, base: float = 10000.0) -> npt.NDArray[np.float64]:
    """The RoPE rotation frequencies ``theta_i = base**(-2i / head_dim)``, ``i = 0 .. head_dim/2 - 1`` (radians per token).

    Args:
        head_dim: The (even) width of the vectors being rotated.
        base: The frequency base (10000 in Su et al. 2021; 500000 in Llama 3, 1000000 in Qwen2).

    Returns:
        float64 array of shape ``(head_dim // 2,)``.

    Raises:
        ValueError: If ``head_dim`` is not a positive even integer or ``base <= 1``.
    """
    head_dim = _check_size(head_dim, "head_dim", 2)
    if head_dim % 2:
        raise ValueError(f"rotary embeddings rotate pairs of dimensions: head_dim must be even, got {head_dim}")
    base = _check_base(base)
    return base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)


def apply_rope(
    x: Any,
    positions: Any = None,
    base: float = 10000.0,
    *,
    layout: str = "interleaved",
) -> npt.NDArray[Any]:
    """Rotary position embedding (RoPE, Su et al. 2021, "RoFormer", eq. 34): rotate pairs of dimensions of ``x``.

    Pair ``i`` of the vector at position ``p`` is rotated by the angle ``p * theta_i``, with
    ``theta_i = base**(-2i / d)`` and ``d = x.shape[-1]``::

        (a, b) -> (a cos(p theta_i) - b sin(p theta_i),  a sin(p theta_i) + b cos(p theta_i))

    i.e. the complex number ``a + ib`` is multiplied by ``exp(i p theta_i)``. Which dimensions form pair ``i``
    depends on ``layout``:

    * ``"interleaved"`` (default): ``(x[2i], x[2i+1])``, as in the paper, Meta's original Llama code and GPT-J.
    * ``"half"``: ``(x[i], x[i + d/2])``, the "rotate_half" layout of Hugging Face Llama, Mistral, Qwen2 and
      GPT-NeoX. Use it with weights from Hugging Face checkpoints of those models.

    Args:
        x: Queries or keys, shape ``(..., seq_len, d)`` with ``d`` even (e.g. ``(batch, heads, seq_len, head_dim)``).
            Not modified.
        positions: Position of each vector (in tokens, integers or floats), broadcastable against
            ``x.shape[:-1]``; e.g. shape ``(seq_len,)``. ``None`` means ``0 .. seq_len - 1`` with
            ``seq_len = x.shape[-2]``.
        base: The frequency base (10000 in the paper).
        layout: ``"interleaved"`` or ``"half"`` (see above).

    Returns:
        A new array with the shape of ``x`` (broadcast with ``positions``); the dtype of ``x`` if it is floating
        (computed in float32, or float64 for float64 input), else float64.

    Raises:
        ValueError: If ``d`` is odd, ``layout`` is unknown, ``positions`` is None for a 1-D ``x``, or the shapes do
            not broadcast.
        TypeError: If ``x`` or ``positions`` is not real numeric (booleans are rejected).
    """
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {_LAYOUTS}, got {layout!r}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf" and arr.dtype.name != "bfloat16":
        raise TypeError(f"x must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension (the vector being rotated)")
    d = arr.shape[-1]
    if d % 2:
        raise ValueError(f"rotary embeddings rotate pairs of dimensions: x.shape[-1] must be even, got shape {arr.shape}")
    if positions is None:
        if arr.ndim < 2:
            raise ValueError(f"positions is required when x is 1-D (shape {arr.shape}); x is (..., seq_len, d)")
        pos = np.arange(arr.shape[-2], dtype=np.float64)
    else:
        pos_arr = np.asarray(positions)
        if pos_arr.dtype.kind not in "iuf":
            raise TypeError(f"positions must be integers or floats, got dtype {pos_arr.dtype}")
        pos = pos_arr.astype(np.float64)
    out_dtype = arr.dtype if arr.dtype.kind == "f" or arr.dtype.name == "bfloat16" else np.dtype(np.float64)
    ct = np.float64 if out_dtype == np.float64 else np.float32
    if d == 0:
        return np.array(arr, dtype=out_dtype, copy=True)

    angles = pos[..., None] * rope_inverse_frequencies(d, base)  # P + (d/2,)
    cos: npt.NDArray[Any] = np.cos(angles).astype(ct)
    sin: npt.NDArray[Any] = np.sin(angles).astype(ct)
    xc: npt.NDArray[Any] = arr.astype(ct)  # always a new array: the caller's x is never written
    if layout == "interleaved":
        a, b = xc[..., 0::2], xc[..., 1::2]
    else:
        a, b = xc[..., : d // 2], xc[..., d // 2 :]
    try:
        ra = a * cos - b * sin
        rb = a * sin + b * cos
    except ValueError as exc:
        raise ValueError(
            f"positions of shape {np.shape(pos)} do not broadcast against x.shape[:-1] = {arr.shape[:-1]}"
        ) from exc
    out = np.empty(ra.shape[:-1] + (d,), dtype=ct)
    if layout == "interleaved":
        out[..., 0::2] = ra
        out[..., 1::2] = rb
    else:
        out[..., : d // 2] = ra
        out[..., d // 2 :] = rb
    return out.astype(out_dtype, copy=False)
