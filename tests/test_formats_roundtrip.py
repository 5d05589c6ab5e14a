"""Round trips between every pair of formats preserve the ids on the corpus (and the tokenizer itself), via
``save_as`` / ``load_any`` (the code behind ``bytepair convert``). Formats that do not store the pattern (tiktoken,
gpt2) or the special tokens (tiktoken) get them passed back in, as a user has to."""

from __future__ import annotations

import itertools
from pathlib import Path

import bytepair as bp
import pytest
from bytepair.formats import FORMATS, detect_format, load_any, save_as
from formats_support import corpus_slices, openai, same_tokenizer, trained

pytest.importorskip("tiktoken")


def _reload(written: list[Path], fmt: str, tok: bp.Tokenizer) -> bp.Tokenizer:
    path = written[0] if fmt != "gpt2" else written[0].parent
    assert detect_format(path) == fmt
    if fmt == "tiktoken":
        return bp.Tokenizer.from_tiktoken(path, pattern=tok.pattern, special_tokens=tok.special_tokens)
    return load_any(path, pattern=tok.pattern if fmt == "gpt2" else None)


def _target(tmp: Path, fmt: str, tag: str) -> Path:
    return tmp / {"bytepair": f"{tag}.json", "tiktoken": f"{tag}.tiktoken", "huggingface": f"{tag}-tokenizer.json",
                  "gpt2": f"{tag}-gpt2"}[fmt]


# Every ordered pair for a trained tokenizer (vocab + merges); for OpenAI's cl100k (ranks, 100k tokens, slower to
# convert) every format into and out of bytepair's own.
PAIRS = [("trained", a, b) for a, b in itertools.product(FORMATS, FORMATS)] + [
    ("cl100k", a, b) for a, b in itertools.product(FORMATS, FORMATS) if "bytepair" in (a, b)
]


@pytest.mark.parametrize(("which", "first", "second"), PAIRS)
def test_every_pair_of_formats_preserves_ids(which, first, second, tmp_path):
    tok = trained() if which == "trained" else openai("cl100k")
    a = _reload(save_as(tok, _target(tmp_path, first, "a"), first), first, tok)
    b = _reload(save_as(a, _target(tmp_path, second, "b"), second), second, tok)
    same_tokenizer(tok, b)
    texts = [t for _, t in corpus_slices(15_000)]
    assert b.encode_ordinary_batch(texts) == tok.encode_ordinary_batch(texts)
    s = "x<|endoftext|>y"
    assert b.encode(s, allowed_special="all") == tok.encode(s, allowed_special="all")
