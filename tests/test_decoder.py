"""The incremental decoder (DESIGN §3.5): one id at a time gives exactly the full decode, never a partial character,
never U+FFFD for a character that completes later; a stream cut inside a character flushes to U+FFFD or raises."""

from __future__ import annotations

import os

import bytepair as bp
import pytest
from formats_support import corpus_slices, gpt2, openai, trained
from hypothesis import given
from hypothesis import strategies as st

TEXT = "\u201cquote\u201d 👨‍👩‍👧 歪 e\u0301 🇯🇵 한국어"
TOKS = {"trained": trained, "gpt2": gpt2, "cl100k": lambda: openai("cl100k"), "o200k": lambda: openai("o200k")}


def _stream(tok: bp.Tokenizer, ids: list[int], errors: str = "replace") -> list[str]:
    d = tok.decoder(errors)
    return [d.decode(i) for i in ids] + [d.flush()]


@pytest.mark.parametrize("which", list(TOKS))
def test_tricky_string_one_id_at_a_time(which):
    tok = TOKS[which]()
    ids = tok.encode(TEXT)
    parts = _stream(tok, ids)
    assert "".join(parts) == TEXT == tok.decode(ids)
    assert all("\ufffd" not in p for p in parts)
    # a byte-level tokenizer splits some of these characters across tokens: then some steps emit nothing
    if any(not _valid(tok.decode_single_token_bytes(i)) for i in ids):
        assert "" in parts[:-1]


def _valid(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@pytest.mark.parametrize("which", ["trained", "o200k"])
def test_every_corpus_document_one_id_at_a_time(which):
    tok = TOKS[which]()
    chars = 400_000 if os.environ.get("BYTEPAIR_FULL_CORPUS") else 30_000
    for name, text in corpus_slices(chars):
        ids = tok.encode_ordinary(text)
        d = tok.decoder()
        out = []
        for i in ids:
            piece = d.decode(i)
            assert "\ufffd" not in piece or "\ufffd" in text, name
            out.append(piece)
        out.append(d.flush())
        assert "".join(out) == text == tok.decode(ids), name


def test_bytes_of_one_character_arrive_one_token_at_a_time():
    tok = trained()
    data = "歪".encode()  # three bytes
    ids = [tok.encode_bytes(data[i : i + 1])[0] for i in range(3)]
    d = tok.decoder()
    assert d.decode(ids[0]) == "" and d.pending == data[:1]
    assert d.decode(ids[1]) == "" and d.pending == data[:2]
    assert d.decode(ids[2]) == "歪" and d.pending == b""
    assert d.flush() == ""


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_stream_cut_inside_a_character(cut):
    tok = trained()
    data = "a🇯".encode()  # 'a' + a four-byte character
    ids = [tok.encode_bytes(data[i : i + 1])[0] for i in range(1 + cut)]
    d = tok.decoder()
    assert "".join(d.decode(i) for i in ids) == "a"
    assert d.flush() == "\ufffd"
    assert tok.decode(ids) == "a\ufffd"
    strict = tok.decoder("strict")
    assert "".join(strict.decode(i) for i in ids) == "a"
    with pytest.raises(UnicodeDecodeError):
        strict.flush()
    assert strict.pending == b""  # flush resets the decoder
    assert strict.decode(tok.encode("ok")) == "ok"


def test_invalid_bytes_are_replaced_at_once_and_strict_raises():
    tok = trained()
    ids = tok.encode_bytes(b"x\xff\xfey")
    assert tok.decoder().decode(ids) == tok.decode(ids) == "x\ufffd\ufffdy"
    with pytest.raises(UnicodeDecodeError):
        tok.decoder("strict").decode(ids)
    with pytest.raises(LookupError):
        tok.decoder("no-such-handler")


@given(st.text(max_size=60), st.lists(st.integers(1, 5), max_size=40))
def test_any_chunking_equals_full_decode(text, sizes):
    tok = openai("cl100k")
    ids = tok.encode_ordinary(text)
    d = tok.decoder()
    out, k = [], 0
    for n in sizes + [len(ids)]:
        out.append(d.decode(ids[k : k + n]))
        k += n
    out.append(d.flush())
    assert "".join(out) == tok.decode(ids)


@given(st.binary(max_size=40))
def test_any_bytes_equal_full_decode(data):
    tok = trained()
    ids = tok.encode_bytes(data)
    assert "".join(_stream(tok, ids)) == data.decode("utf-8", "replace")


@pytest.mark.parametrize("bad", [-1, -(2**40), 200019, 10**12])
def test_invalid_ids_raise_value_error_naming_the_id(bad):
    tok = openai("o200k")
    d = tok.decoder()
    for decode in (d.decode, lambda i: d.decode([1, i]), lambda i: tok.decode([i]), lambda i: tok.decode_bytes([i])):
        with pytest.raises(ValueError, match=rf"invalid token id {bad}\b"):
            decode(bad)
    assert d.pending == b""


def test_unassigned_id_raises_value_error_naming_it():
    tok = openai("o200k")  # ids 199998 and 200000..200017 are unassigned
    d = tok.decoder()
    for bad in (199998, 200005):
        with pytest.raises(ValueError, match=rf"invalid token id {bad}: no token has this id"):
            d.decode(bad)
        with pytest.raises(ValueError, match=rf"invalid token id {bad}"):
            tok.decode([5, bad])


def test_ids_of_the_wrong_type():
    d = openai("o200k").decoder()
    with pytest.raises(TypeError):
        d.decode("12")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        d.decode([1.5])  # type: ignore[list-item]
