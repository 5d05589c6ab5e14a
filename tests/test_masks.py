"""``bp.causal_mask`` and ``bp.combine_masks`` (issue 12): True = may attend, causal AND key padding."""

from __future__ import annotations

import bytepair as bp
import numpy as np
import pytest


def test_causal_mask_small():
    assert bp.causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert bp.causal_mask(0).shape == (0, 0)
    assert bp.causal_mask(np.int64(2)).dtype == np.bool_


def loop_mask(attention_mask, causal=True):
    batch, seq = attention_mask.shape
    out = np.zeros((batch, 1, seq, seq), dtype=bool)
    for b in range(batch):
        for q in range(seq):
            for k in range(seq):
                out[b, 0, q, k] = bool(attention_mask[b, k]) and (k <= q or not causal)
    return out


@pytest.mark.parametrize("causal", [True, False])
def test_combine_equals_explicit_loop(causal):
    rng = np.random.default_rng(0)
    for _ in range(30):
        batch, seq = int(rng.integers(0, 5)), int(rng.integers(0, 9))
        lengths = rng.integers(0, seq + 1, size=batch)
        left = bool(rng.integers(0, 2))
        mask = np.zeros((batch, seq), dtype=np.uint8)
        for b, n in enumerate(lengths):
            if left:
                mask[b, seq - n :] = 1
            else:
                mask[b, :n] = 1
        got = bp.combine_masks(mask, causal=causal)
        assert got.shape == (batch, 1, seq, seq) and got.dtype == np.bool_
        np.testing.assert_array_equal(got, loop_mask(mask, causal))
        np.testing.assert_array_equal(bp.combine_masks(mask.astype(bool), causal=causal), got)
    # arbitrary (non-contiguous) masks too
    mask = rng.integers(0, 2, size=(3, 7))
    np.testing.assert_array_equal(bp.combine_masks(mask, causal=causal), loop_mask(mask, causal))


def test_combine_with_a_tokenizer_batch(cl100k_tok):
    batch = cl100k_tok.encode_batch_to_numpy(["one", "one two three"], padding_side="left")
    assert batch.attention_mask is not None
    m = bp.combine_masks(batch.attention_mask)
    assert m.shape == (2, 1, 3, 3)
    # the real query of row 0 (last column) sees only itself; the pad keys are hidden
    assert m[0, 0, 2].tolist() == [False, False, True]
    assert m[1, 0].tolist() == bp.causal_mask(3).tolist()


def test_combine_does_not_modify_its_input():
    mask = np.array([[1, 1, 0]], dtype=np.uint8)
    out = bp.combine_masks(mask)
    out[...] = False
    assert mask.tolist() == [[1, 1, 0]]


def test_bad_masks():
    with pytest.raises(TypeError, match="seq_len must be an int"):
        bp.causal_mask(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seq_len must be >= 0"):
        bp.causal_mask(-1)
    with pytest.raises(ValueError, match=r"must be 2-D \(batch, seq\), got shape \(3,\)"):
        bp.combine_masks(np.ones(3))
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        bp.combine_masks(np.array([[0, 2]]))
    with pytest.raises(TypeError, match="must be bool or integer"):
        bp.combine_masks(np.ones((2, 2), dtype=np.float32))
