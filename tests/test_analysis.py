"""Choosing a vocabulary (issue 10): compression figures against hand-computed values, nested merges, the sweep."""

from __future__ import annotations

import math
from pydoc_data import topics

import bytepair as bp
import pytest
from bytepair.analysis import analyze, truncate, vocab_sweep
from bytepair.cli import main as cli_main

# Text every Python install has: the documentation topics (about 0.5 MB).
DOCS = [topics.topics[k] for k in sorted(topics.topics)]


def byte_tokenizer() -> bp.Tokenizer:
    """No merges: every byte is a token, so figures are easy to compute by hand."""
    return bp.Tokenizer({i: bytes([i]) for i in range(256)}, [], pattern="gpt2")


def test_compression_equals_hand_computed_values():
    tok = byte_tokenizer()
    text = "ab ab\ncd \u00e9"  # 10 characters, 11 bytes (é is 2 bytes), 4 words, 2 lines
    a = analyze(tok, text)
    c = a.overall
    assert (c.n_bytes, c.n_chars, c.n_tokens, c.n_words, c.n_lines) == (11, 10, 11, 4, 2)
    assert c.bytes_per_token == 1.0
    assert c.chars_per_token == pytest.approx(10 / 11)
    assert c.tokens_per_word == 11 / 4
    assert c.tokens_per_line == 11 / 2
    # distinct byte values used: a b space newline c d 0xC3 0xA9
    assert c.ids_used == 8
    assert a.vocab_size == 256 and len(a.unseen_ids) == 248
    assert a.vocab_used_share == pytest.approx(8 / 256)


def test_per_language_figures_add_up():
    tok = byte_tokenizer()
    a = analyze(tok, {"en": "hello world", "ja": "\u65e5\u672c\u8a9e"})
    assert a.by_name["en"].n_tokens == 11 and a.by_name["ja"].n_tokens == 9
    assert a.overall.n_tokens == 20 and a.overall.name == "all"
    assert math.isnan(analyze(tok, {"x": "\n\n"}).by_name["x"].tokens_per_word)  # no words: nan, not a crash
    assert "vocabulary used" in a.table()


def test_empty_text_is_a_clear_error():
    tok = byte_tokenizer()
    with pytest.raises(bp.BytepairError, match="no text to analyze for 'all'"):
        analyze(tok, "")
    with pytest.raises(bp.BytepairError, match="no text to analyze for 'fr'"):
        analyze(tok, {"en": "x", "fr": ""})
    with pytest.raises(bp.BytepairError, match="mapping of texts is empty"):
        analyze(tok, {})
    with pytest.raises(TypeError, match="item 1 is of type int"):
        analyze(tok, ["a", 3])


def test_merges_are_nested_truncation_equals_direct_training():
    big = bp.Tokenizer.train(DOCS, 4096, special_tokens=["<|endoftext|>"])
    small = bp.Tokenizer.train(DOCS, 1024, special_tokens=["<|endoftext|>"])
    cut = truncate(big, 1024)
    assert cut.merges == small.merges
    assert cut.vocab == small.vocab
    assert cut.special_tokens == small.special_tokens == {"<|endoftext|>": 1023}
    text = DOCS[7]
    assert cut.encode(text) == small.encode(text)
    with pytest.raises(bp.BytepairError, match="smaller than 256"):
        truncate(big, 200)
    with pytest.raises(bp.BytepairError, match="larger than"):
        truncate(big, 5000)


def test_sweep_with_a_model(tmp_path):
    sweep = vocab_sweep(DOCS[:60], [512, 1024, 2048], held_out={"docs": "".join(DOCS[60:70])}, model="llama-3-8b")
    assert [r.vocab_size for r in sweep.rows] == [512, 1024, 2048]
    bpt = [r.bytes_per_token for r in sweep.rows]
    assert bpt == sorted(bpt)  # more merges, fewer tokens on the same text
    for r in sweep.rows:
        # Llama-3-8B: hidden 4096, untied head: two tables of vocab x 4096
        assert r.embedding_params == 2 * r.vocab_size * 4096
        assert r.embedding_bytes == 2 * r.embedding_params  # bf16
        assert r.embedding_share == pytest.approx(r.embedding_params / r.total_params)
    sweep.plot(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(bp.BytepairError, match="unknown model 'nope'"):
        vocab_sweep(DOCS[:2], [300], held_out="x", model="nope")


def test_cli_analyze_and_sweep(tmp_path, capsys):
    tok = bp.Tokenizer.train(DOCS[:40], 600)
    tok.save(tmp_path / "tok.json")
    for i in range(2):
        (tmp_path / f"part{i}.txt").write_text("".join(DOCS[i * 30 : (i + 1) * 30]), encoding="utf-8")
    assert cli_main(["analyze", str(tmp_path / "tok.json"), str(tmp_path / "part0.txt")]) == 0
    out = capsys.readouterr().out
    assert "part0" in out and "bytes/tok" in out
    files = [str(tmp_path / "part0.txt"), str(tmp_path / "part1.txt")]
    code = cli_main(["sweep", *files, "--sizes", "300,400", "--model", "gpt2", "--plot", str(tmp_path / "s.png"), "-q"])
    assert code == 0
    out = capsys.readouterr().out
    assert "emb share" in out and "part1" in out
    assert (tmp_path / "s.png").exists()
