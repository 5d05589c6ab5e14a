"""Plain, obviously-correct reference implementations used as oracles by the tests.

Nothing here is fast, and nothing should be clever: every function is a direct transcription of the rule in
DESIGN.md §3 so that a disagreement with the Rust core points at the core.

* ``pretokenize``: split on special tokens (leftmost-longest), then on the pre-tokenizer regex; text between
  regex matches is kept as its own piece (nothing the user passes is dropped).
* ``train``: BPE training with a FULL recount of pair counts at every step; the pair with the highest count
  wins, ties go to the greatest ``(left bytes, right bytes)`` (the CS336 rule, DESIGN §3.4).
* ``encode_piece`` / ``encode``: rank-based encoding as tiktoken does it (DESIGN §3.2): repeatedly merge the
  adjacent pair whose concatenation has the lowest rank, leftmost on ties.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import regex  # the `regex` package (a tiktoken dependency): possessive quantifiers, \p{..} classes


def split_special(text: str, specials: Iterable[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(chunk, is_special)`` parts, specials matched leftmost-longest."""
    specials = sorted(set(specials), key=len, reverse=True)  # longest first = longest wins at a position
    if not specials:
        return [(text, False)] if text else []
    parts, pos = [], 0
    for m in regex.finditer("|".join(regex.escape(s) for s in specials), text):
        if m.start() > pos:
            parts.append((text[pos : m.start()], False))
        parts.append((m.group(), True))
        pos = m.end()
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


def regex_pieces(text: str, pattern: str) -> list[str]:
    """Regex matches of ``pattern`` in ``text``, plus the unmatched text between them as pieces of its own."""
    pieces, pos = [], 0
    for m in regex.finditer(pattern, text):
        if m.start() > pos:
            pieces.append(text[pos : m.start()])
        if m.end() > m.start():
            pieces.append(m.group())
        pos = m.end()
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def pretokenize(text: str, pattern: str, specials: Iterable[str] = ()) -> list[str]:
    """Pre-tokens of ``text`` (special tokens removed; they are boundaries)."""
    return [p for chunk, special in split_special(text, specials) if not special for p in regex_pieces(chunk, pattern)]


def train(
    docs: Iterable[str], vocab_size: int, pattern: str, specials: Sequence[str] = ()
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """Reference BPE trainer: full recount of pairs at every step. Returns ``(vocab, merges)``."""
    words = Counter(p.encode("utf-8") for d in docs for p in pretokenize(d, pattern, specials))
    words = {tuple(bytes([b]) for b in w): n for w, n in words.items()}  # pre-token as a tuple of token bytes
    merges: list[tuple[bytes, bytes]] = []
    while 256 + len(merges) + len(specials) < vocab_size:
        pairs: Counter[tuple[bytes, bytes]] = Counter()
        for w, n in words.items():
            for pair in zip(w, w[1:]):  # noqa: RUF007 (itertools.pairwise needs Python 3.10)
                pairs[pair] += n
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p[0], p[1]))
        merges.append(best)
        new_words: dict[tuple[bytes, ...], int] = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + n
        words = new_words
    vocab = {i: bytes([i]) for i in range(256)}
    for i, (a, b) in enumerate(merges):
        vocab[256 + i] = a + b
    for i, s in enumerate(specials):
        vocab[256 + len(merges) + i] = s.encode("utf-8")
    return vocab, merges


def encode_piece(piece: bytes, ranks: Mapping[bytes, int]) -> list[int]:
    """tiktoken's rule for one pre-token: lowest-rank adjacent pair first, leftmost on ties."""
    if piece in ranks:
        return [ranks[piece]]
    parts = [bytes([b]) for b in piece]
    while True:
        best = None  # (rank, index)
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    return [ranks[p] for p in parts]


def encode(
    text: str, ranks: Mapping[bytes, int], pattern: str, specials: Mapping[str, int] | None = None
) -> list[int]:
    """Reference encoder; every special token in ``specials`` found in ``text`` is encoded as its id."""
    specials = specials or {}
    ids: list[int] = []
    for chunk, special in split_special(text, specials):
        if special:
            ids.append(specials[chunk])
        else:
            for piece in regex_pieces(chunk, pattern):
                ids.extend(encode_piece(piece.encode("utf-8"), ranks))
    return ids


def ranks_from_vocab(vocab: Mapping[int, bytes], specials: Mapping[str, int] | None = None) -> dict[bytes, int]:
    """Invert a ``vocab`` (id -> bytes) into BPE ranks, leaving out the special tokens' ids."""
    special_ids = set((specials or {}).values())
    return {b: i for i, b in vocab.items() if i not in special_ids}
