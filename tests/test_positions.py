"""Tests for ``bp.sinusoidal_positions`` and ``bp.apply_rope`` against closed forms written out independently here.

* Sinusoids (Vaswani et al. 2017, §3.5): ``PE(pos, 2i) = sin(pos / 10000^(2i/d))``, ``PE(pos, 2i+1) = cos(...)``,
  evaluated with ``math`` in plain loops.
* RoPE (Su et al. 2021): each pair of dimensions, read as a complex number, is multiplied by ``exp(1j * pos * theta_i)``
  with ``theta_i = base^(-2i/d)``; pairs are ``(x[2i], x[2i+1])`` ("interleaved", the paper) or ``(x[i], x[i+d/2])``
  ("half", Hugging Face Llama). The half layout is also checked against Hugging Face's ``rotate_half`` formula.
"""

from __future__ import annotations

import cmath
import math

import bytepair as bp
import ml_dtypes
import numpy as np
import pytest
from bytepair.positions import apply_rope, rope_inverse_frequencies, sinusoidal_positions
from hypothesis import given
from hypothesis import strategies as st

# -- sinusoidal -----------------------------------------------------------------------------------------------------


def sinusoid_loops(seq_len: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    pe = np.zeros((seq_len, d_model))
    for pos in range(seq_len):
        for col in range(d_model):
            i = col // 2
            angle = pos / base ** (2 * i / d_model)
            pe[pos, col] = math.sin(angle) if col % 2 == 0 else math.cos(angle)
    return pe


@pytest.mark.parametrize("seq_len, d_model", [(1, 2), (10, 4), (50, 16), (128, 64), (7, 5), (3, 1), (0, 8)])
def test_sinusoidal_matches_closed_form(seq_len, d_model):
    pe = sinusoidal_positions(seq_len, d_model)
    assert pe.shape == (seq_len, d_model) and pe.dtype == np.float32
    np.testing.assert_allclose(pe, sinusoid_loops(seq_len, d_model), rtol=0, atol=1e-6)


def test_sinusoidal_dtype_base_and_known_values():
    pe = sinusoidal_positions(2048, 512, dtype=np.float64)
    assert pe.dtype == np.float64
    np.testing.assert_allclose(pe[[0, 1, 777, 2047]], sinusoid_loops(2048, 512)[[0, 1, 777, 2047]], rtol=0, atol=1e-12)
    # position 0 is (0, 1, 0, 1, ...); column 0 is sin(pos), column 1 cos(pos)
    np.testing.assert_array_equal(pe[0], np.tile([0.0, 1.0], 256))
    np.testing.assert_allclose(pe[:, 0], np.sin(np.arange(2048)), atol=1e-12)
    np.testing.assert_allclose(pe[:, 1], np.cos(np.arange(2048)), atol=1e-12)
    assert np.all(np.abs(pe) <= 1.0)
    np.testing.assert_allclose(sinusoidal_positions(20, 8, base=100.0), sinusoid_loops(20, 8, base=100.0), atol=1e-6)
    assert sinusoidal_positions(4, 8, dtype=np.float16).dtype == np.float16


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((-1, 4), {}, ValueError, "seq_len must be >= 0, got -1"),
        ((4, 0), {}, ValueError, "d_model must be >= 1, got 0"),
        ((4.0, 4), {}, TypeError, "seq_len must be an integer, got float"),
        ((4, True), {}, TypeError, "d_model must be an integer, got bool"),
        ((4, 4), {"base": 1.0}, ValueError, "base must be a finite number > 1, got 1.0"),
        ((4, 4), {"base": "10000"}, TypeError, "base must be a number, got str"),
    ],
)
def test_sinusoidal_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sinusoidal_positions(*args, **kwargs)


# -- RoPE -----------------------------------------------------------------------------------------------------------


def rope_complex(x: np.ndarray, positions: np.ndarray, base: float = 10000.0, layout: str = "interleaved") -> np.ndarray:
    """Closed form with complex multiplication, one vector at a time. ``x``: (seq, d); ``positions``: (seq,)."""
    seq, d = x.shape
    out = np.zeros((seq, d))
    for s in range(seq):
        for i in range(d // 2):
            theta = base ** (-2 * i / d)
            a, b = (2 * i, 2 * i + 1) if layout == "interleaved" else (i, i + d // 2)
            z = complex(float(x[s, a]), float(x[s, b])) * cmath.exp(1j * float(positions[s]) * theta)
            out[s, a], out[s, b] = z.real, z.imag
    return out


def rope_hf_rotate_half(x: np.ndarray, positions: np.ndarray, base: float = 10000.0) -> np.ndarray:
    """Hugging Face Llama's formula: ``x * cos + rotate_half(x) * sin`` with frequencies repeated twice."""
    d = x.shape[-1]
    inv_freq = 1.0 / (base ** (np.arange(0, d, 2, dtype=np.float64) / d))
    freqs = np.outer(positions, inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    rotated = np.concatenate([-x2, x1], axis=-1)
    return x * np.cos(emb) + rotated * np.sin(emb)


@pytest.mark.parametrize("layout", ["interleaved", "half"])
@pytest.mark.parametrize("seq, d", [(1, 2), (5, 4), (16, 8), (33, 64)])
def test_rope_matches_complex_multiplication(layout, seq, d):
    rng = np.random.default_rng(seq * d)
    x = rng.normal(size=(seq, d))
    positions = rng.integers(0, 4096, size=seq)
    out = apply_rope(x, positions, layout=layout)
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, rope_complex(x, positions, layout=layout), rtol=0, atol=1e-10)


def test_rope_half_layout_matches_hugging_face_rotate_half():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 12, 32))  # (batch, heads, seq, head_dim)
    out = apply_rope(x, layout="half", base=500000.0)
    np.testing.assert_allclose(out, rope_hf_rotate_half(x, np.arange(12), base=500000.0), atol=1e-10)


def test_rope_default_positions_and_batch_broadcasting():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2, 10, 16)).astype(np.float32)  # (batch, heads, seq, head_dim)
    out = apply_rope(x)
    assert out.shape == x.shape and out.dtype == np.float32
    for b in range(3):
        for h in range(2):
            np.testing.assert_allclose(out[b, h], rope_complex(x[b, h], np.arange(10)), atol=2e-6)
    # per-batch positions, e.g. left-padded sequences: shape (batch, 1, seq) broadcasts over heads
    pos = np.stack([np.arange(10), np.arange(10) + 5, np.arange(10) * 3])[:, None, :]
    out = apply_rope(x, pos)
    for b in range(3):
        np.testing.assert_allclose(out[b, 1], rope_complex(x[b, 1], pos[b, 0]), atol=2e-5)
    # (batch, seq, heads, d) layout: positions (seq, 1)
    xt = np.ascontiguousarray(x.transpose(0, 2, 1, 3))
    np.testing.assert_allclose(apply_rope(xt, np.arange(10)[:, None]), apply_rope(x).transpose(0, 2, 1, 3), atol=1e-6)


def test_rope_float_positions_and_base():
    x = np.random.default_rng(2).normal(size=(4, 8))
    pos = np.array([0.5, 1.25, 100.0, 1e5])
    np.testing.assert_allclose(apply_rope(x, pos, base=10.0), rope_complex(x, pos, base=10.0), atol=1e-9)
    # a single vector needs explicit positions
    np.testing.assert_allclose(apply_rope(x[1], 3), rope_complex(x[1:2], np.array([3]))[0], atol=1e-12)


def test_rope_properties():
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=(2, 64))
    # position 0 is the identity; norms are preserved
    np.testing.assert_allclose(apply_rope(q, 0), q, atol=0)
    np.testing.assert_allclose(np.linalg.norm(apply_rope(q, 1234)), np.linalg.norm(q), rtol=1e-12)
    # <rope(q, m), rope(k, n)> depends only on m - n (the point of RoPE)
    for layout in ("interleaved", "half"):
        scores = [float(apply_rope(q, m, layout=layout) @ apply_rope(k, m - 7, layout=layout)) for m in (7, 50, 4000)]
        np.testing.assert_allclose(scores, scores[0], rtol=1e-9)


def test_rope_layouts_are_permutations_of_each_other():
    x = np.random.default_rng(4).normal(size=(6, 16))
    perm = np.concatenate([np.arange(0, 16, 2), np.arange(1, 16, 2)])  # interleaved -> half order
    inter = apply_rope(x, layout="interleaved")
    half = apply_rope(x[:, perm], layout="half")
    np.testing.assert_allclose(half, inter[:, perm], atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.dtype(ml_dtypes.bfloat16), np.int64])
def test_rope_dtypes(dtype):
    x = (np.arange(2 * 3 * 8).reshape(2, 3, 8) % 5 - 2).astype(dtype)
    out = apply_rope(x)
    expected_dtype = np.float64 if dtype == np.int64 else np.dtype(dtype)
    assert out.dtype == expected_dtype
    ref = np.stack([rope_complex(x[b].astype(np.float64), np.arange(3)) for b in range(2)])
    tol = {np.float16: 1e-2, np.float32: 1e-5}.get(dtype, 2e-2 if dtype != np.int64 else 1e-12)
    np.testing.assert_allclose(out.astype(np.float64), ref, atol=tol)


def test_rope_does_not_modify_inputs():
    x = np.random.default_rng(5).normal(size=(2, 5, 8)).astype(np.float32)
    pos = np.arange(5)
    x.flags.writeable = False
    pos.flags.writeable = False
    x_before, pos_before = x.copy(), pos.copy()
    out = apply_rope(x, pos)
    assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(pos, pos_before)
    lst = [[1.0, 2.0], [3.0, 4.0]]
    apply_rope(lst)
    assert lst == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    "x, positions, kwargs, exc, match",
    [
        (np.zeros((4, 5)), None, {}, ValueError, r"x.shape\[-1\] must be even, got shape \(4, 5\)"),
        (np.zeros((4, 6)), None, {"layout": "rotate_half"}, ValueError, "layout must be one of"),
        (np.zeros(6), None, {}, ValueError, r"positions is required when x is 1-D \(shape \(6,\)\)"),
        (np.zeros((4, 6)), np.arange(3), {}, ValueError,
         r"positions of shape \(3,\) do not broadcast against x.shape\[:-1\] = \(4,\)"),
        (np.zeros((4, 6)), np.ones(4, bool), {}, TypeError, "positions must be integers or floats, got dtype bool"),
        (np.zeros((4, 6), complex), None, {}, TypeError, "x must be a real numeric array, got dtype complex128"),
        (np.zeros((4, 6), bool), None, {}, TypeError, "x must be a real numeric array, got dtype bool"),
        (np.float32(1.0), None, {}, ValueError, "x must have at least one dimension"),
        (np.zeros((4, 6)), None, {"base": 0.5}, ValueError, "base must be a finite number > 1, got 0.5"),
    ],
)
def test_rope_errors(x, positions, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        apply_rope(x, positions, **kwargs)


def test_rope_inverse_frequencies():
    np.testing.assert_allclose(rope_inverse_frequencies(8), [1.0, 0.1, 0.01, 0.001])
    with pytest.raises(ValueError, match="head_dim must be even, got 7"):
        rope_inverse_frequencies(7)


@given(
    seq=st.integers(1, 6),
    half_d=st.integers(1, 6),
    layout=st.sampled_from(["interleaved", "half"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_rope_property_matches_closed_form(seq, half_d, layout, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(seq, 2 * half_d))
    pos = rng.integers(-100, 100_000, size=seq)
    np.testing.assert_allclose(apply_rope(x, pos, layout=layout), rope_complex(x, pos, layout=layout), atol=1e-9)


def test_exported_from_bytepair():
    assert bp.apply_rope is apply_rope and bp.sinusoidal_positions is sinusoidal_positions
