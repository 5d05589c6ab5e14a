"""tiktoken: ``.tiktoken`` ranks files (read, write, gzip), ``from_tiktoken(Encoding)``, ``to_tiktoken()``."""

from __future__ import annotations

import gzip
import re

import bytepair as bp
import pytest
from bytepair import BytepairError, FormatError
from formats_support import corpus_docs, corpus_slices, gpt2, openai, ranks_path, same_tokenizer, trained

tiktoken = pytest.importorskip("tiktoken")


def test_write_reproduces_openai_file_byte_for_byte(tmp_path):
    src = ranks_path("cl100k_base")
    tok = openai("cl100k")
    out = tmp_path / "cl100k_base.tiktoken"
    tok.save_tiktoken(out)
    assert out.read_bytes() == gzip.decompress(src.read_bytes())
    gz = tmp_path / "cl100k_base.tiktoken.gz"
    tok.save_tiktoken(gz)
    assert gzip.decompress(gz.read_bytes()) == out.read_bytes()


@pytest.mark.parametrize("which", ["trained", "gpt2", "o200k"])
def test_file_round_trip(which, tmp_path):
    tok = {"trained": trained, "gpt2": gpt2, "o200k": lambda: openai("o200k")}[which]()
    path = tmp_path / "x.tiktoken"
    tok.save_tiktoken(path)
    back = bp.Tokenizer.from_tiktoken(path, pattern=tok.pattern, special_tokens=tok.special_tokens)
    assert back.mergeable_ranks == tok.mergeable_ranks and back.vocab == tok.vocab
    texts = [t for _, t in corpus_slices(20_000)]
    assert back.encode_ordinary_batch(texts) == tok.encode_ordinary_batch(texts)


@pytest.mark.parametrize("which", ["trained", "gpt2", "cl100k"])
def test_to_tiktoken_gives_the_same_ids_on_every_document(which):
    tok = {"trained": trained, "gpt2": gpt2, "cl100k": lambda: openai("cl100k")}[which]()
    enc = tok.to_tiktoken()
    assert isinstance(enc, tiktoken.Encoding)
    assert enc.n_vocab == tok.n_vocab and enc.special_tokens_set == set(tok.special_tokens)
    texts = [t for _, t in corpus_docs()] if which == "gpt2" else [t for _, t in corpus_slices(100_000)]
    assert enc.encode_ordinary_batch(texts, num_threads=2) == tok.encode_ordinary_batch(texts)
    s = "x <|endoftext|> y"
    assert enc.encode(s, allowed_special="all") == tok.encode(s, allowed_special="all")


def test_from_tiktoken_encoding_round_trip():
    tok = trained()
    back = bp.Tokenizer.from_tiktoken(tok.to_tiktoken())
    assert back.vocab == tok.vocab and back.pattern == tok.pattern and back.special_tokens == tok.special_tokens


def test_pattern_from_file_name_and_required_otherwise(tmp_path):
    tok = trained()
    named = tmp_path / "my_o200k_like.tiktoken"
    tok.save_tiktoken(named)
    assert bp.Tokenizer.from_tiktoken(named).pattern == bp.PATTERNS["o200k"]
    anon = tmp_path / "vocab.tiktoken"
    tok.save_tiktoken(anon)
    with pytest.raises(BytepairError, match=r"vocab\.tiktoken: cannot tell the pre-tokenization pattern"):
        bp.Tokenizer.from_tiktoken(anon)


def test_ids_not_in_merge_order_cannot_be_written(tmp_path):
    """tiktoken merges by id, so a vocab whose ids are not in merge order has no tiktoken form."""
    vocab = {i: bytes([i]) for i in range(256)}
    vocab[300], vocab[256] = b"ab", b"abc"  # "abc" is made after "ab" but has the smaller id
    tok = bp.Tokenizer(vocab, [(b"a", b"b"), (b"ab", b"c")])
    with pytest.raises(BytepairError, match=r"cannot be written as tiktoken ranks.*\"abc\" \(id 256\)"):
        tok.save_tiktoken(tmp_path / "x.tiktoken")
    with pytest.raises(BytepairError, match=r"cannot be written as tiktoken ranks"):
        tok.to_tiktoken()


def _ranks_text() -> str:
    return "".join(f"{line}\n" for line in gzip.decompress(ranks_path("cl100k_base").read_bytes()).decode().split("\n")[:300])


BAD_RANKS = {
    "malformed line": (lambda t: t.replace("\n", "\nnot-a-rank-line with three\n", 1), r"line 2: expected 'base64token rank'"),
    "bad base64": (lambda t: t.replace("IQ== 0", "I@== 0"), r"line 1: invalid base64 token"),
    "rank not a number": (lambda t: t.replace("IQ== 0", "IQ== zero"), r"line 1: rank \"zero\" is not an integer"),
    "duplicate token": (lambda t: t + "IQ== 5000\n", r"line 301: token \"!\" appears twice"),
    "duplicate rank": (lambda t: t + "eHl6 7\n", r"line 301: rank 7 appears twice"),
    "single byte missing": (lambda t: t.replace("IQ== 0\n", ""), r"the ranks have no token for the single byte 33"),
    "empty": (lambda t: "", r"no ranks \(an empty tiktoken file\)"),
}


@pytest.mark.parametrize("case", list(BAD_RANKS))
def test_bad_ranks_file(case, tmp_path):
    edit, message = BAD_RANKS[case]
    path = tmp_path / "cl100k_bad.tiktoken"
    path.write_text(edit(_ranks_text()))
    with pytest.raises(FormatError, match=re.escape(str(path)) + ": " + message):
        bp.Tokenizer.from_tiktoken(path)


def test_truncated_gzip(tmp_path):
    data = ranks_path("cl100k_base").read_bytes()
    path = tmp_path / "cl100k_base.tiktoken.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=re.escape(str(path)) + ": corrupt or truncated gzip data"):
        bp.Tokenizer.from_tiktoken(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="cl100k_nope"):
        bp.Tokenizer.from_tiktoken(tmp_path / "cl100k_nope.tiktoken")


def test_same_tokenizer_through_encoding_and_file(tmp_path):
    tok = openai("o200k")
    path = tmp_path / "o200k_base.tiktoken"
    tok.save_tiktoken(path)
    via_file = bp.Tokenizer.from_tiktoken(path, special_tokens=tok.special_tokens)
    via_enc = bp.Tokenizer.from_tiktoken(tok.to_tiktoken())
    same_tokenizer(via_file, via_enc)
