"""Cut pieces (encode.rs CutTable, PieceCache::encode_cut) on arbitrary small vocabularies equal the reference BPE.

Long pieces of chars of three or four bytes are cut where no token can span the boundary, and the segments are
cached. The vocabularies here have tokens that begin or end inside a char, ranks in random order (tokens not
reachable by their own merges), and sometimes ranks past the pair map's 21 bits (the byte-span merge path).
"""

from __future__ import annotations

import bytepair as bp
import pytest
import tiktoken
from conftest import bp_tokenizer, oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import encode_piece

# chars of one to four bytes, several sharing lead or continuation bytes (E4 B8 .., .. AD), so that tokens made of
# byte slices begin or end inside chars that also occur whole elsewhere
CHARS = ["中", "丸", "文", "字", "の", "é", "ĭ", "a", "b", "\U0001f600", "\U0001d11e", "\u0800", "\U0010ffff"]


@st.composite
def vocab_and_texts(draw: st.DrawFn) -> tuple[dict[bytes, int], list[str]]:
    alphabet = draw(st.lists(st.sampled_from(CHARS), min_size=2, max_size=6, unique=True))
    word = st.lists(st.sampled_from(alphabet), min_size=1, max_size=5).map("".join)
    toks: list[bytes] = []
    for w in draw(st.lists(word, min_size=1, max_size=60)):
        b = w.encode()
        i = draw(st.integers(0, len(b) - 1))
        j = draw(st.integers(i + 1, len(b)))
        s = b if draw(st.booleans()) else b[i:j]
        if len(s) >= 2 and s not in toks:
            toks.append(s)
    order = draw(st.permutations(range(256 + len(toks))))
    singles_first = draw(st.booleans())
    ranks = {bytes([b]): (b if singles_first else order[b]) for b in range(256)}
    for k, t in enumerate(toks):
        ranks[t] = 256 + order[256 + k] if singles_first else order[256 + k]
    if draw(st.integers(0, 9)) == 0:  # ranks past the pair map's 21 bits: the byte-span merge path
        ranks = {t: r + (1 << 21) if len(t) > 1 else r for t, r in ranks.items()}
    texts = draw(
        st.lists(st.lists(st.sampled_from(alphabet), min_size=1, max_size=80).map("".join), min_size=1, max_size=12)
    )
    # and every token that is text: a piece that is a token whole (looked up whole only when it has no cut)
    texts += [t.decode() for t in toks if t.decode(errors="replace") == t.decode(errors="ignore")]
    return ranks, texts


@settings(max_examples=300, deadline=None)
@given(case=vocab_and_texts())
def test_cut_pieces_equal_reference_bpe(case):
    ranks, texts = case
    enc = tiktoken.Encoding(name="cut", pat_str=r"[^\n]+", mergeable_ranks=ranks, special_tokens={})
    tok = bp.Tokenizer.from_tiktoken(enc)
    want = [encode_piece(t.encode(), ranks) for t in texts]  # each text is one piece
    for _ in range(2):  # the second pass finds the pieces and segments cached
        assert [tok.encode_ordinary(t) for t in texts] == want
    assert tok.encode_ordinary_batch(texts, num_threads=2) == want
    bp.clear_piece_caches()
    assert [tok.count_tokens(t) for t in texts] == [len(w) for w in want]


@pytest.mark.parametrize("key", ["cl100k", "o200k"])
def test_real_tokens_of_wide_chars_equal_tiktoken(key):
    """Every token of the real vocabulary that is text of at least 7 bytes with a char of three or four bytes (the
    pieces that go straight to their cuts), alone, doubled, and after a space, equals tiktoken."""
    enc, tok = oracle(key), bp_tokenizer(key)
    texts = []
    for t in enc.token_byte_values():
        try:
            s = t.decode()
        except UnicodeDecodeError:
            continue
        if len(t) >= 7 and any(len(c.encode()) >= 3 for c in s):
            texts += [s, s + s, " " + s]
    assert len(texts) > 500  # the test is about these tokens (cl100k has 183, o200k 17,186): make sure they are there
    bp.clear_piece_caches()
    want = enc.encode_ordinary_batch(texts)
    assert [tok.encode_ordinary(t) for t in texts] == want
    assert [tok.encode_ordinary(t) for t in texts] == want  # cached
    assert tok.encode_ordinary_batch(texts, num_threads=2) == want
