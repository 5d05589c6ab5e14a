"""Hypothesis strategies shared by the tokenizer tests."""

from __future__ import annotations

from hypothesis import strategies as st

# Pieces chosen to sit on the edges of the gpt2 / cl100k / o200k pre-tokenizer regexes: whitespace runs before
# letters and at the end of text (\s+(?!\S), \s++$), \r\n handling, digit groups of 1-3, contractions in both
# cases, punctuation runs followed by newlines or '/', letter case classes, combining marks, ZWJ sequences, flags,
# non-ASCII spaces, controls, the last code point, and fragments of special tokens.
TRICKY_PIECES = [
    " ", "  ", "   ", "\t", "\n", "\n\n", "\r", "\r\n", "\x0b", "\x0c", "\x85",
    "\u00a0", "\u2009", "\u3000", "\u200b", "\u2028",
    "0", "1", "7", "42", "123", "2024", "\u0663", "\u00bd", "\u2167",
    "'", "'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "\u2019s",
    ".", ",", "!", "?", "-", "/", "//", "(", ")", "\"", "...", "<", ">", "|", "#", "@", "_", "$", "+", "=",
    "a", "b", "x", "A", "Z", "hello", "Hello", "HELLO", "camelCase", "don", "I", "\u01c5",
    "\u00e9", "e\u0301", "\u0301", "\u0308", "\u00df", "\u0130", "\u03a3", "\u03c3",
    "\u6f22", "\u5b57", "\u304b", "\u30ab", "\ud55c", "\u0645\u0631\u062d\u0628\u0627", "\u0928\u092e\u0938\u094d\u0924\u0947",
    "\U0001f600", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "\U0001f1ef\U0001f1f5",
    "\U0001f44d\U0001f3fd", "\u200d", "\ufe0f", "\ufffd",
    "\x00", "\x01", "\x7f", "\U0010ffff", "\U000e0001",
    "<|", "|>", "<|endoftext", "endoftext|>",
]

tricky_text = st.lists(st.sampled_from(TRICKY_PIECES), max_size=40).map("".join)

# Text as hypothesis draws it (no surrogates) or built from the tricky pieces.
any_text = st.one_of(st.text(), tricky_text)

HIGH_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDBFF)
LOW_SURROGATES = st.characters(min_codepoint=0xDC00, max_codepoint=0xDFFF)


def with_lone_surrogates(surrogates: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text mixing ordinary characters with surrogates of ONE kind (high only or low only), so that no two
    neighbours form a surrogate pair: every surrogate in the result is lone."""
    return st.lists(st.one_of(st.sampled_from(TRICKY_PIECES), st.characters(), surrogates), max_size=30).map("".join)


lone_surrogate_text = st.one_of(with_lone_surrogates(HIGH_SURROGATES), with_lone_surrogates(LOW_SURROGATES))

# Surrogates of both kinds, often next to each other: high-low neighbours are pairs (one char of four bytes once
# repaired), the others lone.
surrogate_text = st.lists(
    st.one_of(st.sampled_from(TRICKY_PIECES), st.characters(), HIGH_SURROGATES, LOW_SURROGATES,
              st.tuples(HIGH_SURROGATES, LOW_SURROGATES).map("".join)),
    max_size=30,
).map("".join)


def replace_surrogates(s: str) -> str:
    """tiktoken's repair of a str that is not valid Unicode text: a surrogate pair becomes its char, every other
    surrogate U+FFFD (``tiktoken.Encoding.encode``, through UTF-16)."""
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

# Tricky text with whole special tokens (cl100k's and o200k's) mixed in.
SPECIAL_PIECES = ["<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"]
text_with_specials = st.lists(st.sampled_from(TRICKY_PIECES + SPECIAL_PIECES * 4), max_size=30).map("".join)
