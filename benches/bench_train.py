"""Training benchmark: bytepair beside rustbpe, Hugging Face tokenizers and bpeasy (issue 4, DESIGN §7).

Each measurement runs in a fresh Python process; the parent reads the child's CPU time from ``os.wait4``, and the
child reports the wall time of the training call (reading the corpus included, imports excluded) and its own peak
RSS (``VmHWM``; the ``ru_maxrss`` a parent sees also counts the parent's RSS at spawn time). Corpora: ``../shared/corpus/en``, ``multi`` and the Python-stdlib code corpus that
``../shared/corpus/make_code_corpus.sh`` writes (into /tmp), at vocab 8,192 and 32,768, all with the cl100k
pre-tokenization pattern; then the scaling run, ``en`` concatenated 20 times into one file in /tmp.

Before timing, bytepair's merges are checked against the plain reference trainer (``tests/reference.py``, the
§3.4 rule) on a sample of each corpus.

    pip install -e '.[bench]'   # rustbpe, tokenizers, bpeasy, matplotlib
    python benches/bench_train.py [--repeat N] [--only en,multi,code] [--vocab 8192,32768] [--no-scaling]

Writes ``benches/results/train.md`` and ``benches/results/train.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("BYTEPAIR_SHARED", ROOT.parent / "shared"))
TMP = Path(os.environ.get("BYTEPAIR_BENCH_TMP", "/tmp/bytepair_bench"))
RESULTS = HERE / "results"

CL100K = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)
TOOLS = ["bytepair", "rustbpe", "tokenizers", "bpeasy"]

# The child: trains one tool on one corpus and prints {"seconds": wall time of reading + training}.
CHILD = r'''
import json, sys, time
from pathlib import Path
tool, vocab, pattern, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
DOC_BYTES = 1 << 16

def docs():
    # Peers take documents: each file cut after a newline every ~64 KB (enough documents for their threads).
    for f in files:
        text = Path(f).read_text(encoding="utf-8")
        start = 0
        while start < len(text):
            end = text.find("\n", start + DOC_BYTES)
            end = len(text) if end < 0 else end + 1
            yield text[start:end]
            start = end

if tool == "bytepair":
    import bytepair as bp
    t0 = time.perf_counter()
    tok = bp.Tokenizer.train([Path(f) for f in files], vocab, pattern=pattern)
    n = tok.n_vocab
elif tool == "rustbpe":
    import rustbpe
    t0 = time.perf_counter()
    tok = rustbpe.Tokenizer()
    tok.train_from_iterator(docs(), vocab, pattern=pattern)
    n = tok.vocab_size
elif tool == "tokenizers":
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    t0 = time.perf_counter()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, min_frequency=0)
    tok.train_from_iterator(docs(), trainer)
    n = tok.get_vocab_size()
elif tool == "bpeasy":
    import bpeasy
    t0 = time.perf_counter()
    ranks = bpeasy.train_bpe(docs(), pattern, 128, vocab)
    n = len(ranks)
else:
    raise SystemExit(f"unknown tool {tool}")
seconds = time.perf_counter() - t0
hwm = None
try:  # this process's own peak (ru_maxrss seen by the parent also counts the parent's RSS at spawn time)
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"seconds": seconds, "n_vocab": n, "hwm_kb": hwm}))
'''


def measure(tool: str, vocab: int, files: list[Path], repeat: int) -> dict[str, float]:
    """Best wall time of ``repeat`` runs (each its own process), with that run's CPU and RSS."""
    runs = [_measure_once(tool, vocab, files) for _ in range(repeat)]
    return min(runs, key=lambda r: r["seconds"])


def _measure_once(tool: str, vocab: int, files: list[Path]) -> dict[str, float]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, tool, str(vocab), CL100K, *map(str, files)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed (exit {proc.returncode}):\n{err[-2000:]}")
    info = json.loads(out.strip().splitlines()[-1])
    if info.get("hwm_kb"):
        rss = info["hwm_kb"] * 1024  # Linux: the child's own VmHWM
    else:
        rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return {"seconds": info["seconds"], "cpu": usage.ru_utime + usage.ru_stime, "rss": rss, "n_vocab": info["n_vocab"]}


def corpora(only: set[str]) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for name in ("en", "multi"):
        if name in only:
            files = sorted((SHARED / "corpus" / name).glob("*.txt"))
            if not files:
                raise SystemExit(f"no corpus at {SHARED / 'corpus' / name}")
            out[name] = files
    if "code" in only:
        code = TMP / "code" / "python_stdlib.txt"
        if not code.exists():
            subprocess.run(["bash", str(SHARED / "corpus" / "make_code_corpus.sh"), str(code)], check=True,
                           stdout=subprocess.DEVNULL)
        out["code"] = [code]
    return out


def check_exact(files: list[Path], sample_bytes: int = 40_000, vocab: int = 256 + 60) -> None:
    """bytepair's merges equal the reference trainer's (§3.4) on the first bytes of each file."""
    sys.path.insert(0, str(ROOT / "tests"))
    import bytepair as bp
    import reference

    docs = [f.read_bytes()[:sample_bytes].decode("utf-8", errors="ignore") for f in files[:3]]
    _, merges = reference.train(docs, vocab, CL100K)
    tok = bp.Tokenizer.train(docs, vocab, pattern="cl100k")
    if tok.merges != merges:
        raise SystemExit(f"bytepair's merges differ from the reference on {files[0].parent.name}: not timing")


def scaling_files() -> tuple[Path, Path]:
    TMP.mkdir(parents=True, exist_ok=True)
    one, twenty = TMP / "en_x1.txt", TMP / "en_x20.txt"
    files = sorted((SHARED / "corpus" / "en").glob("*.txt"))
    if not one.exists():
        one.write_bytes(b"".join(f.read_bytes() for f in files))
    if not twenty.exists() or twenty.stat().st_size != 20 * one.stat().st_size:
        data = one.read_bytes()
        with twenty.open("wb") as f:
            for _ in range(20):
                f.write(data)
    return one, twenty


def mb(files: list[Path]) -> float:
    return sum(f.stat().st_size for f in files) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell (best wall time kept)")
    ap.add_argument("--only", default="en,multi,code")
    ap.add_argument("--vocab", default="8192,32768")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--no-pathological", action="store_true")
    args = ap.parse_args()
    vocabs = [int(v) for v in args.vocab.split(",")]
    tools = [t for t in args.tools.split(",") if t]
    sets = corpora(set(args.only.split(",")))
    load_before = os.getloadavg()

    rows = []
    for name, files in sets.items():
        check_exact(files)
        for vocab in vocabs:
            for tool in tools:
                try:
                    r = measure(tool, vocab, files, args.repeat)
                except (RuntimeError, ValueError, OSError) as e:  # a peer that fails is reported, not fatal
                    print(f"{name:6} {vocab:6} {tool:11} FAILED: {str(e).splitlines()[0]}", file=sys.stderr)
                    continue
                r.update(corpus=name, vocab=vocab, tool=tool, mb=mb(files))
                rows.append(r)
                print(f"{name:6} {vocab:6} {tool:11} {r['seconds']:7.2f} s  cpu {r['cpu']:6.2f} s  "
                      f"{r['mb'] / r['seconds']:6.1f} MB/s  rss {r['rss'] / 1e6:6.0f} MB", flush=True)

    scaling = []
    if not args.no_scaling:
        one, twenty = scaling_files()
        for tool in [t for t in ("bytepair", "rustbpe") if t in tools]:
            for label, f in (("en x1", one), ("en x20", twenty)):
                r = measure(tool, 8192, [f], 1)
                r.update(corpus=label, vocab=8192, tool=tool, mb=mb([f]))
                scaling.append(r)
                print(f"{label:6} {8192:6} {tool:11} {r['seconds']:7.2f} s  cpu {r['cpu']:6.2f} s  "
                      f"{r['mb'] / r['seconds']:6.1f} MB/s  rss {r['rss'] / 1e6:6.0f} MB", flush=True)
    patho = [] if args.no_pathological else pathological()
    load_after = os.getloadavg()
    write_results(rows, scaling, patho, args, load_before, load_after)
    return 0


def pathological() -> list[dict]:
    """bytepair on the worst inputs of issue 4: 20 MB of random letters (one 20 MB pre-token), a single 50 MB line,
    and a file invalid at byte 10,000,000 (the error must name the file and the offset)."""
    import random
    import string

    TMP.mkdir(parents=True, exist_ok=True)
    letters, line, broken = TMP / "letters_20mb.txt", TMP / "line_50mb.txt", TMP / "invalid_at_10000000.txt"
    if not letters.exists():
        rng = random.Random(0)
        with letters.open("w", encoding="ascii") as f:
            for _ in range(20):
                f.write("".join(rng.choices(string.ascii_letters, k=1_000_000)))
    en = b"".join(f.read_bytes() for f in sorted((SHARED / "corpus" / "en").glob("*.txt")))
    if not line.exists():
        flat = en.replace(b"\r", b" ").replace(b"\n", b" ")
        cut = (flat * (50_000_000 // len(flat) + 1))[:50_000_000]
        line.write_bytes(cut.decode("utf-8", errors="ignore").encode("utf-8"))  # no partial character at the end
    if not broken.exists():
        data = bytearray((en * 2)[:20_000_000])
        data[10_000_000] = 0xFF
        broken.write_bytes(bytes(data))
    out = []
    for label, f in (("20 MB random letters, no whitespace", letters), ("one 50 MB line", line)):
        r = measure("bytepair", 8192, [f], 1)
        r.update(input=label, mb=mb([f]))
        out.append(r)
        print(f"{label:40} {r['seconds']:7.2f} s  rss {r['rss'] / 1e6:6.0f} MB", flush=True)
    code = "import bytepair as bp, sys\ntry:\n    bp.count_pretokens(sys.argv[1])\nexcept bp.BytepairError as e:\n    print(e)"
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code, str(broken)], capture_output=True, text=True, check=True)
    message = res.stdout.strip()
    out.append({"input": "invalid UTF-8 at byte 10,000,000", "seconds": time.perf_counter() - t0,
                "message": message, "mb": mb([broken])})
    print(f"invalid file: {message}", flush=True)
    return out


def write_results(rows: list[dict], scaling: list[dict], patho: list[dict], args: argparse.Namespace,
                  load_before: tuple[float, ...], load_after: tuple[float, ...]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    base = {(r["corpus"], r["vocab"]): r for r in rows if r["tool"] == "rustbpe"}
    lines = [
        "# Training benchmark",
        "",
        f"Command: `python benches/bench_train.py --repeat {args.repeat}"
        + (f" --only {args.only}" if args.only != "en,multi,code" else "")
        + (f" --vocab {args.vocab}" if args.vocab != "8192,32768" else "")
        + ("  --no-scaling" if args.no_scaling else "") + "`",
        "",
        (
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; {time.strftime('%Y-%m-%d %H:%M')}."
        ),
        (
            "Each cell is its own process: seconds = wall time of reading the corpus and training (imports excluded; "
            f"best of {args.repeat}), CPU = user + system time of the whole process, RSS = its peak resident memory "
            "(VmHWM). "
            "cl100k pre-tokenization everywhere; bytepair reads the files (streamed), the peers get documents of "
            "~64 KB."
        ),
        "",
        "| corpus | MB | vocab | tool | seconds | CPU s | MB/s | peak RSS MB | time / rustbpe | RSS / rustbpe |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        b = base.get((r["corpus"], r["vocab"]))
        ratio = f"{r['seconds'] / b['seconds']:.2f}" if b else "-"
        rss_ratio = f"{r['rss'] / b['rss']:.2f}" if b else "-"
        lines.append(
            f"| {r['corpus']} | {r['mb']:.1f} | {r['vocab']:,} | {r['tool']} | {r['seconds']:.2f} | {r['cpu']:.2f} | "
            f"{r['mb'] / r['seconds']:.1f} | {r['rss'] / 1e6:.0f} | {ratio} | {rss_ratio} |"
        )
    if scaling:
        lines += ["", "## Scaling: en concatenated 20 times (one file), vocab 8,192", "",
                  "| tool | input | MB | seconds | MB/s | peak RSS MB |", "|---|---|---:|---:|---:|---:|"]
        for r in scaling:
            lines.append(f"| {r['tool']} | {r['corpus']} | {r['mb']:.0f} | {r['seconds']:.2f} | "
                         f"{r['mb'] / r['seconds']:.1f} | {r['rss'] / 1e6:.0f} |")
        by = {(r["tool"], r["corpus"]): r for r in scaling}
        for tool in ("bytepair", "rustbpe"):
            if (tool, "en x1") in by and (tool, "en x20") in by:
                a, z = by[(tool, "en x1")], by[(tool, "en x20")]
                lines.append(f"\n{tool}: 20x the data took {z['seconds'] / a['seconds']:.1f}x the time and "
                             f"{z['rss'] / a['rss']:.2f}x the peak memory.")
    if patho:
        lines += ["", "## Pathological inputs (bytepair, vocab 8,192)", "",
                  "| input | MB | seconds | peak RSS MB | result |", "|---|---:|---:|---:|---|"]
        for r in patho:
            rss = f"{r['rss'] / 1e6:.0f}" if "rss" in r else "-"
            result = f"error: `{r['message']}`" if "message" in r else f"{r['n_vocab']:,} tokens"
            lines.append(f"| {r['input']} | {r['mb']:.0f} | {r['seconds']:.2f} | {rss} | {result} |")
    (RESULTS / "train.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "train.json").write_text(json.dumps({"rows": rows, "scaling": scaling, "pathological": patho},
                                                   indent=1), encoding="utf-8")
    plot(rows)
    print(f"wrote {RESULTS / 'train.md'}")


def plot(rows: list[dict]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        print("matplotlib not installed: no chart", file=sys.stderr)
        return
    cells = sorted({(r["corpus"], r["vocab"]) for r in rows}, key=lambda c: (["en", "multi", "code"].index(c[0])
                                                                            if c[0] in ("en", "multi", "code")
                                                                            else 9, c[1]))
    tools = [t for t in TOOLS if any(r["tool"] == t for r in rows)]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / max(len(tools), 1)
    for i, tool in enumerate(tools):
        secs = [next((r["seconds"] for r in rows if (r["corpus"], r["vocab"]) == c and r["tool"] == tool), 0)
                for c in cells]
        rss = [next((r["rss"] / 1e6 for r in rows if (r["corpus"], r["vocab"]) == c and r["tool"] == tool), 0)
               for c in cells]
        xs = [j + (i - (len(tools) - 1) / 2) * width for j in range(len(cells))]
        bars = ax.bar(xs, secs, width, label=tool)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
        ax2.bar(xs, rss, width, label=tool)
    labels = [f"{c}\n{v // 1024}k" for c, v in cells]
    ax.set_xticks(range(len(cells)), labels)
    ax2.set_xticks(range(len(cells)), labels)
    ax.set_ylabel("training time, s (lower is better)")
    ax2.set_ylabel("peak RSS, MB (lower is better)")
    ax.set_title("BPE training time (cl100k pattern, 2 cores)")
    ax2.set_title("Peak memory")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "train.png", dpi=120)


if __name__ == "__main__":
    sys.exit(main())
