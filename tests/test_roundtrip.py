"""Round trips (DESIGN §3.5) and lone surrogates (§3.6), with the cl100k_base and o200k_base ranks."""

from __future__ import annotations

import codecs
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import any_text, lone_surrogate_text, replace_surrogates, surrogate_text, text_with_specials


@given(text=st.text())
def test_decode_encode_text(enc_tok, text):
    _, tok = enc_tok
    # (hypothesis also draws string constants from the code, such as "<|endoftext|>": plain text here)
    assert tok.decode(tok.encode(text, disallowed_special=())) == text
    assert tok.decode(tok.encode_ordinary(text)) == text


@given(text=st.one_of(any_text, text_with_specials))
def test_decode_encode_tricky_text(enc_tok, text):
    _, tok = enc_tok
    assert tok.decode(tok.encode(text, allowed_special="all")) == text
    assert tok.decode(tok.encode_ordinary(text)) == text
    assert tok.decode_bytes(tok.encode_ordinary(text)) == text.encode("utf-8")


@given(data=st.binary())
def test_decode_bytes_encode_bytes(enc_tok, data):
    _, tok = enc_tok
    ids = tok.encode_bytes(data)
    assert tok.decode_bytes(ids) == data
    assert tok.decode(ids) == data.decode("utf-8", errors="replace")


@given(text=any_text)
def test_encode_bytes_of_valid_utf8_is_encode_ordinary(enc_tok, text):
    enc, tok = enc_tok
    assert tok.encode_bytes(text.encode("utf-8")) == enc.encode_ordinary(text)


def invalid_sequences(data: bytes) -> list[tuple[int, int]]:
    """The (start, end) of each invalid sequence that Python's UTF-8 decoder replaces with one U+FFFD."""
    found: list[tuple[int, int]] = []

    def record(err: UnicodeDecodeError) -> tuple[str, int]:
        found.append((err.start, err.end))
        return "\ufffd", err.end

    codecs.register_error("bytepair-test-record", record)
    data.decode("utf-8", errors="bytepair-test-record")
    return found


@given(data=st.lists(st.sampled_from([b"a", b" ", b"\xbb", b"\xbf", b"\xe4\xb8", b"\xad", b"\xf0\x9f\x98", b"\xff",
                                       "数".encode(), "ж".encode(), b"\xd0"]), max_size=12).map(b"".join))
def test_encode_bytes_pieces_are_the_decoders_invalid_sequences(enc_tok, data):
    # Valid runs are encoded as text; each invalid sequence (the decoder's, at most 3 bytes) is BPE over its bytes
    # alone: b"\xbb\xbf" is two pieces, although cl100k has the token b"\xbb\xbf".
    enc, tok = enc_tok
    want: list[int] = []
    at = 0
    for start, end in invalid_sequences(data):
        want += enc.encode_ordinary(data[at:start].decode("utf-8"))
        want += enc._encode_single_piece(data[start:end])
        at = end
    want += enc.encode_ordinary(data[at:].decode("utf-8"))
    assert tok.encode_bytes(data) == want


@given(ids=st.lists(st.integers(min_value=0, max_value=100255), max_size=30))
def test_decode_is_byte_concatenation(cl100k_enc, cl100k_tok, ids):
    expected = cl100k_enc.decode_bytes(ids)
    assert cl100k_tok.decode_bytes(ids) == expected
    assert b"".join(cl100k_tok.decode_single_token_bytes(i) for i in ids) == expected
    assert cl100k_tok.decode(ids) == expected.decode("utf-8", errors="replace")


def test_decode_single_token_bytes(enc_tok):
    enc, tok = enc_tok
    for i in [0, 1, 255, 256, 1000, 50000, 100255, *enc._special_tokens.values()]:
        assert tok.decode_single_token_bytes(i) == enc.decode_single_token_bytes(i)


def test_decode_errors(cl100k_enc, cl100k_tok):
    broken = cl100k_enc.encode("ab") + [cl100k_enc.encode_single_token(b"\xc3")]
    assert cl100k_tok.decode_bytes(broken) == b"ab\xc3"
    assert cl100k_tok.decode(broken) == "ab\ufffd"
    assert cl100k_tok.decode(broken, errors="replace") == "ab\ufffd"
    assert cl100k_tok.decode(broken, errors="ignore") == "ab"
    with pytest.raises(UnicodeDecodeError):
        cl100k_tok.decode(broken, errors="strict")


def test_vocab_of_tiktoken_tokenizer(cl100k_enc, cl100k_tok):
    vocab = cl100k_tok.vocab
    assert len(vocab) == 100256 + 5
    assert 100256 not in vocab
    assert vocab[100257] == b"<|endoftext|>" and vocab[100276] == b"<|endofprompt|>"
    assert all(vocab[i] == cl100k_enc.decode_single_token_bytes(i) for i in range(0, 100256, 7))


def test_pickle_and_save_load(enc_tok, tmp_path):
    import bytepair as bp

    enc, tok = enc_tok
    text = "Pickled <|endoftext|> tokens: 12345 \u6f22\u5b57 \U0001f600\n"
    expected = enc.encode(text, allowed_special="all")
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.encode(text, allowed_special="all") == expected
    assert clone.special_tokens == tok.special_tokens and clone.pattern == tok.pattern
    path = tmp_path / "tok.bytepair"
    tok.save(path)
    loaded = bp.Tokenizer.load(path)
    assert loaded.encode(text, allowed_special="all") == expected
    assert loaded.n_vocab == tok.n_vocab and loaded.special_tokens == tok.special_tokens
    assert loaded.pattern == tok.pattern


# ------------------------------------------------------------------------------------------------ lone surrogates


@pytest.mark.parametrize(
    "text",
    ["\ud800", "a\udfffb", "\ud800\ud800", "\udc00\ud800", "x \ud83d!", "\ud83d\U0001f600",  # noqa: PT014 (ruff misreads surrogates)
     "\ud83d\ude00", "\ud800\ud800\udc00", "\ud83d\ude00\ude00", " \udbff\udfff!"],  # noqa: PT014 (pairs)
)
def test_lone_surrogates_fixed(enc_tok, text):
    enc, tok = enc_tok
    clean = replace_surrogates(text)
    expected = enc.encode_ordinary(clean)
    assert enc.encode(text) == expected  # tiktoken agrees with the rule
    assert tok.encode(text) == expected
    assert tok.encode_ordinary(text) == expected
    assert tok.encode(text, allowed_special="all") == expected
    assert tok.encode_batch([text, clean]) == [expected, expected]
    assert tok.encode_ordinary_batch([text], num_threads=2) == [expected]
    assert tok.decode(tok.encode(text)) == clean


@given(text=lone_surrogate_text)
def test_lone_surrogates_encode_as_replacement_character(enc_tok, text):
    enc, tok = enc_tok
    clean = replace_surrogates(text)
    expected = enc.encode_ordinary(clean)
    assert tok.encode_ordinary(text) == expected
    assert tok.encode(text, allowed_special="all") == enc.encode(clean, allowed_special="all")
    assert tok.encode_batch([text], allowed_special="all") == [enc.encode(clean, allowed_special="all")]
    assert tok.encode_ordinary_batch([text, clean]) == [expected, expected]


@given(text=surrogate_text)
def test_surrogate_pairs_join_as_in_tiktoken(enc_tok, text):
    """A high surrogate followed by a low one is one char (tiktoken repairs a str through UTF-16); the oracle is
    tiktoken on the raw str itself."""
    enc, tok = enc_tok
    expected = enc.encode_ordinary(text)
    assert enc.encode_ordinary(replace_surrogates(text)) == expected  # the rule the helper states
    assert tok.encode_ordinary(text) == expected
    assert tok.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")
    assert tok.encode_ordinary_batch([text, text], num_threads=2) == [expected, expected]
    assert tok.count_tokens(text) == len(expected)
    assert tok.encode_to_numpy(text, disallowed_special=()).tolist() == enc.encode(text, disallowed_special=())
