"""Counting and encoding on Ray (issue 9), on a local Ray instance with 2 CPUs.

* ``count_pretokens_ray`` over corpus files (and over a dataset of documents) equals ``count_pretokens``; the merges
  trained from it are identical.
* ``encode_dataset_ray`` shards concatenate to exactly ``encode_file``'s output per file; a rerun after deleting or
  truncating a shard, or after a run stopped after N shards, gives the same shards.
* An undecodable file raises on the driver, naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import bytepair as bp
import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'bytepair[ray]')")
pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install 'bytepair[ray]')")

from bytepair.distributed import count_pretokens_ray, encode_dataset_ray, tokenizer_fingerprint

SPECIAL = "<|endoftext|>"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def files(shared_dir) -> list[Path]:
    """The multilingual corpus and two English books: ~10 MB, every script the corpus has."""
    corpus = shared_dir / "corpus"
    multi = sorted((corpus / "multi").glob("*.txt"))
    en = [corpus / "en" / "austen_pride_and_prejudice.txt", corpus / "en" / "doyle_adventures_of_sherlock_holmes.txt"]
    return multi + en


@pytest.fixture(scope="module")
def tok(files) -> bp.Tokenizer:
    return bp.Tokenizer.train(files[:3], 2000, special_tokens=[SPECIAL])


def _concat(out_dir: Path) -> np.ndarray:
    manifest = json.loads((out_dir / "manifest.json").read_text())
    return np.concatenate([np.load(out_dir / s["path"]) for s in manifest["shards"]])


# ----------------------------------------------------------------------------------------------------- counting
def test_count_equals_single_process_and_merges_are_identical(files):
    local = bp.count_pretokens(files, special_tokens=[SPECIAL])
    # one block per file and a binary merge tree: several levels of merging
    remote = count_pretokens_ray(files, special_tokens=[SPECIAL], num_blocks=len(files), fan_in=2)
    assert remote == local
    assert remote.total == local.total and len(remote) == len(local)
    a = bp.Tokenizer.train_from_counts(remote, 3000)
    b = bp.Tokenizer.train(files, 3000, special_tokens=[SPECIAL])
    assert a.merges == b.merges
    assert a == b


def test_count_a_dataset_of_documents_and_a_directory(files, tmp_path):
    docs = [p.read_text(encoding="utf-8") for p in files[:4]]
    ds = ray.data.from_items([{"text": d} for d in docs])
    assert count_pretokens_ray(ds, pattern="gpt2") == bp.count_pretokens(docs, pattern="gpt2")
    d = tmp_path / "dir"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("hello world, hello", encoding="utf-8")
    (d / "sub" / "b.txt").write_text("world <|endoftext|> again", encoding="utf-8")
    got = count_pretokens_ray(d, special_tokens=[SPECIAL])
    assert got == bp.count_pretokens([d / "a.txt", d / "sub" / "b.txt"], special_tokens=[SPECIAL])
    with pytest.raises(bp.BytepairError, match="no column 'body'"):
        count_pretokens_ray(ds, text_column="body")


# ----------------------------------------------------------------------------------------------------- encoding
def test_encode_shards_concatenate_to_encode_file(files, tok, tmp_path):
    expected = []
    for i, p in enumerate(files):
        tok.encode_file(p, tmp_path / f"ref{i}.npy", separator=SPECIAL)
        expected.append(np.load(tmp_path / f"ref{i}.npy"))
    ref = np.concatenate(expected)

    out = tmp_path / "shards"
    summary = encode_dataset_ray(tok, files, out, separator=SPECIAL, shard_bytes=1_500_000)
    assert summary["complete"] and summary["skipped"] == 0 and summary["shards"] >= 4
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fingerprint"] == tokenizer_fingerprint(tok) and manifest["complete"]
    assert manifest["dtype"] == "uint16" and manifest["tokens"] == len(ref) == summary["tokens"]
    for s in manifest["shards"]:
        assert len(np.load(out / s["path"])) == s["tokens"]
    assert [f for s in manifest["shards"] for f in s["sources"]] == [str(p) for p in files]
    got = _concat(out)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, ref)

    # a dataset of the same documents gives the same ids
    ds = ray.data.from_items([{"text": p.read_text(encoding="utf-8")} for p in files])
    summary = encode_dataset_ray(tok, ds, tmp_path / "ds", separator=SPECIAL, num_shards=3)
    assert summary["shards"] == 3
    np.testing.assert_array_equal(_concat(tmp_path / "ds"), ref)


def test_encode_resumes_after_a_lost_shard_or_a_stopped_run(files, tok, tmp_path):
    out = tmp_path / "shards"
    first = encode_dataset_ray(tok, files, out, shard_bytes=2_000_000)
    ref = _concat(out)
    n = first["shards"]
    assert n >= 3

    # a deleted shard and a truncated one (a crash mid-write that left a bad file) are redone, the rest skipped
    (out / "shard_00001.npy").unlink()
    with open(out / "shard_00002.npy", "r+b") as f:
        f.truncate(f.seek(0, 2) - 10)
    (out / "shard_00000.npy.tmp-deadbeef").write_bytes(b"partial")  # a temporary file left by a killed worker
    again = encode_dataset_ray(tok, files, out, shard_bytes=2_000_000)
    assert again["skipped"] == n - 2 and again["encoded"] == 2 and again["complete"]
    assert not list(out.glob("*.tmp-*"))
    np.testing.assert_array_equal(_concat(out), ref)

    # a run stopped after 2 shards, then resumed
    out2 = tmp_path / "stopped"
    part = encode_dataset_ray(tok, files, out2, shard_bytes=2_000_000, _stop_after=2)
    assert not part["complete"] and part["encoded"] == 2
    assert not json.loads((out2 / "manifest.json").read_text())["complete"]
    rest = encode_dataset_ray(tok, files, out2, shard_bytes=2_000_000)
    assert rest["skipped"] == 2 and rest["encoded"] == n - 2 and rest["complete"]
    np.testing.assert_array_equal(_concat(out2), ref)

    # another tokenizer or other inputs never mix into the directory
    other = bp.Tokenizer.train(files[:1], 600)
    with pytest.raises(bp.BytepairError, match="another run"):
        encode_dataset_ray(other, files, out, shard_bytes=2_000_000)
    with pytest.raises(bp.BytepairError, match="other input files"):
        encode_dataset_ray(tok, files[1:], out, shard_bytes=2_000_000)


# ------------------------------------------------------------------------------------------------------ errors
def test_an_undecodable_file_raises_on_the_driver_naming_it(files, tok, tmp_path):
    bad = tmp_path / "latin1_notes.txt"
    bad.write_bytes("café au lait\n".encode() + b"caf\xe9\n")
    inputs = [files[0], bad]
    with pytest.raises(bp.BytepairError, match=r"latin1_notes\.txt: invalid UTF-8 at byte offset 17"):
        count_pretokens_ray(inputs)
    with pytest.raises(bp.BytepairError, match=r"latin1_notes\.txt.*invalid UTF-8"):
        encode_dataset_ray(tok, inputs, tmp_path / "out")
    # errors="replace" counts it as U+FFFD, like count_pretokens
    assert count_pretokens_ray(inputs, errors="replace") == bp.count_pretokens(inputs, errors="replace")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        count_pretokens_ray([tmp_path / "nope.txt"])


# --------------------------------------------------------------------------------------------------------- CLI
def test_cli_train_and_encode_on_ray(files, tmp_path, capsys):
    from bytepair.cli import main

    tok_path = tmp_path / "tok.bp"
    argv = ["train", *map(str, files[:3]), "--vocab-size", "1000", "--special", SPECIAL, "--out", str(tok_path)]
    assert main([*argv, "--ray", "-q"]) == 0
    local_path = tmp_path / "local.bp"
    assert main([*argv[:-1], str(local_path), "-q"]) == 0
    assert bp.Tokenizer.load(tok_path) == bp.Tokenizer.load(local_path)

    out = tmp_path / "shards"
    args = ["encode", "-t", str(tok_path), *map(str, files[:3]), "--out", str(out), "--separator", SPECIAL]
    assert main([*args, "--ray", "--shard-bytes", "500000", "-q"]) == 0
    assert "on Ray" in capsys.readouterr().out
    ref = tmp_path / "ref"
    assert main([*args[:-4], "--out", str(ref), "--separator", SPECIAL, "-q"]) == 0
    np.testing.assert_array_equal(_concat(out), _concat(ref))
