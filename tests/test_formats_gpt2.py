"""GPT-2 ``vocab.json`` + ``merges.txt``: the real GPT-2 files give tiktoken's ids on every corpus document, and
writing them back reproduces the same merges; a ``#version`` header is optional; bad files are named."""

from __future__ import annotations

import json
import re

import bytepair as bp
import pytest
from bytepair import FormatError
from bytepair.formats.gpt2 import byte_decoder, byte_encoder, from_unicode
from formats_support import corpus_docs, corpus_slices, gpt2, gpt2_files, openai, trained

tiktoken = pytest.importorskip("tiktoken")


def test_byte_to_unicode_map_is_a_bijection():
    enc = byte_encoder()
    assert len(enc) == 256 and len(set(enc.values())) == 256
    assert enc[ord(" ")] == "Ġ" and enc[ord("\n")] == "Ċ" and enc[ord("A")] == "A"
    assert all(byte_decoder()[c] == b for b, c in enc.items())


@pytest.fixture(scope="module")
def gpt2_oracle():
    """A tiktoken.Encoding built from the fixture files directly (no bytepair code), GPT-2 pattern."""
    vocab_json, _ = gpt2_files()
    vocab = json.loads(vocab_json.read_text(encoding="utf-8"))
    dec = {c: b for b, c in byte_encoder().items()}
    ranks = {bytes(dec[c] for c in t): i for t, i in vocab.items() if t != "<|endoftext|>"}
    return tiktoken.Encoding(
        "gpt2-fixture", pat_str=bp.PATTERNS["gpt2"], mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256}
    )


def test_gpt2_files_give_tiktoken_ids_on_every_document(gpt2_oracle):
    tok = gpt2()
    assert tok.n_vocab == 50257 and tok.special_tokens == {"<|endoftext|>": 50256} and len(tok.merges) == 50000
    names, texts = zip(*corpus_docs())
    ours = tok.encode_ordinary_batch(list(texts))
    theirs = gpt2_oracle.encode_ordinary_batch(list(texts), num_threads=2)
    assert [n for n, a, b in zip(names, ours, theirs) if a != b] == []
    s = "Hello <|endoftext|> world"
    assert tok.encode(s, allowed_special="all") == gpt2_oracle.encode(s, allowed_special="all")


def test_writing_back_reproduces_the_merges(tmp_path):
    vocab_json, merges_txt = gpt2_files()
    tok = gpt2()
    tok.save_gpt2(tmp_path / "vocab.json", tmp_path / "merges.txt")
    written = (tmp_path / "merges.txt").read_text(encoding="utf-8").split("\n")
    assert written[0] == "#version: 0.2"
    original = [line for line in merges_txt.read_text(encoding="utf-8").split("\n") if line]
    assert [line for line in written[1:] if line] == original
    assert json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8")) == json.loads(vocab_json.read_text())
    back = bp.Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert back.merges == tok.merges and back.vocab == tok.vocab and back.special_tokens == tok.special_tokens


@pytest.mark.parametrize("header", [True, False])
def test_with_or_without_version_header(header, tmp_path):
    vocab_json, merges_txt = gpt2_files()
    lines = merges_txt.read_text(encoding="utf-8")
    lines = lines if not lines.startswith("#version") else lines.split("\n", 1)[1]
    (tmp_path / "merges.txt").write_text(("#version: 0.2\n" if header else "") + lines, encoding="utf-8")
    tok = bp.Tokenizer.from_files(vocab_json, tmp_path / "merges.txt")
    assert tok.merges == gpt2().merges


@pytest.mark.parametrize("which", ["trained", "cl100k"])
def test_other_tokenizers_round_trip_through_gpt2_files(which, tmp_path):
    tok = trained() if which == "trained" else openai("cl100k")
    tok.save_gpt2(tmp_path / "vocab.json", tmp_path / "merges.txt")
    back = bp.Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt", pattern=tok.pattern)
    assert back.vocab == tok.vocab and back.special_tokens == tok.special_tokens
    texts = [t for _, t in corpus_slices(30_000)]
    assert back.encode_ordinary_batch(texts) == tok.encode_ordinary_batch(texts)


def _files(tmp_path, vocab_text=None, merges_text=None):
    vocab_json, merges_txt = gpt2_files()
    v, m = tmp_path / "vocab.json", tmp_path / "merges.txt"
    v.write_text(vocab_text if vocab_text is not None else vocab_json.read_text(encoding="utf-8"), encoding="utf-8")
    m.write_text(merges_text if merges_text is not None else merges_txt.read_text(encoding="utf-8"), encoding="utf-8")
    return v, m


def test_bad_merges_line(tmp_path):
    v, m = _files(tmp_path, merges_text="Ġ t\nthree parts here\n")
    with pytest.raises(FormatError, match=re.escape(str(m)) + r":2: expected a merge 'left right'"):
        bp.Tokenizer.from_files(v, m)


def test_truncated_vocab_json(tmp_path):
    text = gpt2_files()[0].read_text(encoding="utf-8")
    v, m = _files(tmp_path, vocab_text=text[: len(text) // 2])
    with pytest.raises(FormatError, match=re.escape(str(v)) + r": not a JSON vocab \(truncated or corrupt"):
        bp.Tokenizer.from_files(v, m)


def test_character_outside_byte_alphabet(tmp_path):
    v, m = _files(tmp_path, merges_text="Ġ t\n歪 t\n")
    with pytest.raises(FormatError, match=re.escape(str(m)) + r":2: token '歪' .* not in GPT-2's byte-to-unicode"):
        bp.Tokenizer.from_files(v, m)


def test_vocab_and_merges_disagree(tmp_path):
    v, m = _files(tmp_path, merges_text="Ġ t\nx q\n")
    with pytest.raises(FormatError, match=r"vocab and merges disagree: merge 1 \(\"x\", \"q\"\) makes \"xq\""):
        bp.Tokenizer.from_files(v, m)


def test_vocab_id_not_an_integer(tmp_path):
    v, m = _files(tmp_path, vocab_text='{"a": "one"}')
    with pytest.raises(FormatError, match=re.escape(str(v)) + r": the id of 'a' must be a non-negative integer"):
        bp.Tokenizer.from_files(v, m)


def test_from_unicode_names_where():
    with pytest.raises(FormatError, match=r"here: token 'a\\x00' has the character '\\x00'"):
        from_unicode("a\x00", "here")
