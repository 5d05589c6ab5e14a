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

COUNTING = """
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

MERGING = """
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

BATCH = """
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
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err, err[-2000:]
