"""Ctrl-C (SIGINT) stops training and batch encoding promptly with KeyboardInterrupt: never a hang (DESIGN §4).

Each case runs in a child process that signals when the long call has started; the test then sends SIGINT and
requires the child to exit with a KeyboardInterrupt traceback well before the work could have finished."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")

# Each child starts from SIGINT's default Python handling, whatever it inherited: a parent process that ignores or
# blocks SIGINT (a test harness, another library) passes that on through fork and exec, and the child would then
# never see the signal. That bytepair itself never changes SIGINT's handling is checked in-process below.
CHILD_PREAMBLE = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
"""

COUNTING = CHILD_PREAMBLE + """
import itertools, random, sys
import bytepair as bp
rng = random.Random(0)
def docs():
    for i in itertools.count():
        if i == 10:
            print("started", flush=True)
        yield " ".join("".join(rng.choices("abcdefgh", k=rng.randint(1, 12))) for _ in range(2000))
bp.Tokenizer.train(docs(), 5000)
"""

MERGING = CHILD_PREAMBLE + """
import random, sys
import bytepair as bp
rng = random.Random(0)
docs = [" ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(5, 30))) for _ in range(20000))
        for _ in range(40)]
started = []
def progress(done, total):
    if not started:
        started.append(1)
        print("started", flush=True)
counts = bp.count_pretokens(docs)
counts._core.train(2_000_000, [], 1, None, progress)  # Tokenizer.train_from_counts with a callback
"""

BATCH = CHILD_PREAMBLE + """
import random, sys
import bytepair as bp
rng = random.Random(0)
text = " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(1, 20))) for _ in range(6000))
tok = bp.Tokenizer.train([text[:200000]], 1000)
texts = [text] * 200_000  # ~15 GB of text to encode: minutes of work unless Ctrl-C stops it
print("started", flush=True)
tok.encode_ordinary_batch(texts)
"""


@pytest.mark.parametrize("script", [COUNTING, MERGING, BATCH], ids=["counting", "merging", "batch-encode"])
def test_sigint_raises_keyboard_interrupt_promptly(script):
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.strip() == "started", proc.stderr.read() if proc.stderr else ""
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0, f"the child was not interrupted; this process's SIGINT state: {sigint_state()}"
    assert "KeyboardInterrupt" in err, err[-2000:]


def sigint_state() -> tuple[object, bool]:
    """This thread's SIGINT handler, and whether SIGINT is blocked in its signal mask."""
    return signal.getsignal(signal.SIGINT), signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_library_leaves_sigint_handling_alone():
    # Ctrl-C must keep working in the user's process: training, counting and batch encoding (which run Rust
    # threads and release the GIL) leave the main thread's SIGINT handler and signal mask as they found them.
    import bytepair as bp

    before = sigint_state()
    docs = ["the quick brown fox jumps over the lazy dog " * 50] * 20
    counts = bp.count_pretokens(docs, num_threads=2)
    tok = bp.Tokenizer.train_from_counts(counts, 300)
    tok.encode_ordinary_batch(docs, num_threads=2)
    bp.Tokenizer.train(docs, 280, num_threads=2)
    assert sigint_state() == before
