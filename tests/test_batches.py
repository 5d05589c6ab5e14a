"""Model-ready batches (issue 12): padding, truncation, added specials and attention masks from
``Tokenizer.encode_batch_to_numpy(..., padding=...)``, checked against a plain Python reference."""

from __future__ import annotations

import itertools
import random

import bytepair as bp
import numpy as np
import pytest

EOT = "<|endoftext|>"
WORDS = ["the", "cat", "sat", "on", "a", "mat", "éléphant", "数据", "42", "!", "\n", "  ", "naïve", "🙂"]


def random_texts(rng: random.Random, n: int, max_words: int = 40) -> list[str]:
    """Texts of random lengths: some empty, some long."""
    out = []
    for _ in range(n):
        k = rng.choice([0, 0, 1, 2, rng.randrange(max_words), rng.randrange(max_words * 3)])
        out.append(" ".join(rng.choice(WORDS) for _ in range(k)))
    return out


def reference(seqs, *, max_length=None, padding="longest", truncation=False, padding_side="right", pad_id=0,
              bos=None, eos=None):
    """The obvious version: add specials, cut, pad, one row at a time with lists."""
    added = (bos is not None) + (eos is not None)
    rows = []
    for s in seqs:
        body = list(s)
        if truncation and max_length is not None and len(body) + added > max_length:
            room = max_length - added
            body = body[:room] if truncation == "right" else body[len(body) - room:]
        rows.append(([bos] if bos is not None else []) + body + ([eos] if eos is not None else []))
    width = max_length if padding == "max_length" else max((len(r) for r in rows), default=0)
    ids, mask = [], []
    for r in rows:
        n_pad = width - len(r)
        if padding_side == "right":
            ids.append(r + [pad_id] * n_pad)
            mask.append([1] * len(r) + [0] * n_pad)
        else:
            ids.append([pad_id] * n_pad + r)
            mask.append([0] * n_pad + [1] * len(r))
    return np.array(ids, dtype=np.int64).reshape(len(rows), width), np.array(mask, dtype=np.uint8).reshape(
        len(rows), width
    )


@pytest.mark.parametrize(
    ("padding_side", "truncation", "padding", "specials"),
    list(itertools.product(["right", "left"], [False, "right", "left"], ["longest", "max_length"],
                           [(None, None), ("<|endoftext|>", None), (100258, EOT)])),
)
def test_padding_matches_reference(cl100k_tok, padding_side, truncation, padding, specials):
    rng = random.Random(f"{padding_side}{truncation}{padding}{specials}")
    tok = cl100k_tok
    specials_ids = tuple(None if s is None else (tok.special_tokens[s] if isinstance(s, str) else s)
                         for s in specials)
    for trial in range(12):
        texts = random_texts(rng, rng.randrange(0, 9))
        seqs = tok.encode_batch(texts)
        added = sum(s is not None for s in specials)
        longest = max((len(s) for s in seqs), default=0) + added
        if truncation:
            max_length = rng.randrange(max(added, 1), max(added, 1) + 40)  # often shorter than the texts
        elif padding == "max_length":
            max_length = longest + rng.randrange(0, 4) if longest else rng.randrange(1, 4)
        else:
            max_length = None if trial % 2 else longest + 5
        max_length = max(max_length, 1) if max_length is not None else None
        pad_id = rng.choice([0, 100257, 77])
        kwargs = {"max_length": max_length, "padding": padding, "truncation": truncation,
                  "padding_side": padding_side, "pad_id": pad_id}
        if padding == "max_length" and max_length is None:
            continue
        batch = tok.encode_batch_to_numpy(texts, add_special=specials, **kwargs)
        want_ids, want_mask = reference(seqs, bos=specials_ids[0], eos=specials_ids[1], **kwargs)
        assert isinstance(batch, bp.PaddedBatch)
        ids, mask = batch
        assert ids.dtype == np.uint32 and mask is not None and mask.dtype == np.uint8
        assert ids.shape == mask.shape == want_ids.shape
        np.testing.assert_array_equal(ids.astype(np.int64), want_ids)
        np.testing.assert_array_equal(mask, want_mask)
        np.testing.assert_array_equal(batch.lengths, want_mask.sum(axis=1))


def test_texts_longer_than_max_length_are_cut_and_keep_specials(cl100k_tok):
    tok = cl100k_tok
    long_text = "word " * 500
    texts = ["", "short", long_text]
    bos, eos = 100258, tok.special_tokens[EOT]
    for side in ("right", "left"):
        ids, mask = tok.encode_batch_to_numpy(texts, max_length=16, padding="max_length", truncation=side,
                                              add_special=(bos, EOT), pad_id=0)
        assert ids.shape == (3, 16)
        assert ids[2, 0] == bos and ids[2, -1] == eos and mask[2].all()
        full = tok.encode(long_text)
        body = full[:14] if side == "right" else full[-14:]
        assert ids[2, 1:-1].tolist() == body
        assert ids[0, :2].tolist() == [bos, eos] and mask[0].tolist() == [1, 1] + [0] * 14


def test_truncation_never_splits_a_special_token(cl100k_tok):
    tok = cl100k_tok
    text = "hello there" + EOT + "more text"
    full = tok.encode(text, allowed_special="all")
    at = full.index(tok.special_tokens[EOT])
    for n in range(1, len(full) + 1):
        (ids, _) = tok.encode_batch_to_numpy([text], max_length=n, truncation="right", pad_id=0,
                                             allowed_special="all")
        assert ids[0].tolist() == full[:n]
        assert (tok.special_tokens[EOT] in ids[0].tolist()) == (n > at)


def test_no_padding_truncation_and_empty_batches(cl100k_tok):
    tok = cl100k_tok
    ids, mask = tok.encode_batch_to_numpy(["a b c d e f g", "one two three four five"], max_length=3,
                                          truncation="left", padding=False)
    assert ids.shape == (2, 3) and mask is not None and mask.all()
    ids, mask = tok.encode_batch_to_numpy([], padding="longest", pad_id=0)
    assert ids.shape == (0, 0) and mask is not None and mask.shape == (0, 0)
    ids, mask = tok.encode_batch_to_numpy([], padding="max_length", max_length=7, pad_id=0)
    assert ids.shape == (0, 7)
    ids, mask = tok.encode_batch_to_numpy(["", ""], padding="longest", pad_id=0)
    assert ids.shape == (2, 0)
    ids, mask = tok.encode_batch_to_numpy(["", ""], padding="longest", pad_id=0, add_special=(None, EOT))
    assert ids.tolist() == [[tok.special_tokens[EOT]]] * 2


def test_dtypes_mask_option_and_default_pad(cl100k_tok):
    tok = cl100k_tok
    texts = ["a b c", "a"]
    ids, mask = tok.encode_batch_to_numpy(texts, padding=True, dtype=np.int64, mask_dtype=bool)
    assert ids.dtype == np.int64 and mask is not None and mask.dtype == np.bool_
    assert ids.flags.c_contiguous and ids.flags.writeable
    # default pad: <|endoftext|>
    assert ids[1, 1] == tok.special_tokens[EOT] and not mask[1, 1]
    ids2, none = tok.encode_batch_to_numpy(texts, padding="longest", return_attention_mask=False)
    assert none is None and ids2.dtype == np.uint32
    np.testing.assert_array_equal(ids2, ids)
    # a special-token string as pad_id, any id with allow_any_pad_id
    ids3, _ = tok.encode_batch_to_numpy(texts, pad_id="<|fim_prefix|>")
    assert ids3[1, 1] == 100258
    ids4, _ = tok.encode_batch_to_numpy(texts, pad_id=tok.n_vocab + 10, allow_any_pad_id=True)
    assert ids4[1, 1] == tok.n_vocab + 10
    # the flat form is unchanged when no padding argument is given
    flat, offsets = tok.encode_batch_to_numpy(texts)
    assert flat.ndim == 1 and offsets.tolist() == [0, 3, 4]


def test_threads_give_the_same_batch(cl100k_tok, corpus_docs):
    docs = list(corpus_docs.values())[:20]
    a = cl100k_tok.encode_batch_to_numpy(docs, max_length=300, truncation="left", padding_side="left",
                                         num_threads=1)
    b = cl100k_tok.encode_batch_to_numpy(docs, max_length=300, truncation="left", padding_side="left",
                                         num_threads=2)
    np.testing.assert_array_equal(a.ids, b.ids)
    assert a.attention_mask is not None and b.attention_mask is not None
    np.testing.assert_array_equal(a.attention_mask, b.attention_mask)


# ---------------------------------------------------------------------------------------------------- bad input
def test_max_length_shorter_than_added_specials(cl100k_tok):
    with pytest.raises(bp.BytepairError, match=r"max_length = 1 leaves no room for the 2 special tokens.*at least 2"):
        cl100k_tok.encode_batch_to_numpy(["hi"], max_length=1, truncation="right", add_special=(EOT, EOT))


@pytest.mark.parametrize("pad_id", [-1, 100261, 200_000, 2**32 - 1])
def test_pad_id_out_of_range(cl100k_tok, pad_id):
    with pytest.raises(bp.BytepairError, match=rf"pad_id: invalid token id {pad_id}"):
        cl100k_tok.encode_batch_to_numpy(["a", "a b"], pad_id=pad_id)


@pytest.mark.parametrize("what", ["pad_id", "bos", "eos"])
def test_id_beyond_uint32_names_the_vocabulary_bound(cl100k_tok, what):
    """An id that must be a token names 0..n_vocab - 1 whether or not it fits a uint32 (the bound the core gives
    for 200_000), not 0..2**32 - 1."""
    last = cl100k_tok.n_vocab - 1
    bound = rf"ids must be from 0 to {last} \(n_vocab = {last + 1}\)"

    def call(i: int) -> None:
        if what == "pad_id":
            cl100k_tok.encode_batch_to_numpy(["a", "a b"], pad_id=i)
        else:
            cl100k_tok.encode_batch_to_numpy(["a"], add_special=(i, None) if what == "bos" else (None, i))

    for i in (200_000, -1, 2**32, 2**70):
        with pytest.raises(bp.BytepairError, match=rf"invalid token id {i}: {bound}"):
            call(i)


def test_pad_id_not_a_token_names_the_opt_in(cl100k_tok):
    with pytest.raises(bp.BytepairError, match=r"no token has this id.*allow_any_pad_id=True"):
        cl100k_tok.encode_batch_to_numpy(["a", "a b"], pad_id=100256)  # unassigned id below n_vocab
    with pytest.raises(bp.BytepairError, match=r"ids must be from 0 to 2\*\*32 - 1"):
        cl100k_tok.encode_batch_to_numpy(["a"], pad_id=2**32, allow_any_pad_id=True)


def test_max_length_padding_needs_max_length(cl100k_tok):
    with pytest.raises(bp.BytepairError, match=r'padding="max_length" needs max_length'):
        cl100k_tok.encode_batch_to_numpy(["a"], padding="max_length")
    with pytest.raises(bp.BytepairError, match=r"truncation needs max_length"):
        cl100k_tok.encode_batch_to_numpy(["a"], truncation="left")


def test_too_long_without_truncation(cl100k_tok):
    with pytest.raises(bp.BytepairError, match=r'sequence 1 has 6 tokens \(5 \+ 1 added.*truncation="right"'):
        cl100k_tok.encode_batch_to_numpy(["a", "a b c d e"], max_length=4, add_special=(None, EOT))


def test_huge_max_length_is_an_error_not_a_crash(cl100k_tok):
    with pytest.raises(bp.BytepairError, match=r"a batch of 2 x 9223372036854775808 ids does not fit in memory"):
        cl100k_tok.encode_batch_to_numpy(["a", "b"], max_length=2**63, padding="max_length")


def test_padding_false_needs_equal_lengths(cl100k_tok):
    with pytest.raises(bp.BytepairError, match=r"padding=False needs sequences of one length.*sequence 1 has 3"):
        cl100k_tok.encode_batch_to_numpy(["a", "a b c"], padding=False)


def test_bad_option_values(cl100k_tok):
    tok = cl100k_tok
    with pytest.raises(bp.BytepairError, match=r'padding must be "longest", "max_length"'):
        tok.encode_batch_to_numpy(["a"], padding="shortest")
    with pytest.raises(bp.BytepairError, match=r'truncation must be "right", "left"'):
        tok.encode_batch_to_numpy(["a"], max_length=3, truncation="middle")
    with pytest.raises(bp.BytepairError, match=r'padding_side must be "right" or "left"'):
        tok.encode_batch_to_numpy(["a"], padding_side="top")
    with pytest.raises(bp.BytepairError, match=r"max_length must be at least 1"):
        tok.encode_batch_to_numpy(["a"], max_length=0)
    with pytest.raises(TypeError, match=r"max_length must be an int"):
        tok.encode_batch_to_numpy(["a"], max_length=3.0)
    with pytest.raises(bp.BytepairError, match=r"'<s>' is not a special token of this tokenizer"):
        tok.encode_batch_to_numpy(["a"], add_special=("<s>", None))
    with pytest.raises(TypeError, match=r"add_special must be a pair"):
        tok.encode_batch_to_numpy(["a"], add_special=EOT)
    with pytest.raises(bp.BytepairError, match=r"eos: invalid token id 100256: no token has this id"):
        tok.encode_batch_to_numpy(["a"], add_special=(None, 100256))
    with pytest.raises(TypeError, match=r"pad_id must be a token id"):
        tok.encode_batch_to_numpy(["a"], pad_id=1.5)
    with pytest.raises(TypeError, match=r"dtype must be uint32 or int64"):
        tok.encode_batch_to_numpy(["a"], padding=True, dtype=np.float32)
    with pytest.raises(TypeError, match=r"mask_dtype must be uint8 or bool"):
        tok.encode_batch_to_numpy(["a"], padding=True, mask_dtype=np.int32)
    with pytest.raises(TypeError, match=r"texts\[1\] is of type int"):
        tok.encode_batch_to_numpy(["a", 3], padding=True)  # type: ignore[list-item]


def test_no_default_pad_token():
    tok = bp.Tokenizer.train(["hello world"] * 10, vocab_size=260)
    with pytest.raises(bp.BytepairError, match=r"padding needs a pad_id.*pass pad_id="):
        tok.encode_batch_to_numpy(["hello", "hello world"], padding="longest")
    ids, mask = tok.encode_batch_to_numpy(["hello", "hello world"], pad_id=0)
    assert ids.shape[0] == 2 and mask is not None
    ids, _ = tok.encode_batch_to_numpy(["hello", "hello"], padding=False)  # no pad needed
    assert ids.shape[0] == 2


def test_options_are_checked_before_encoding(cl100k_tok):
    # the option error wins over a disallowed special in the texts: nothing is encoded with bad options
    with pytest.raises(bp.BytepairError, match="pad_id"):
        cl100k_tok.encode_batch_to_numpy([EOT], pad_id=-5)
    with pytest.raises(bp.DisallowedSpecialError):
        cl100k_tok.encode_batch_to_numpy([EOT], pad_id=0)


def test_docs_example_output_is_real(capsys):
    """README's "Model-ready batches" section: each python block, run in turn, prints exactly the text block after
    it."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Model-ready batches")
    end = readme.find("\n## ", start + 1)
    doc = readme[start : end if end > 0 else len(readme)]
    blocks = re.findall(r"```(python|text)\n(.*?)```", doc, flags=re.DOTALL)
    namespace: dict = {}
    pairs = [(blocks[i][1], blocks[i + 1][1]) for i in range(len(blocks) - 1)
             if blocks[i][0] == "python" and blocks[i + 1][0] == "text"]
    assert len(pairs) == 2
    for code, expected in pairs:
        if "print(" not in code:  # the generation snippet shows its arrays: print them
            code += "print(ids)\nprint(mask.astype(int))\nprint(ids.dtype, mask.dtype)\n"
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own documentation)
        assert capsys.readouterr().out == expected
