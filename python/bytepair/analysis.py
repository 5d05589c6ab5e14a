"""Choosing a vocabulary: compression on the user's own text and the embedding cost of each vocabulary size.

``analyze(tok, texts)`` measures how well a tokenizer compresses text; ``vocab_sweep(...)`` trains once at the
largest size, derives each smaller tokenizer by truncating the merges (BPE merges are nested: the first ``k`` merges
of a longer training are exactly the merges of a training that stops at ``k``, since each step depends only on the
previous ones), measures compression on held-out text per language, and adds the embedding parameters, their share
of a model's total and their memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._core import BytepairError

if TYPE_CHECKING:  # pragma: no cover
    from .config import ModelConfig
    from .tokenizer import Tokenizer

Texts = str | Iterable[str]


@dataclass(frozen=True)
class Compression:
    """Compression figures of a tokenizer on some text.

    Attributes:
        name: The text's name (language), or ``"all"``.
        n_bytes: UTF-8 bytes. n_chars: characters (code points). n_tokens: tokens (``encode_ordinary``).
        n_words: whitespace-separated words (``str.split()``). n_lines: lines (``str.splitlines()``).
        ids_used: distinct token ids seen.
    """

    name: str
    n_bytes: int
    n_chars: int
    n_tokens: int
    n_words: int
    n_lines: int
    ids_used: int

    @property
    def bytes_per_token(self) -> float:
        """UTF-8 bytes per token (higher = better compression)."""
        return self.n_bytes / self.n_tokens

    @property
    def chars_per_token(self) -> float:
        """Characters per token."""
        return self.n_chars / self.n_tokens

    @property
    def tokens_per_word(self) -> float:
        """Tokens per whitespace-separated word (``nan`` without words, e.g. Chinese or Japanese text)."""
        return self.n_tokens / self.n_words if self.n_words else math.nan

    @property
    def tokens_per_line(self) -> float:
        """Tokens per line."""
        return self.n_tokens / self.n_lines if self.n_lines else math.nan


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyze`.

    Attributes:
        overall: Figures over all the text.
        by_name: Figures per named text (when texts were given as a mapping).
        vocab_size: Mergeable tokens of the tokenizer (``n_vocab`` minus special tokens and unassigned ids).
        unseen_ids: Ids of mergeable tokens never produced on this text, sorted.
    """

    overall: Compression
    by_name: dict[str, Compression]
    vocab_size: int
    unseen_ids: list[int] = field(repr=False)

    @property
    def vocab_used_share(self) -> float:
        """Share of the mergeable vocabulary seen at least once, 0..1."""
        return 1 - len(self.unseen_ids) / self.vocab_size

    def table(self) -> str:
        """A plain-text table, one row per text and one for all of it."""
        rows = [*self.by_name.values(), self.overall] if self.by_name else [self.overall]
        head = f"{'text':<24} {'bytes':>12} {'tokens':>11} {'bytes/tok':>9} {'chars/tok':>9} {'tok/word':>8} {'tok/line':>8}"
        lines = [head, "-" * len(head)]
        for c in rows:
            lines.append(
                f"{c.name[:24]:<24} {c.n_bytes:>12,} {c.n_tokens:>11,} {c.bytes_per_token:>9.3f} "
                f"{c.chars_per_token:>9.3f} {c.tokens_per_word:>8.3f} {c.tokens_per_line:>8.2f}"
            )
        lines.append(
            f"vocabulary used: {self.vocab_size - len(self.unseen_ids):,} of {self.vocab_size:,} mergeable tokens "
            f"({100 * self.vocab_used_share:.1f}%); never seen: {len(self.unseen_ids):,}"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _as_texts(texts: Texts, what: str) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{what}: item {i} is of type {type(t).__name__}, expected str")
        out.append(t)
    return out


def _measure(tok: Tokenizer, name: str, texts: list[str], seen: np.ndarray) -> Compression:
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    if n_bytes == 0:
        raise BytepairError(f"no text to analyze for {name!r}: compression of empty text is undefined")
    ids, _ = tok.encode_batch_to_numpy(texts, disallowed_special=())
    local = np.zeros_like(seen)
    local[ids] = True
    seen |= local
    return Compression(
        name=name,
        n_bytes=n_bytes,
        n_chars=sum(len(t) for t in texts),
        n_tokens=len(ids),
        n_words=sum(len(t.split()) for t in texts),
        n_lines=sum(len(t.splitlines()) for t in texts),
        ids_used=int(local.sum()),
    )


def analyze(tok: Tokenizer, texts: Texts | Mapping[str, Texts]) -> Analysis:
    """Compression figures of ``tok`` on ``texts`` (special-token text is encoded as plain text).

    Args:
        tok: the tokenizer.
        texts: a str, an iterable of str, or a mapping ``{name: str or iterable of str}`` for per-language figures.

    Returns:
        An :class:`Analysis`: bytes, characters, words and lines per token, the share of the vocabulary used and the
        ids never seen.

    Raises:
        BytepairError: empty text (compression would divide by zero), naming which.
        TypeError: items that are not str.
    """
    special = set(tok.special_tokens.values())
    mergeable = [i for i in tok.vocab if i not in special]
    # sized by the mergeable ids (a special token's id may be near 2**32; special-token text is encoded as plain text)
    seen = np.zeros(max(mergeable, default=-1) + 1, dtype=bool)
    by_name: dict[str, Compression] = {}
    if isinstance(texts, Mapping):
        if not texts:
            raise BytepairError("no text to analyze: the mapping of texts is empty")
        groups = {str(k): _as_texts(v, f"texts[{k!r}]") for k, v in texts.items()}
        for k, v in groups.items():
            by_name[k] = _measure(tok, k, v, seen)
        keys = ("n_bytes", "n_chars", "n_tokens", "n_words", "n_lines")
        sums = {key: sum(getattr(c, key) for c in by_name.values()) for key in keys}
        overall = Compression(name="all", ids_used=int(seen.sum()), **sums)
    else:
        overall = _measure(tok, "all", _as_texts(texts, "texts"), seen)
    unseen = [i for i in mergeable if not seen[i]]
    return Analysis(overall=overall, by_name=by_name, vocab_size=len(mergeable), unseen_ids=unseen)


def truncate(tok: Tokenizer, vocab_size: int) -> Tokenizer:
    """The tokenizer made of the first merges of ``tok`` (trained by bytepair), sized ``vocab_size`` ids in all
    (256 bytes + merges + the same special tokens, which get the ids right after the merges).

    Because BPE training is greedy and each merge depends only on the merges before it, this equals training with
    ``vocab_size`` directly on the same data (tested).

    Raises:
        BytepairError: ``vocab_size`` smaller than 256 + specials, or larger than ``tok``'s.
    """
    from .tokenizer import Tokenizer

    specials = list(tok.special_tokens)
    n_merged = vocab_size - 256 - len(specials)
    if n_merged < 0:
        raise BytepairError(f"vocab_size={vocab_size} is smaller than 256 + {len(specials)} special token(s)")
    vocab = tok.vocab
    special_ids = set(tok.special_tokens.values())
    regular = {i: b for i, b in vocab.items() if i not in special_ids}
    if vocab_size > len(regular) + len(specials):
        raise BytepairError(f"vocab_size={vocab_size} is larger than the tokenizer's {len(regular) + len(specials)}")
    keep = {i: b for i, b in regular.items() if i < 256 + n_merged}
    produced = set(keep.values())
    merges = []
    for a, b in tok.merges:
        if a + b not in produced:
            break
        merges.append((a, b))
    sp = {t: 256 + n_merged + k for k, t in enumerate(specials)}
    return Tokenizer(keep, merges, sp, pattern=tok.pattern)


@dataclass(frozen=True)
class SweepRow:
    """One vocabulary size of a sweep.

    Attributes:
        vocab_size: ids in all. bytes_per_token: on all held-out text. by_name: bytes per token per language.
        embedding_params: parameters of the token tables (input, plus output when untied); None without a model.
        embedding_share: their share of the model's total, 0..1. embedding_bytes: their memory at the dtype.
        total_params: the model's total at this vocab size.
    """

    vocab_size: int
    bytes_per_token: float
    by_name: dict[str, float]
    embedding_params: int | None = None
    embedding_share: float | None = None
    embedding_bytes: int | None = None
    total_params: int | None = None


@dataclass(frozen=True)
class Sweep:
    """The result of :func:`vocab_sweep`: one :class:`SweepRow` per vocabulary size."""

    rows: list[SweepRow]
    model_name: str | None
    dtype: str

    def table(self) -> str:
        """A plain-text table."""
        names = list(self.rows[0].by_name) if self.rows else []
        head = f"{'vocab':>8} {'bytes/tok':>9}" + "".join(f" {n[:10]:>10}" for n in names)
        if self.model_name:
            head += f" {'emb params':>14} {'emb share':>9} {'emb GiB':>8}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            line = f"{r.vocab_size:>8,} {r.bytes_per_token:>9.3f}" + "".join(f" {r.by_name[n]:>10.3f}" for n in names)
            if self.model_name and r.embedding_params is not None:
                line += (
                    f" {r.embedding_params:>14,} {100 * (r.embedding_share or 0):>8.2f}%"
                    f" {(r.embedding_bytes or 0) / 2**30:>8.3f}"
                )
            lines.append(line)
        if self.model_name:
            lines.append(f"model: {self.model_name}, embedding memory at {self.dtype}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def plot(self, path: str | Any) -> None:
        """Writes a PNG: held-out bytes per token (left axis) and embedding share (right axis) against vocab size.

        Raises:
            ImportError: matplotlib is not installed (``pip install 'bytepair[plot]'``).
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Sweep.plot needs matplotlib: pip install 'bytepair[plot]'") from None
        fig = Figure(figsize=(7, 4.2))
        ax = fig.subplots()
        xs = [r.vocab_size for r in self.rows]
        ax.plot(xs, [r.bytes_per_token for r in self.rows], "o-", label="all held-out text", color="black")
        for n in self.rows[0].by_name if self.rows else []:
            ax.plot(xs, [r.by_name[n] for r in self.rows], ".--", label=n, alpha=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("vocab size")
        ax.set_ylabel("bytes per token (held out)")
        ax.legend(loc="upper left", fontsize=8)
        if self.model_name and self.rows and self.rows[0].embedding_share is not None:
            ax2 = ax.twinx()
            ax2.plot(xs, [100 * (r.embedding_share or 0) for r in self.rows], "s-", color="tab:red")
            ax2.set_ylabel(f"embedding share of {self.model_name} (%)", color="tab:red")
        ax.set_title("Compression vs embedding cost")
        fig.tight_layout()
        fig.savefig(path, dpi=120)


def _model(model: str | ModelConfig | None) -> tuple[ModelConfig | None, str | None]:
    if model is None:
        return None, None
    from .catalog import models
    from .config import ModelConfig

    if isinstance(model, ModelConfig):
        return model, getattr(model, "name", None) or "model"
    if isinstance(model, str):
        if model not in models:
            raise BytepairError(f"unknown model {model!r}; the catalog has: {', '.join(sorted(models))}")
        return models[model], model
    raise TypeError(f"model must be a catalog name or a ModelConfig, got {type(model).__name__}")


def vocab_sweep(
    data: Any,
    vocab_sizes: Sequence[int],
    *,
    held_out: Texts | Mapping[str, Texts],
    pattern: str = "cl100k",
    special_tokens: Sequence[str] = (),
    model: str | ModelConfig | None = None,
    dtype: str = "bf16",
    num_threads: int | None = None,
    progress: bool = False,
) -> Sweep:
    """Compression and embedding cost for several vocabulary sizes.

    Trains once at ``max(vocab_sizes)`` on ``data`` and truncates the merges for each smaller size (see
    :func:`truncate`), then measures bytes per token on ``held_out`` (per language when it is a mapping). With a
    ``model`` (catalog name or :class:`ModelConfig`), each row adds the token-table parameters at that vocab size
    (input table, plus the output head when untied), their share of the model's total, and their memory at
    ``dtype`` (bytes = parameters × bytes per parameter; fp32 4, fp16/bf16 2, fp8/int8 1).

    Args:
        data: training data, as for :meth:`Tokenizer.train`.
        vocab_sizes: the sizes to compare (ids in all, specials included).
        held_out: text not in ``data``.
        pattern, special_tokens, num_threads, progress: as for :meth:`Tokenizer.train`.
        model: a name in ``bp.models`` or a ``ModelConfig``.
        dtype: for the embedding memory: ``fp32``, ``fp16``, ``bf16``, ``fp8`` or ``int8``.

    Returns:
        A :class:`Sweep` (``.table()``, ``.plot(path)``).

    Raises:
        BytepairError: no sizes, a size too small, empty held-out text, an unknown model or dtype.
    """
    from .params import count_parameters
    from .tokenizer import Tokenizer

    sizes = sorted(set(vocab_sizes))
    if not sizes:
        raise BytepairError("vocab_sizes is empty")
    bytes_per = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}
    if dtype not in bytes_per:
        raise BytepairError(f"dtype must be one of {sorted(bytes_per)}, got {dtype!r}")
    cfg, model_name = _model(model)
    big = Tokenizer.train(
        data, sizes[-1], pattern=pattern, special_tokens=special_tokens, num_threads=num_threads, progress=progress
    )
    rows = []
    for v in sizes:
        tok = big if v == big.n_vocab else truncate(big, min(v, big.n_vocab))
        a = analyze(tok, held_out)
        row: dict[str, Any] = {
            "vocab_size": v,
            "bytes_per_token": a.overall.bytes_per_token,
            "by_name": {k: c.bytes_per_token for k, c in a.by_name.items()},
        }
        if cfg is not None:
            p = count_parameters(cfg.replace(vocab_size=v))
            emb = p.embedding + p.lm_head
            row.update(
                embedding_params=emb,
                embedding_share=emb / p.total,
                embedding_bytes=emb * bytes_per[dtype],
                total_params=p.total,
            )
        rows.append(SweepRow(**row))
    return Sweep(rows=rows, model_name=model_name, dtype=dtype)
