"""Embeddings of padded batches (issue 12): ``padding_idx``, masked lookups and ``Embedding.pool``."""

from __future__ import annotations

import bytepair as bp
import numpy as np
import pytest

TEXTS = ["", "a short text", "a somewhat longer text, with a comma and a few more words in it", "one"]


def test_padding_row_is_zero_and_stays_zero():
    emb = bp.Embedding(50, 8, seed=0, padding_idx=3)
    assert emb.padding_idx == 3 and "padding_idx=3" in repr(emb)
    assert not emb.weight[3].any() and emb.weight[4].any()
    out = emb([[3, 4], [3, 3]])
    assert not out[0, 0].any() and not out[1].any() and out[0, 1].any()
    # even if someone writes into the table, lookups of the padding id stay zero
    emb.weight[3] = 1.0
    assert not emb(3).any() and not emb(np.array([3, 3], dtype=np.uint32)).any()
    assert not emb.lookup_batch(np.array([3, 1, 3]), np.array([0, 2, 3]))[1].any()


def test_padding_idx_in_other_constructors(tmp_path):
    table = np.ones((10, 4), dtype=np.float32)
    shared = bp.Embedding.from_array(table, padding_idx=9, copy=False)
    assert table[9].all()  # the caller's array is not written
    assert not shared(9).any() and shared(8).all()
    owned = bp.Embedding.from_array(table, padding_idx=9)
    assert not owned.weight[9].any() and table[9].all()
    tok_emb = bp.Embedding.for_tokenizer(type("T", (), {"n_vocab": 100})(), 4, pad_to_multiple_of=64,
                                         padding_idx=100, seed=1)
    assert tok_emb.num_embeddings == 128 and not tok_emb.weight[100].any()
    path = tmp_path / "e.safetensors"
    bp.Embedding.from_array(table).save_safetensors(path)
    mapped = bp.Embedding.from_safetensors(path, "weight", padding_idx=0)
    assert mapped.weight[0].all() and not mapped(0).any()


def test_bad_padding_idx():
    with pytest.raises(ValueError, match=r"padding_idx 10 is out of range for a table of 10 rows"):
        bp.Embedding(10, 4, padding_idx=10)
    with pytest.raises(ValueError, match=r"padding_idx -1 is out of range"):
        bp.Embedding(10, 4, padding_idx=-1)
    with pytest.raises(TypeError, match=r"padding_idx must be an int"):
        bp.Embedding(10, 4, padding_idx=1.0)  # type: ignore[arg-type]


def test_lookup_with_attention_mask_zeroes_masked_positions(cl100k_tok):
    emb = bp.Embedding.for_tokenizer(cl100k_tok, 16, seed=0)
    ids, mask = cl100k_tok.encode_batch_to_numpy(TEXTS, padding_side="left")
    assert mask is not None
    vectors = emb(ids, mask)
    assert vectors.shape == ids.shape + (16,)
    np.testing.assert_array_equal(vectors[mask == 0], 0)
    np.testing.assert_array_equal(vectors[mask == 1], emb(ids[mask == 1]))
    np.testing.assert_array_equal(emb(ids, mask.astype(bool)), vectors)
    assert mask.dtype == np.uint8 and ids.dtype == np.uint32  # inputs untouched


def test_bad_lookup_masks():
    emb = bp.Embedding(10, 4, seed=0)
    with pytest.raises(ValueError, match=r"attention_mask has shape \(3,\) but ids has shape \(2,\)"):
        emb([1, 2], [1, 1, 0])
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        emb([1, 2], [1, 5])
    with pytest.raises(TypeError, match="must be bool or integer"):
        emb([1, 2], [1.0, 0.0])


def pool_one(vectors: np.ndarray, how: str) -> np.ndarray:
    """Pooling of one unpadded sequence ``(n, dim)``, the plain way."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    x = vectors.astype(np.float32)
    return {"mean": lambda: x.mean(axis=0), "max": lambda: x.max(axis=0), "last": lambda: x[-1]}[how]()


@pytest.mark.parametrize("how", ["mean", "max", "last"])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_pool_equals_pooling_each_sequence_alone(cl100k_tok, how, side, dtype):
    emb = bp.Embedding.for_tokenizer(cl100k_tok, 32, seed=1, dtype=dtype)
    texts = [*TEXTS, "x " * 70]
    batch = cl100k_tok.encode_batch_to_numpy(texts, padding_side=side, max_length=40, truncation="right",
                                             add_special=(None, "<|endoftext|>"))
    assert batch.attention_mask is not None
    pooled = emb.pool(emb(batch.ids, batch.attention_mask), batch.attention_mask, how=how)
    assert pooled.shape == (len(texts), 32) and pooled.dtype == np.float32
    for i, text in enumerate(texts):
        alone = np.array(cl100k_tok.encode(text)[:39] + [cl100k_tok.special_tokens["<|endoftext|>"]])
        np.testing.assert_allclose(pooled[i], pool_one(emb(alone), how), rtol=1e-6, atol=1e-7)


def test_pool_ignores_whatever_padding_holds():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 5, 4))
    mask = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], dtype=np.uint8)
    dirty = vectors.copy()
    dirty[mask == 0] = np.nan
    for how in ("mean", "max", "last"):
        out = bp.Embedding(5, 4).pool(dirty, mask, how=how)
        assert out.dtype == np.float64 and np.isfinite(out).all()
        assert not out[2].any()  # no real position: a zero vector
    last = bp.Embedding(5, 4).pool(vectors, mask, how="last")
    np.testing.assert_array_equal(last[:2], [vectors[0, 1], vectors[1, 4]])
    mean = bp.Embedding(5, 4).pool(vectors, mask)
    np.testing.assert_allclose(mean[1], vectors[1, 3:].mean(axis=0))
    np.testing.assert_allclose(bp.Embedding(5, 4).pool(vectors), vectors.mean(axis=1))  # no mask: all real
    assert bp.Embedding(5, 4).pool(np.zeros((2, 0, 4)), np.zeros((2, 0), dtype=bool), how="last").shape == (2, 4)


def test_bad_pool_arguments():
    emb = bp.Embedding(5, 4)
    v = np.zeros((2, 3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r'how must be "mean", "max" or "last", got \'sum\''):
        emb.pool(v, np.ones((2, 3)), how="sum")
    with pytest.raises(ValueError, match=r"attention_mask has shape \(2, 4\) but vectors.shape\[:-1\] has shape"):
        emb.pool(v, np.ones((2, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"vectors must have shape \(\.\.\., seq, dim\)"):
        emb.pool(np.zeros(4), None)
    with pytest.raises(TypeError, match="vectors must be a float array"):
        emb.pool(np.zeros((2, 3, 4), dtype=np.int64), None)
