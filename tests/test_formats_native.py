"""bytepair's own format (``save`` / ``load``), pickle, copy and repr; every kind of bad file gives a FormatError that
names the file and the problem."""

from __future__ import annotations

import copy
import json
import pickle
import re

import bytepair as bp
import pytest
from bytepair import FormatError
from formats_support import corpus_slices, gpt2, openai, same_tokenizer, trained


@pytest.fixture(scope="module")
def small() -> bp.Tokenizer:
    return bp.Tokenizer.train(["hello world, hello bytes"] * 20 + ["naïve café 歪"], 300, special_tokens=["<|e|>"])


@pytest.mark.parametrize("which", ["trained", "gpt2", "o200k"])
def test_save_load_round_trip(which, tmp_path):
    tok = {"trained": trained, "gpt2": gpt2, "o200k": lambda: openai("o200k")}[which]()
    path = tmp_path / "tok.json"
    tok.save(path)
    back = bp.Tokenizer.load(path)
    same_tokenizer(tok, back)
    texts = [t for _, t in corpus_slices(20_000)]
    assert back.encode_ordinary_batch(texts) == tok.encode_ordinary_batch(texts)


def test_file_is_self_describing(small, tmp_path):
    path = tmp_path / "tok.json"
    small.save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "bytepair" and doc["version"] == 1
    assert doc["pattern"] == small.pattern and doc["pattern_name"] == "cl100k"
    assert doc["special_tokens"] == [["<|e|>", small.special_tokens["<|e|>"]]]
    assert doc["n_vocab"] == small.n_vocab
    assert len(doc["merges"]) == len(small.merges) and doc["checksum"].startswith("fnv1a64:")


def test_ranks_kind_is_written_for_tiktoken_tokenizers(tmp_path):
    tok = openai("cl100k")
    path = tmp_path / "cl.json"
    tok.save(path)
    doc = json.loads(path.read_text())
    assert "ranks" in doc and "merges" not in doc
    assert len(doc["ranks"]) == len(tok.mergeable_ranks)


@pytest.mark.parametrize("which", ["small", "o200k"])
def test_pickle_deepcopy_copy(which, small):
    tok = small if which == "small" else openai("o200k")
    text = "héllo wörld <|e|> 123 " * 3
    for clone in (pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok), copy.copy(tok)):
        assert isinstance(clone, bp.Tokenizer)
        same_tokenizer(tok, clone)
        assert clone.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")


def test_repr_shows_n_vocab_pattern_and_specials(small):
    assert repr(small) == f"<bytepair.Tokenizer n_vocab={small.n_vocab} pattern=cl100k special_tokens=1>"
    assert repr(openai("o200k")) == "<bytepair.Tokenizer n_vocab=200019 pattern=o200k special_tokens=2>"


# ------------------------------------------------------------------------------------------------------ bad files
def _write(tmp_path, small, edit):
    path = tmp_path / "bad.json"
    small.save(path)
    text = path.read_text()
    path.write_bytes(edit(text) if callable(edit) else edit)
    return path


def _doc_edit(fn):
    def edit(text: str) -> bytes:
        doc = json.loads(text)
        fn(doc)
        return json.dumps(doc).encode()

    return edit


BAD_FILES = {
    "truncated": (lambda t: t[: len(t) // 2].encode(), r"truncated"),
    "truncated at the end": (lambda t: t.rstrip()[:-1].encode(), r"truncated"),
    "empty": (b"", r"empty file"),
    "corrupt bytes": (lambda t: (t[:200] + "\x00\x01garbage" + t[200:]).encode(), r"corrupt JSON"),
    "not UTF-8": (lambda t: t.encode()[:100] + b"\xff\xfe" + t.encode()[100:], r"corrupt JSON|invalid unicode|UTF-8"),
    "not JSON": (b"not a tokenizer at all\n", r"corrupt JSON"),
    "wrong format name": (lambda t: t.replace('"format":"bytepair"', '"format":"other"').encode(),
                          r'not a bytepair tokenizer file \("format" is "other"'),
    "no format field": (_doc_edit(lambda d: d.pop("format")), r'not a bytepair tokenizer file \(no "format"'),
    "newer version": (lambda t: t.replace('"version":1', '"version":2').encode(),
                      r"unsupported version 2: written by a newer bytepair; this one reads version 1"),
    "version as string": (lambda t: t.replace('"version":1', '"version":"1"').encode(), r'unsupported version "1"'),
    "no version": (_doc_edit(lambda d: d.pop("version")), r'no "version" field'),
    "unknown field": (_doc_edit(lambda d: d.update(extra=1)), r"malformed bytepair tokenizer file: unknown field `extra`"),
    "wrong type": (_doc_edit(lambda d: d.update(special_tokens="x")), r"malformed bytepair tokenizer file: invalid type"),
    "bad base64": (_doc_edit(lambda d: d["vocab"][65].__setitem__(1, "@@@")), r"vocab\[65\]: invalid base64"),
    "merge of a missing token": (
        _doc_edit(lambda d: d["merges"].append(["eHl6", "cQ=="])),
        r"inconsistent tokenizer: merge \d+ \(\"xyz\", \"q\"\) uses \"xyz\", which is not in the vocab",
    ),
    "two ids with one token": (
        _doc_edit(lambda d: d["vocab"].append([999, d["vocab"][104][1]])),
        r"inconsistent tokenizer: vocab ids 104 and 999 are the same token",
    ),
    "special token id taken": (
        _doc_edit(lambda d: d["special_tokens"][0].__setitem__(1, 65)),
        r"inconsistent tokenizer: special token \"<\|e\|>\" has id 65",
    ),
    "single byte missing": (
        _doc_edit(lambda d: d.update(vocab=[v for v in d["vocab"] if v[0] != 7])),
        r"inconsistent tokenizer: the vocab has no token for the single byte 7",
    ),
    "ranks and merges": (_doc_edit(lambda d: d.update(ranks=[])), r'both "ranks" and "vocab"/"merges"'),
    "no tokens": (_doc_edit(lambda d: (d.pop("vocab"), d.pop("merges"))), r'no "ranks" and no "vocab"/"merges"'),
    "n_vocab edited": (_doc_edit(lambda d: d.update(n_vocab=d["n_vocab"] + 5)), r"inconsistent tokenizer: n_vocab is"),
    "pattern_name disagrees": (
        _doc_edit(lambda d: d.update(pattern_name="gpt2")),
        r'pattern_name is "gpt2" but pattern is not that pattern',
    ),
    "consistent hand edit": (
        _doc_edit(lambda d: (d.update(pattern=r"\w+|\s+|.", pattern_name=None))),
        r"checksum mismatch .* delete the \"checksum\" field to accept an edit",
    ),
    "bad pattern": (
        _doc_edit(lambda d: d.update(pattern="(unclosed", pattern_name=None)),
        r'pattern "\(unclosed" does not compile',
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_raises_format_error_naming_file_and_problem(case, small, tmp_path):
    edit, message = BAD_FILES[case]
    path = _write(tmp_path, small, edit)
    with pytest.raises(FormatError, match=re.escape(str(path)) + ": .*" + message) as info:
        bp.Tokenizer.load(path)
    assert isinstance(info.value, ValueError)


def test_deleting_the_checksum_accepts_a_consistent_edit(small, tmp_path):
    path = _write(tmp_path, small, _doc_edit(lambda d: (d.pop("checksum"), d.update(pattern=r"\w+|\s+|.",
                                                                                     pattern_name=None))))
    tok = bp.Tokenizer.load(path)
    assert tok.pattern == r"\w+|\s+|." and tok.vocab == small.vocab


def test_corrupted_rank_is_detected(tmp_path):
    """A flipped rank in a ranks file (still valid JSON, still a consistent tokenizer) is caught by the checksum."""
    tok = bp.Tokenizer.train(["abc abd abe " * 50], 270, pattern="gpt2")
    ranked = bp.Tokenizer.from_tiktoken(tok.to_tiktoken())
    path = tmp_path / "r.json"
    ranked.save(path)
    doc = json.loads(path.read_text())
    (a, ra), (b, rb) = doc["ranks"][-2], doc["ranks"][-1]
    doc["ranks"][-2], doc["ranks"][-1] = [a, rb], [b, ra]
    path.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=r"r\.json: checksum mismatch"):
        bp.Tokenizer.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        bp.Tokenizer.load(tmp_path / "nope.json")


def test_pickle_of_corrupt_state_is_a_format_error():
    from bytepair.formats import native

    with pytest.raises(FormatError, match=r"<pickle>: truncated"):
        native._unpickle(b'{"format":"bytepair","version":1,')
