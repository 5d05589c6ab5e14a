"""Training (DESIGN §3.4) against the full-recount reference trainer in ``reference.py``."""

from __future__ import annotations

import random
from pathlib import Path

import bytepair as bp
import pytest
import reference
from conftest import PATTERNS
from hypothesis import given
from hypothesis import strategies as st
from strategies import tricky_text

CS336_TEXT = " ".join(["low"] * 5 + ["lower"] * 2 + ["widest"] * 3 + ["newest"] * 6)
CS336_MERGES = [
    (b"s", b"t"), (b"e", b"st"), (b"o", b"w"), (b"l", b"ow"), (b"w", b"est"), (b"n", b"e"),
    (b"ne", b"west"), (b"w", b"i"), (b"wi", b"d"), (b"wid", b"est"), (b"low", b"e"), (b"lowe", b"r"),
]
# r"\S+" makes the pre-tokens exactly low x5, lower x2, widest x3, newest x6 (the spaces between are single-byte
# pieces with no pairs). r" ?\S+" would not: " low" and "low" would be different pre-tokens.
CS336_PATTERN = r"\S+"

CUSTOM_PATTERNS = [r" ?[a-z]+| +|\n|.", r"\S+|\s+", r"[ab]+|[^ab]+"]


def pattern_regex(pattern: str) -> str:
    return PATTERNS.get(pattern, pattern)


def check_against_reference(tok, docs, vocab_size, pattern, specials):
    vocab, merges = reference.train(docs, vocab_size, pattern_regex(pattern), specials)
    assert tok.merges == merges
    assert tok.vocab == vocab
    assert tok.n_vocab == len(vocab)
    assert tok.special_tokens == {s: 256 + len(merges) + i for i, s in enumerate(specials)}


# ------------------------------------------------------------------------------------------------ the reference


def test_reference_trainer_cs336_example():
    _, merges = reference.train([CS336_TEXT], 256 + 12, CS336_PATTERN)
    assert merges == CS336_MERGES


def test_reference_encoder_on_trained_vocab_is_greedy_merge_order():
    vocab, _merges = reference.train([CS336_TEXT], 256 + 12, CS336_PATTERN)
    ranks = reference.ranks_from_vocab(vocab)
    assert reference.encode("newest lowest", ranks, CS336_PATTERN) == [
        ranks[b"newest"], ord(" "), ranks[b"low"], ranks[b"est"]
    ]


# ------------------------------------------------------------------------------------------------ worked examples


@pytest.mark.parametrize("num_threads", [1, 4])
def test_cs336_example(num_threads):
    tok = bp.Tokenizer.train([CS336_TEXT], 256 + 12, pattern=CS336_PATTERN, num_threads=num_threads)
    assert tok.merges == CS336_MERGES
    assert tok.vocab[256 + 11] == b"lower"
    assert tok.n_vocab == 256 + 12


def test_cs336_example_with_special_token():
    text = CS336_TEXT.replace("lower lower", "lower<|endoftext|>lower")
    tok = bp.Tokenizer.train([text], 256 + 12 + 1, pattern=CS336_PATTERN, special_tokens=["<|endoftext|>"])
    assert tok.merges == CS336_MERGES
    assert tok.special_tokens == {"<|endoftext|>": 268}
    assert tok.vocab[268] == b"<|endoftext|>"
    assert tok.n_vocab == 269


def test_tie_break_does_not_depend_on_position():
    # First occurrence would pick c c (resp. d d) first; the CS336 rule picks the greatest pair in both.
    expected = [(b"d", b"d"), (b"c", b"c"), (b"b", b"b"), (b"a", b"a"), (b"dd", b"dd")]
    for pattern in ["gpt2", "cl100k", "o200k"]:
        a = bp.Tokenizer.train(["aaabbbccccdddd"], 256 + 5, pattern=pattern)
        b = bp.Tokenizer.train(["bbbaaaddddcccc"], 256 + 5, pattern=pattern)
        assert a.merges == b.merges == expected, pattern


def test_same_runs_in_any_order_give_same_merges():
    # With a pattern that makes each run of one letter a pre-token, both strings have the same pre-tokens.
    pattern = r"a+|b+|c+|d+"
    a = bp.Tokenizer.train(["aaabbbccccdddd"], 300, pattern=pattern)
    b = bp.Tokenizer.train(["bbbaaaddddcccc"], 300, pattern=pattern)
    assert a.merges == b.merges
    assert a.merges == reference.train(["aaabbbccccdddd"], 300, pattern)[1]
    assert [x + y for x, y in a.merges] == [b"dd", b"cc", b"bb", b"aa", b"dddd", b"cccc", b"bbb", b"aaa"]


# ------------------------------------------------------------------------------------------------ differential

ALPHABETS = ["ab", "abc", "ab ", "abc ", "ab \n", "a\u00e9 ", "xyz  \n'"]
SPECIAL_SETS = [[], ["<|s|>"], ["<|s|>", "<|t|>"], ["ab"], ["<|s|><|s|>", "<|s|>"]]


@st.composite
def corpora(draw):
    """A small corpus with many ties: a few letters, spaces, random lengths, maybe with special tokens."""
    alphabet = draw(st.sampled_from(ALPHABETS))
    specials = draw(st.sampled_from(SPECIAL_SETS))
    pieces = list(alphabet) + specials * 2
    word = st.lists(st.sampled_from(pieces), max_size=60).map("".join)
    docs = draw(st.lists(word, min_size=1, max_size=8))
    n_merges = draw(st.integers(min_value=0, max_value=40))
    pattern = draw(st.sampled_from(["gpt2", "cl100k", "o200k", *CUSTOM_PATTERNS]))
    return docs, 256 + len(specials) + n_merges, pattern, specials


@given(corpus=corpora(), num_threads=st.sampled_from([1, 4]))
def test_train_equals_reference(corpus, num_threads):
    docs, vocab_size, pattern, specials = corpus
    tok = bp.Tokenizer.train(docs, vocab_size, pattern=pattern, special_tokens=specials, num_threads=num_threads)
    check_against_reference(tok, docs, vocab_size, pattern, specials)


@given(corpus=corpora())
def test_train_from_generator_equals_reference(corpus):
    docs, vocab_size, pattern, specials = corpus
    tok = bp.Tokenizer.train((d for d in docs), vocab_size, pattern=pattern, special_tokens=specials)
    check_against_reference(tok, docs, vocab_size, pattern, specials)


def random_docs(seed: int, n_docs: int = 6, max_len: int = 400, specials=()) -> list[str]:
    rng = random.Random(seed)
    alphabet = rng.choice(["ab ", "abc \n", "abc  'é\n", "xy z\r\n"])
    pieces = list(alphabet) + list(specials)
    return ["".join(rng.choice(pieces) for _ in range(rng.randrange(max_len))) for _ in range(n_docs)]


def write_docs(directory: Path, docs: list[str]) -> list[Path]:
    paths = []
    for i, doc in enumerate(docs):
        path = directory / f"doc{i:02d}.txt"
        path.write_bytes(doc.encode("utf-8"))  # exact bytes: no newline translation
        paths.append(path)
    return paths


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("num_threads", [1, 4])
def test_train_from_files_equals_reference(tmp_path, seed, num_threads):
    specials = ["<|endoftext|>"] if seed % 2 else []
    docs = random_docs(seed, specials=specials)
    pattern = ["gpt2", "cl100k", CUSTOM_PATTERNS[0]][seed % 3]
    paths = write_docs(tmp_path, docs)
    vocab_size = 256 + len(specials) + 60
    tok = bp.Tokenizer.train(paths, vocab_size, pattern=pattern, special_tokens=specials, num_threads=num_threads)
    check_against_reference(tok, docs, vocab_size, pattern, specials)
    # Same result from the texts themselves and from the files in reverse order.
    for data in (docs, paths[::-1]):
        again = bp.Tokenizer.train(data, vocab_size, pattern=pattern, special_tokens=specials, num_threads=num_threads)
        assert again.merges == tok.merges and again.vocab == tok.vocab


def test_train_from_single_path(tmp_path):
    docs = random_docs(7, n_docs=1, max_len=2000)
    (path,) = write_docs(tmp_path, docs)
    for data in (path, str(path)):
        tok = bp.Tokenizer.train(data, 256 + 50, pattern="gpt2")
        check_against_reference(tok, docs, 256 + 50, "gpt2", [])


def test_train_bpe_cs336_api(tmp_path):
    docs = random_docs(3, n_docs=5, max_len=600)
    path = tmp_path / "corpus.txt"
    path.write_bytes("<|endoftext|>".join(docs).encode("utf-8"))
    vocab, merges = bp.train_bpe(path, 256 + 40 + 1, ["<|endoftext|>"])
    assert type(vocab) is dict and type(merges) is list
    assert all(type(k) is int and type(v) is bytes for k, v in vocab.items())
    assert all(type(m) is tuple and len(m) == 2 and all(type(x) is bytes for x in m) for m in merges)
    ref_vocab, ref_merges = reference.train(docs, 256 + 40 + 1, PATTERNS["gpt2"], ["<|endoftext|>"])
    assert merges == ref_merges
    assert vocab == ref_vocab
    assert len(vocab) == 256 + 40 + 1 and vocab[256 + 40] == b"<|endoftext|>"
    # str path too
    assert bp.train_bpe(str(path), 256 + 40 + 1, ["<|endoftext|>"]) == (vocab, merges)


def test_vocab_size_counts_specials():
    docs = random_docs(11, n_docs=4, max_len=2000)
    tok = bp.Tokenizer.train(docs, 300, special_tokens=["<|a|>", "<|b|>"])
    assert tok.n_vocab == 300
    assert len(tok.merges) == 300 - 256 - 2
    assert tok.special_tokens == {"<|a|>": 298, "<|b|>": 299}
    assert sorted(tok.vocab) == list(range(300))
    assert [tok.vocab[i] for i in range(256)] == [bytes([i]) for i in range(256)]
    assert all(tok.vocab[256 + i] == a + b for i, (a, b) in enumerate(tok.merges))


def test_exactly_256_plus_specials_learns_nothing():
    tok = bp.Tokenizer.train(["ab ab ab"], 257, special_tokens=["<|endoftext|>"])
    assert tok.merges == [] and tok.special_tokens == {"<|endoftext|>": 256} and tok.n_vocab == 257


def test_no_learned_token_contains_special_bytes():
    # The special's characters appear nowhere else, so a token holding any of its bytes crossed into it.
    special = "<|@#|>"
    rng = random.Random(5)
    docs = [special.join("".join(rng.choice("ab ") for _ in range(30)) for _ in range(20)) for _ in range(10)]
    for pattern in ["gpt2", "cl100k", r"\S+|\s+", r"[^ ]+| "]:
        tok = bp.Tokenizer.train(docs, 256 + 200 + 1, pattern=pattern, special_tokens=[special])
        learned = [a + b for a, b in tok.merges]
        assert learned, pattern
        assert not [t for t in learned if set(t) & set(special.encode())], pattern
        assert tok.encode(special, allowed_special="all") == [tok.special_tokens[special]]


def test_no_learned_token_spans_two_pretokens():
    rng = random.Random(9)
    words = ["ab", "ba", "aab", "b", "abba"]
    docs = [" ".join(rng.choice(words) for _ in range(200)) + "\n\n" for _ in range(5)]
    for pattern in ["gpt2", "cl100k", "o200k", r" ?[ab]+|\s+"]:
        pieces = {p.encode() for d in docs for p in reference.pretokenize(d, pattern_regex(pattern))}
        tok = bp.Tokenizer.train(docs, 256 + 300, pattern=pattern)
        assert tok.merges
        for a, b in tok.merges:
            assert any(a + b in p for p in pieces), (pattern, a + b)


def test_specials_split_documents():
    # "b<|s|>a": the pair (b, a) never occurs inside a pre-token chunk, so it must not be merged.
    docs = ["ab<|s|>ab<|s|>ab"] * 3
    tok = bp.Tokenizer.train(docs, 256 + 5 + 1, pattern=r"[^ ]+", special_tokens=["<|s|>"])
    assert tok.merges == [(b"a", b"b")]
    assert tok.n_vocab == 256 + 1 + 1  # nothing left to merge: training stops early


# ------------------------------------------------------------------------------------------------ determinism


def test_identical_across_threads_and_file_order(tmp_path, shared_dir):
    files = sorted((shared_dir / "corpus" / "multi").glob("*.txt"))[:4]
    texts = [p.read_text(encoding="utf-8")[:300_000] for p in files]
    paths = write_docs(tmp_path, texts)
    results = []
    for data, threads in [(paths, 1), (paths, 4), (paths[::-1], 2), (texts[::-1], 4), (texts, None)]:
        tok = bp.Tokenizer.train(data, 256 + 400, special_tokens=["<|endoftext|>"], num_threads=threads)
        results.append((tok.merges, tok.vocab, tok.special_tokens))
    assert all(r == results[0] for r in results[1:])
    assert len(results[0][0]) == 399  # 256 bytes + 399 merges + 1 special


@pytest.mark.parametrize(
    "doc, chars, pattern, n_merges",
    [
        ("en/tinyshakespeare.txt", 200_000, "cl100k", 150),
        ("multi/udhr_multiscript.txt", 60_000, "o200k", 100),
        ("multi/ru_pushkin_chekhov.txt", 60_000, "gpt2", 100),
    ],
)
def test_real_text_equals_reference(shared_dir, doc, chars, pattern, n_merges):
    text = (shared_dir / "corpus" / doc).read_text(encoding="utf-8")[:chars]
    docs = text.split("\n\n")  # many documents
    vocab_size = 256 + n_merges + 1
    tok = bp.Tokenizer.train(docs, vocab_size, pattern=pattern, special_tokens=["<|endoftext|>"], num_threads=2)
    check_against_reference(tok, docs, vocab_size, pattern, ["<|endoftext|>"])


# ------------------------------------------------------------------------------------------------ trained tokenizers


@given(corpus=corpora(), text=st.text(alphabet="abcxyz \n'\u00e9<|s>", max_size=80))
def test_trained_tokenizer_encodes_like_reference(corpus, text):
    docs, vocab_size, pattern, specials = corpus
    tok = bp.Tokenizer.train(docs, vocab_size, pattern=pattern, special_tokens=specials)
    ranks = reference.ranks_from_vocab(tok.vocab, tok.special_tokens)
    expected = reference.encode(text, ranks, pattern_regex(pattern), tok.special_tokens)
    assert tok.encode(text, allowed_special="all") == expected
    assert tok.decode(expected) == text
    rebuilt = bp.Tokenizer(tok.vocab, tok.merges, special_tokens=tok.special_tokens, pattern=pattern)
    assert rebuilt.encode(text, allowed_special="all") == expected
    assert rebuilt.encode_ordinary(text) == reference.encode(text, ranks, pattern_regex(pattern))


def test_trained_tokenizer_pattern_and_pickle(tmp_path):
    import pickle

    tok = bp.Tokenizer.train([CS336_TEXT], 256 + 12 + 1, pattern=CS336_PATTERN, special_tokens=["<|endoftext|>"])
    assert tok.pattern == CS336_PATTERN
    assert bp.Tokenizer.train(["ab"], 256).pattern == PATTERNS["cl100k"]  # default pattern: cl100k
    for clone in (pickle.loads(pickle.dumps(tok)), _save_load(tok, tmp_path / "t.bp")):
        assert clone.merges == tok.merges and clone.vocab == tok.vocab
        assert clone.special_tokens == tok.special_tokens and clone.pattern == tok.pattern
        assert clone.encode("newest<|endoftext|>", allowed_special="all") == [262, 268]  # 262 = ne+west


def _save_load(tok, path):
    tok.save(path)
    return bp.Tokenizer.load(path)


# ------------------------------------------------------------------------------------------------ pre-tokenizer splits
# Training reveals the pre-token boundaries (no merge crosses one), so training on tricky text with the built-in
# pattern names (which may use a hand-written scanner) against the reference (the `regex` package) checks the splits.


@given(
    docs=st.lists(st.one_of(tricky_text, st.text(alphabet=" \t\n\r\u00a0\u3000'sSdlLvVeEaA1234567890.!?/", max_size=60)),
                  min_size=1, max_size=6),
    pattern=st.sampled_from(["gpt2", "cl100k", "o200k"]),
)
def test_builtin_pattern_splits_equal_reference(docs, pattern):
    vocab_size = 256 + 60
    tok = bp.Tokenizer.train(docs, vocab_size, pattern=pattern)
    check_against_reference(tok, docs, vocab_size, pattern, [])


def test_constructor_applies_merges_in_order():
    # ids need not follow merge order: the merges list decides (CS336: merges applied in order of creation).
    vocab = {**{i: bytes([i]) for i in range(256)}, 256: b"bc", 257: b"ab"}
    tok = bp.Tokenizer(vocab, [(b"a", b"b"), (b"b", b"c")])
    assert tok.encode("abc") == [257, ord("c")]
    assert tok.decode([257, ord("c")]) == "abc"


def test_train_bpe_output_builds_a_tokenizer(tmp_path):
    path = tmp_path / "c.txt"
    text = CS336_TEXT.replace("lower lower", "lower<|endoftext|>lower")
    path.write_text(text, encoding="utf-8")
    vocab, merges = bp.train_bpe(path, 256 + 12 + 1, ["<|endoftext|>"])
    tok = bp.Tokenizer(vocab, merges, ["<|endoftext|>"])  # gpt2 pattern, as train_bpe
    assert tok.special_tokens == {"<|endoftext|>": 268}  # looked up in the vocab, not appended
    assert tok.n_vocab == 269
    sample = "newest<|endoftext|> lowest widest"
    ranks = reference.ranks_from_vocab(vocab, tok.special_tokens)
    expected = reference.encode(sample, ranks, PATTERNS["gpt2"], tok.special_tokens)
    assert tok.encode(sample, allowed_special="all") == expected
    assert len(expected) < len(sample) - 12
