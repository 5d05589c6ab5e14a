"""Training at corpus scale (issue 4): streamed files, chunking, threads, pre-token counts, pathological inputs.

Every result is compared with the full-recount reference trainer (``reference.py``) or with another way of
training on the same text; none of these tests times anything.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import textwrap

import bytepair as bp
import pytest
import reference
from conftest import PATTERNS
from strategies import TRICKY_PIECES

SPECIALS = ["<|endoftext|>", "<|end|>", "<|fim_middle|>"]
# Tie-heavy material: few distinct letters, multi-byte characters of 2, 3 and 4 bytes, and fragments of specials.
PIECES = ["a", "b", "ab", " a", " b", "é", "中", "\U0001f600", " ", "\n", ".", "<|", "end", "|>", "<|end"]


def regex(pattern: str) -> str:
    return PATTERNS.get(pattern, pattern)


def tie_heavy_docs(seed: int, n_docs: int = 6, n_pieces: int = 80) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        parts = [rng.choice(PIECES) for _ in range(rng.randint(0, n_pieces))]
        for _ in range(rng.randint(0, 4)):
            parts.insert(rng.randint(0, len(parts)), rng.choice(SPECIALS))
        docs.append("".join(parts))
    return docs


def as_lists(tok: bp.Tokenizer) -> tuple[list[tuple[bytes, bytes]], dict[int, bytes], dict[str, int]]:
    return tok.merges, tok.vocab, tok.special_tokens


def check_reference(tok: bp.Tokenizer, docs: list[str], vocab_size: int, pattern: str, specials: list[str]) -> None:
    vocab, merges = reference.train(docs, vocab_size, regex(pattern), specials)
    assert tok.merges == merges
    assert tok.vocab == vocab


# ------------------------------------------------------------------------------------------ threads and chunks


@pytest.mark.parametrize("pattern", ["cl100k", "gpt2", "o200k", r"\S+|\s+"])
@pytest.mark.parametrize("seed", range(4))
def test_file_in_tiny_chunks_equals_reference(tmp_path, pattern, seed):
    # One file is one document; chunks of 1..13 bytes would cut inside every special token and multi-byte
    # character if the reader allowed it.
    text = "".join(tie_heavy_docs(seed, n_docs=3))
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    vocab_size = 256 + 40 + len(SPECIALS)
    vocab, merges = reference.train([text], vocab_size, regex(pattern), SPECIALS)
    for chunk in (1, 2, 3, 5, 13, 1 << 20):
        for threads in (1, 2, 8):
            tok = bp.Tokenizer.train(
                path, vocab_size, pattern=pattern, special_tokens=SPECIALS, num_threads=threads, _chunk_bytes=chunk
            )
            assert tok.merges == merges, (chunk, threads)
            assert tok.vocab == vocab


@pytest.mark.parametrize("threads", [1, 2, 8])
@pytest.mark.parametrize("seed", range(6))
def test_documents_equal_reference_for_any_thread_count(seed, threads):
    docs = tie_heavy_docs(100 + seed)
    vocab_size = 256 + 50 + len(SPECIALS)
    tok = bp.Tokenizer.train(docs, vocab_size, special_tokens=SPECIALS, num_threads=threads)
    check_reference(tok, docs, vocab_size, "cl100k", SPECIALS)


def test_counts_do_not_depend_on_chunks_or_threads(tmp_path):
    rng = random.Random(7)
    text = "".join(rng.choice(TRICKY_PIECES + SPECIALS) for _ in range(3000))
    path = tmp_path / "tricky.txt"
    path.write_text(text, encoding="utf-8")
    expected = bp.count_pretokens([text], special_tokens=SPECIALS, num_threads=1)
    for pattern in ("gpt2", "cl100k", "o200k"):
        want = bp.count_pretokens([text], pattern=pattern, special_tokens=SPECIALS, num_threads=1)
        if pattern == "cl100k":
            assert want == expected
        flat = [p.encode() for p in reference.pretokenize(text, regex(pattern), SPECIALS)]
        assert want.to_dict() == {k: flat.count(k) for k in set(flat)}
        for chunk in (1, 4, 17, 256):
            for threads in (1, 2, 8):
                got = bp.count_pretokens(
                    path, pattern=pattern, special_tokens=SPECIALS, num_threads=threads, _chunk_bytes=chunk
                )
                assert got == want, (pattern, chunk, threads)


def test_mixed_iterable_of_documents_and_files(tmp_path):
    docs = tie_heavy_docs(3)
    paths = []
    for i, d in enumerate(docs[:3]):
        paths.append(tmp_path / f"d{i}.txt")
        paths[-1].write_text(d, encoding="utf-8")
    data = [paths[0], docs[3], paths[1], docs[4], docs[5], paths[2]]
    vocab_size = 256 + 40 + len(SPECIALS)
    tok = bp.Tokenizer.train(iter(data), vocab_size, special_tokens=SPECIALS, num_threads=2)
    check_reference(tok, docs, vocab_size, "cl100k", SPECIALS)


def test_many_batches_from_a_generator():
    # More documents than one batch (4096): batches are counted on a worker while the next is read.
    rng = random.Random(11)
    docs = ["".join(rng.choice("ab ") for _ in range(rng.randint(0, 12))) for _ in range(10_000)]
    vocab_size = 256 + 30
    tok = bp.Tokenizer.train((d for d in docs), vocab_size, num_threads=2)
    check_reference(tok, docs, vocab_size, "cl100k", [])


# ------------------------------------------------------------------------------------------ pre-token counts


def test_counts_added_equal_training_on_everything():
    a, b = tie_heavy_docs(21), tie_heavy_docs(22)
    vocab_size = 256 + 60 + len(SPECIALS)
    ca = bp.count_pretokens(a, special_tokens=SPECIALS)
    cb = bp.count_pretokens(b, special_tokens=SPECIALS, num_threads=1)
    together = bp.Tokenizer.train(a + b, vocab_size, special_tokens=SPECIALS)
    from_counts = bp.Tokenizer.train_from_counts(ca + cb, vocab_size)
    assert as_lists(from_counts) == as_lists(together)
    assert bp.Tokenizer.train_from_counts(sum([ca, cb]), vocab_size) == together
    assert ca + cb == bp.count_pretokens(a + b, special_tokens=SPECIALS)
    assert (ca + cb).total == ca.total + cb.total
    check_reference(from_counts, a + b, vocab_size, "cl100k", SPECIALS)


def test_counts_api(tmp_path):
    c = bp.count_pretokens(["the cat the dog the end"], pattern="gpt2", special_tokens=["<s>"])
    assert len(c) == 5 and c.total == 6
    assert c.most_common(2) == [(b" the", 2), (b" cat", 1)]
    assert c.most_common() == c.most_common(len(c))
    assert c.pattern == PATTERNS["gpt2"] and c.special_tokens == ["<s>"]
    assert pickle.loads(pickle.dumps(c)) == c
    path = tmp_path / "counts.bpc"
    c.save(path)
    assert bp.PretokenCounts.load(path) == c
    with pytest.raises(AttributeError):
        c.total = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        bp.PretokenCounts()


def test_counts_mismatches_are_clear_errors(tmp_path):
    a = bp.count_pretokens(["x y"], pattern="gpt2")
    with pytest.raises(bp.BytepairError, match="different patterns"):
        _ = a + bp.count_pretokens(["x y"], pattern="cl100k")
    with pytest.raises(bp.BytepairError, match="different special tokens"):
        _ = a + bp.count_pretokens(["x y"], pattern="gpt2", special_tokens=["<s>"])
    with_s = bp.count_pretokens(["x<s>y"], special_tokens=["<s>", "<t>"])
    with pytest.raises(bp.BytepairError, match="special tokens the counts were made with"):
        bp.Tokenizer.train_from_counts(with_s, 300, special_tokens=[])
    tok = bp.Tokenizer.train_from_counts(with_s, 300, special_tokens=["<t>", "<s>"])
    assert tok.special_tokens == {"<t>": 256, "<s>": 257}  # no pair to merge in "x", "y"
    with pytest.raises(TypeError, match="PretokenCounts"):
        bp.Tokenizer.train_from_counts({b"ab": 3}, 300)  # type: ignore[arg-type]
    bad = tmp_path / "bad.bpc"
    bad.write_bytes(b"BPCOUNTS\x01\x00\x00\x00\x05")
    with pytest.raises(bp.FormatError, match="truncated"):
        bp.PretokenCounts.load(bad)
    bad.write_bytes(b"not counts at all")
    with pytest.raises(bp.FormatError, match="magic"):
        bp.PretokenCounts.load(bad)


def test_min_frequency_and_max_token_length_from_counts():
    docs = ["aaaa bbbb aaaa cc"] * 3
    c = bp.count_pretokens(docs, pattern=r"\S+|\s+")
    tok = bp.Tokenizer.train_from_counts(c, 300, max_token_length=2)
    assert tok.merges and all(len(a + b) <= 2 for a, b in tok.merges)
    tok = bp.Tokenizer.train_from_counts(c, 300, min_frequency=7)
    # (a, a) 18 times, (b, b) 9 times; then (aa, aa) 6, (bb, bb) 3, (c, c) 3: below 7
    assert tok.merges == [(b"a", b"a"), (b"b", b"b")]
    assert tok == bp.Tokenizer.train(docs, 300, pattern=r"\S+|\s+", min_frequency=7)


# ------------------------------------------------------------------------------------------ pathological input


def test_random_letters_without_whitespace(tmp_path):
    # 3 MB of random letters: a single 3 MB pre-token. Training must not rescan it for every merge.
    rng = random.Random(5)
    text = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=3_000_000))
    path = tmp_path / "letters.txt"
    path.write_text(text, encoding="ascii")
    tok = bp.Tokenizer.train(path, 256 + 300, _chunk_bytes=1 << 16)
    counts = bp.count_pretokens(path, _chunk_bytes=1 << 16)
    assert len(counts) == 1 and counts.total == 1
    assert len(tok.merges) == 300
    # the same merges as the reference on a prefix small enough for it
    small = text[:4000]
    check_reference(bp.Tokenizer.train([small], 256 + 20), [small], 256 + 20, "cl100k", [])


def test_single_long_line_is_cut_and_equal(tmp_path):
    rng = random.Random(9)
    words = ["the", "cat", "sat", "on", "mat", "déjà", "vu", "中文", "42", "x.y", "don't"]
    text = " ".join(rng.choice(words) for _ in range(400_000))  # ~2 MB, no newline
    path = tmp_path / "line.txt"
    path.write_text(text, encoding="utf-8")
    want = bp.count_pretokens([text], num_threads=1)
    for chunk in (1 << 12, 1 << 16):
        assert bp.count_pretokens(path, _chunk_bytes=chunk) == want
    small = text[:3000]
    check_reference(bp.Tokenizer.train([small], 256 + 30), [small], 256 + 30, "cl100k", [])


PEAK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import bytepair as bp

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak RSS (VmHWM) to the current RSS
    before = status("VmRSS")
    c = bp.count_pretokens(sys.argv[1], _chunk_bytes=int(sys.argv[2]))
    print(json.dumps({"grew_kb": status("VmHWM") - before, "distinct": len(c)}))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc/self/clear_refs")
def test_memory_does_not_grow_with_the_file(tmp_path):
    # Files of ~9 MB and ~37 MB with few distinct pre-tokens, one line each. Streamed in 256 KB chunks, the peak
    # memory is the same for both (whatever the allocator keeps around); read whole (the control), it grows by
    # about the difference, which shows the measurement sees a whole-file read.
    rng = random.Random(1)
    line = " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "x1", "y2"]) for _ in range(200_000))
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    small.write_text((line + " ") * 10, encoding="utf-8")
    big.write_text((line + " ") * 40, encoding="utf-8")
    assert big.stat().st_size > 35_000_000

    def grew_kb(path, chunk: int) -> int:
        out = subprocess.run(
            [sys.executable, "-c", PEAK_SCRIPT, str(path), str(chunk)], capture_output=True, text=True, check=True
        )
        info = json.loads(out.stdout)
        assert info["distinct"] < 20
        return int(info["grew_kb"])

    assert grew_kb(big, 1 << 30) - grew_kb(small, 1 << 30) > 20_000
    assert grew_kb(big, 1 << 18) - grew_kb(small, 1 << 18) < 6_000


def test_invalid_utf8_names_file_and_absolute_offset(tmp_path):
    data = ("good text " * 50_000).encode() + b"\xff" + b" more text"
    n = 500_000
    path = tmp_path / "broken.txt"
    path.write_bytes(data)
    for chunk in (7, 1 << 12, None):
        with pytest.raises(bp.BytepairError, match=rf"broken\.txt: invalid UTF-8 at byte offset {n}\b"):
            bp.count_pretokens(path, _chunk_bytes=chunk)
    with pytest.raises(bp.BytepairError, match=f"offset {n}"):
        bp.Tokenizer.train([path], 300)


@pytest.mark.parametrize("chunk", [1, 2, 3, 64, None])
def test_errors_replace_equals_python_replace(tmp_path, chunk):
    data = b"caf\xc3\xa9 \xff\xfe bad \xe4\xb8 cut \xf0\x9f\x98 x \xed\xa0\x80 sur <|end|> end \xe4"
    path = tmp_path / "mixed.txt"
    path.write_bytes(data)
    text = data.decode("utf-8", errors="replace")
    want = bp.count_pretokens([text], special_tokens=["<|end|>"])
    got = bp.count_pretokens(path, special_tokens=["<|end|>"], errors="replace", _chunk_bytes=chunk)
    assert got == want
    with pytest.raises(bp.BytepairError, match="offset 6"):
        bp.count_pretokens(path, special_tokens=["<|end|>"], _chunk_bytes=chunk)
    with pytest.raises(bp.BytepairError, match="errors must be"):
        bp.count_pretokens(path, errors="ignore")


# ------------------------------------------------------------------------------------------ progress, Ctrl-C, CLI


def test_progress_reports_bytes_and_merges(tmp_path, capsys):
    path = tmp_path / "p.txt"
    path.write_text("hello world " * 1000, encoding="utf-8")
    tok = bp.Tokenizer.train(path, 300, progress=True, _chunk_bytes=1000)
    assert len(tok.merges) > 0


def test_keyboard_interrupt_while_counting_and_merging(tmp_path):
    script = textwrap.dedent(
        """
        import os, signal, sys, threading, random
        # SIGINT's default Python handling, whatever this child inherited (see tests/test_interrupt.py)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        import bytepair as bp
        path = sys.argv[1]
        rng = random.Random(0)
        with open(path, "w") as f:
            f.write("".join(rng.choice("abcdefgh ij") for _ in range(6_000_000)))
        def interrupt_soon():
            threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        for what in ("count", "train"):
            interrupt_soon()
            try:
                if what == "count":
                    while True:
                        bp.count_pretokens(path, _chunk_bytes=1 << 14)
                else:
                    counts = bp.count_pretokens([str(i) + "x" * (i % 97) + "yz" * (i % 13) for i in range(200_000)])
                    while True:
                        bp.Tokenizer.train_from_counts(counts, 60_000)
            except KeyboardInterrupt:
                print(what, "interrupted")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "k.txt")], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.stdout.split("\n")[:2] == ["count interrupted", "train interrupted"], out.stderr


def test_cli_train_summary(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("hello world<|endoftext|>hello there " * 50, encoding="utf-8")
    b.write_text("the end<|pad|> " * 50, encoding="utf-8")
    out_path = tmp_path / "tok.json"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for special_args in (["--special", "<|endoftext|>", "--special", "<|pad|>"],
                         ["--special-tokens", "<|endoftext|>,<|pad|>"]):
        res = subprocess.run(
            [sys.executable, "-m", "bytepair.cli", "train", str(a), str(b), "--vocab-size", "300", "--pattern",
             "gpt2", *special_args, "--out", str(out_path), "-q"],
            capture_output=True, text=True, env=env, check=True,
        )
        assert "MB/s" in res.stdout and "unique pre-tokens" in res.stdout and "peak RSS" in res.stdout
        tok = bp.Tokenizer.load(out_path)
        assert list(tok.special_tokens) == ["<|endoftext|>", "<|pad|>"]
        assert tok == bp.Tokenizer.train([a, b], 300, pattern="gpt2", special_tokens=["<|endoftext|>", "<|pad|>"])
