"""Bad input for the core tokenizer (DESIGN §4, §3.7): each case raises a clear exception; inputs are not modified."""

from __future__ import annotations

import copy

import bytepair as bp
import pytest

BYTES_VOCAB = {i: bytes([i]) for i in range(256)}


def train(*args, **kwargs):
    return bp.Tokenizer.train(*args, **kwargs)


# ------------------------------------------------------------------------------------------------ vocab size


@pytest.mark.parametrize(
    "vocab_size, specials",
    [(255, []), (0, []), (256, ["<|a|>"]), (257, ["<|a|>", "<|b|>"])],
)
def test_vocab_size_too_small(vocab_size, specials):
    with pytest.raises(ValueError, match="vocab_size"):
        train(["ab ab"], vocab_size, special_tokens=specials)


def test_vocab_size_too_small_train_bpe(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("ab ab", encoding="utf-8")
    with pytest.raises(ValueError, match="vocab_size"):
        bp.train_bpe(path, 256, ["<|endoftext|>"])


def test_vocab_size_negative():
    with pytest.raises((ValueError, OverflowError), match="vocab_size"):
        train(["ab ab"], -1)


# ------------------------------------------------------------------------------------------------ special tokens


def test_duplicate_special_tokens_train():
    with pytest.raises(ValueError, match=r"(?i)duplicate"):
        train(["ab"], 300, special_tokens=["<|a|>", "<|b|>", "<|a|>"])


def test_duplicate_special_tokens_constructor():
    with pytest.raises(ValueError, match=r"(?i)duplicate"):
        bp.Tokenizer(BYTES_VOCAB, [], special_tokens=["<|a|>", "<|a|>"])


def test_duplicate_special_token_ids():
    with pytest.raises(ValueError, match=r"(?i)duplicate|256"):
        bp.Tokenizer(BYTES_VOCAB, [], special_tokens={"<|a|>": 256, "<|b|>": 256})


@pytest.mark.parametrize("specials", [[""], ["<|a|>", ""]])
def test_empty_special_token(specials):
    with pytest.raises(ValueError, match=r"(?i)empty"):
        train(["ab"], 300, special_tokens=specials)
    with pytest.raises(ValueError, match=r"(?i)empty"):
        bp.Tokenizer(BYTES_VOCAB, [], special_tokens=specials)


def test_empty_special_token_dict():
    with pytest.raises(ValueError, match=r"(?i)empty"):
        bp.Tokenizer(BYTES_VOCAB, [], special_tokens={"": 256})


# ------------------------------------------------------------------------------------------------ patterns


@pytest.mark.parametrize("pattern", ["(unclosed", "[a-", "*a", r"\p{NotAClass}"])
def test_pattern_that_does_not_compile(pattern):
    with pytest.raises(ValueError, match=r"(?i)pattern|regex") as info:
        train(["ab"], 300, pattern=pattern)
    assert len(str(info.value)) > len(pattern) + 10  # carries the regex engine's explanation, not just a name
    with pytest.raises(ValueError, match=r"(?i)pattern|regex"):
        bp.Tokenizer(BYTES_VOCAB, [], pattern=pattern)


def test_pattern_error_shows_regex_error():
    # fancy-regex says e.g. "Parsing error at position 9: Opening parenthesis without closing parenthesis"
    with pytest.raises(ValueError, match=r"(?i)paren|position 9"):
        bp.Tokenizer(BYTES_VOCAB, [], pattern="(unclosed")


# ------------------------------------------------------------------------------------------------ files


def test_missing_path(tmp_path):
    missing = tmp_path / "no_such_file.txt"
    with pytest.raises((OSError, ValueError), match="no_such_file.txt"):
        train(missing, 300)
    with pytest.raises((OSError, ValueError), match="no_such_file.txt"):
        train([missing], 300)
    with pytest.raises((OSError, ValueError), match="no_such_file.txt"):
        bp.train_bpe(str(missing), 300, [])


@pytest.mark.parametrize(
    "content, offset",
    [
        (b"hello \xff world", 6),
        (b"\xc3\x28 abc", 0),
        (b"abc \xe2\x82", 4),  # truncated at end of file
        (b"a" * 3_000_000 + b"\xfe tail", 3_000_000),  # far into the file: an absolute offset, not a chunk's
    ],
    ids=["ff", "bad continuation", "truncated", "deep"],
)
def test_file_not_utf8(tmp_path, content, offset):
    path = tmp_path / "latin.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="latin.txt") as info:
        train([path], 300)
    assert str(offset) in str(info.value), f"byte offset {offset} not in: {info.value}"
    with pytest.raises(ValueError, match="latin.txt"):
        bp.train_bpe(path, 300, ["<|endoftext|>"])


def test_second_file_not_utf8_is_named(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("fine text", encoding="utf-8")
    bad.write_bytes(b"ok\x80")
    with pytest.raises(ValueError, match="bad.txt"):
        train([good, bad], 300, num_threads=2)


# ------------------------------------------------------------------------------------------------ training data


@pytest.mark.parametrize(
    "item, type_name",
    [(3, "int"), (b"bytes", "bytes"), (None, "None"), (["nested"], "list")],
)
def test_non_str_item_in_training_iterable(item, type_name):
    data = ["one", "two", item, "four"]
    with pytest.raises((TypeError, ValueError), match=type_name) as info:
        train(data, 300)
    assert "2" in str(info.value), f"index 2 not named in: {info.value}"


def test_non_str_item_in_generator():
    with pytest.raises((TypeError, ValueError), match="int"):
        train((x for x in ["a", "b", 7]), 300)


# ------------------------------------------------------------------------------------------------ ids


@pytest.fixture(scope="module")
def small_tok():
    return bp.Tokenizer.train(["hello world, hello there"] * 5, 270, special_tokens=["<|endoftext|>"])


@pytest.mark.parametrize("bad", ["1", 1.0, 2.5, None, b"\x01"], ids=repr)
def test_ids_of_wrong_type(cl100k_tok, bad):
    for call in (cl100k_tok.decode, cl100k_tok.decode_bytes):
        with pytest.raises(TypeError, match=r"(?i)int|str|float|None|bytes|type"):
            call([1, bad, 2])
    with pytest.raises(TypeError, match=r"(?i)int|str|float|None|bytes|type"):
        cl100k_tok.decode_single_token_bytes(bad)


def test_ids_not_a_sequence(cl100k_tok):
    with pytest.raises(TypeError):
        cl100k_tok.decode(5)


@pytest.mark.parametrize("bad", [-1, -(2**40), 100256, 100261, 100275, 100277, 2**32, 2**32 + 5, 2**64 + 1])
def test_invalid_ids_cl100k(cl100k_tok, bad):
    # -1 and huge ids, 100256 and 100261..100275 (unassigned between the ranks and the specials), >= n_vocab
    for call in (cl100k_tok.decode, cl100k_tok.decode_bytes):
        with pytest.raises(ValueError, match=str(bad)):
            call([0, bad])
    with pytest.raises(ValueError, match=str(bad)):
        cl100k_tok.decode_single_token_bytes(bad)


def test_invalid_ids_n_vocab(enc_tok):
    _, tok = enc_tok
    for bad in (tok.n_vocab, tok.n_vocab + 1):
        with pytest.raises(ValueError, match=str(bad)):
            tok.decode([bad])
        with pytest.raises(ValueError, match=str(bad)):
            tok.decode_single_token_bytes(bad)


def test_invalid_ids_trained(small_tok):
    n = small_tok.n_vocab
    assert n == 270
    for bad in (-1, n, n + 100):
        with pytest.raises(ValueError, match=str(bad)):
            small_tok.decode([bad])
        with pytest.raises(ValueError, match=str(bad)):
            small_tok.decode_bytes([bad])


def test_encode_non_str(cl100k_tok):
    for bad in (b"bytes", 3, None):
        with pytest.raises(TypeError):
            cl100k_tok.encode(bad)
        with pytest.raises(TypeError):
            cl100k_tok.encode_ordinary(bad)
    with pytest.raises(TypeError):
        cl100k_tok.encode_batch(["ok", b"bytes"])
    with pytest.raises(TypeError):
        cl100k_tok.encode_bytes("str")


# ------------------------------------------------------------------------------------------------ vocab / merges


def test_merge_of_tokens_not_in_vocab():
    vocab = {**BYTES_VOCAB, 256: b"ab", 257: b"abc"}
    with pytest.raises(ValueError, match=r"(?i)merge|vocab"):
        bp.Tokenizer(vocab, [(b"a", b"b"), (b"xy", b"c")])


def test_merge_result_not_in_vocab():
    vocab = {**BYTES_VOCAB, 256: b"ab"}
    with pytest.raises(ValueError, match=r"(?i)merge|vocab"):
        bp.Tokenizer(vocab, [(b"a", b"b"), (b"b", b"c")])


def test_vocab_with_duplicate_token_bytes():
    vocab = {**BYTES_VOCAB, 256: b"ab", 257: b"ab"}
    with pytest.raises(ValueError, match=r"(?i)duplicate|vocab|ab"):
        bp.Tokenizer(vocab, [(b"a", b"b")])


# ------------------------------------------------------------------------------------------------ inputs untouched


def test_inputs_not_modified(tmp_path):
    docs = ["low lower <|endoftext|> newest", "widest"]
    specials = ["<|endoftext|>"]
    docs_before, specials_before = list(docs), list(specials)
    tok = bp.Tokenizer.train(docs, 270, special_tokens=specials, num_threads=2)
    assert docs == docs_before and specials == specials_before

    vocab, merges = dict(tok.vocab), list(tok.merges)
    special_dict = dict(tok.special_tokens)
    vocab_before, merges_before, special_dict_before = copy.deepcopy((vocab, merges, special_dict))
    rebuilt = bp.Tokenizer(vocab, merges, special_tokens=special_dict)
    assert (vocab, merges, special_dict) == (vocab_before, merges_before, special_dict_before)
    special_list = ["<|endoftext|>", "<|new|>"]
    bp.Tokenizer(vocab, merges, special_tokens=special_list)
    assert special_list == ["<|endoftext|>", "<|new|>"] and vocab == vocab_before

    allowed = {"<|endoftext|>"}
    texts = ["a <|endoftext|>", "b"]
    ids = rebuilt.encode(texts[0], allowed_special=allowed)
    rebuilt.encode_batch(texts, allowed_special=allowed, num_threads=2)
    assert allowed == {"<|endoftext|>"} and texts == ["a <|endoftext|>", "b"]
    ids_before = list(ids)
    rebuilt.decode(ids)
    rebuilt.decode_bytes(ids)
    assert ids == ids_before

    # Returned containers are copies: mutating them does not change the tokenizer.
    got_vocab, got_merges, got_specials = tok.vocab, tok.merges, tok.special_tokens
    got_vocab[0] = b"zz"
    got_merges.clear()
    got_specials["<|x|>"] = 1
    assert tok.vocab[0] == b"\x00" and tok.merges == merges_before and tok.special_tokens == special_dict_before


def test_special_token_id_that_collides_with_a_regular_token():
    vocab = {i: bytes([i]) for i in range(256)}
    with pytest.raises(bp.BytepairError, match=r"special token '<\|x\|>' has id 97, which the vocab already uses"):
        bp.Tokenizer(vocab, [], special_tokens={"<|x|>": 97})
    with pytest.raises(bp.BytepairError, match="has id 97, which is the id of the regular token"):
        bp.Tokenizer(vocab, [], special_tokens={"a": 97})
    # given as a list, a special token whose text is also a regular token gets an id of its own
    tok = bp.Tokenizer(vocab, [], special_tokens=["a"])
    assert tok.special_tokens == {"a": 256}
    assert tok.encode("a", allowed_special="all") == [256]
    assert tok.encode_ordinary("a") == [97]
