"""Token shards for model training: text files -> ``.npy`` arrays of token ids (``Tokenizer.encode_file`` and
``bytepair encode FILES... --out DIR``).

Files are read as bytes in blocks, decoded incrementally (an invalid byte is reported with the file and its byte
offset), cut at points no pre-token crosses (see ``tokenizer._last_safe_cut``), and encoded in parallel with the GIL
released; ids are streamed into ``.npy`` files whose header is written last, so memory stays bounded whatever the
corpus size. The ids equal those of encoding each whole file.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._core import BytepairError, DisallowedSpecialError

if TYPE_CHECKING:  # pragma: no cover
    from .tokenizer import PathLike, SpecialSet, Tokenizer

_READ_BYTES = 4 << 20
_BLOCK_CHARS = 2 << 20
_BATCH_CHARS = 16 << 20
_HEADER_LEN = 128  # bytes of .npy header (magic + version + length + dict), fixed so it can be rewritten


def choose_dtype(n_vocab: int, dtype: str | None) -> np.dtype:
    """``uint16`` when every id fits (``n_vocab <= 65536``), else ``uint32``; a given dtype is checked."""
    if dtype is None:
        return np.dtype(np.uint16 if n_vocab <= 1 << 16 else np.uint32)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise BytepairError(f"dtype must be 'uint16' or 'uint32', got {dtype!r}") from None
    if dt not in (np.dtype(np.uint16), np.dtype(np.uint32)):
        raise BytepairError(f"dtype must be 'uint16' or 'uint32', got {dtype!r}")
    if dt == np.uint16 and n_vocab > 1 << 16:
        raise BytepairError(f"dtype uint16 cannot hold ids up to {n_vocab - 1} (n_vocab = {n_vocab}); use uint32")
    return dt


class NpyWriter:
    """Appends 1-D arrays to a ``.npy`` file; the header (with the final length) is written on :meth:`close`."""

    def __init__(self, path: PathLike, dtype: np.dtype) -> None:
        self.path = Path(path)
        self.dtype = dtype
        self.count = 0
        self._f = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._f.write(b"\0" * _HEADER_LEN)

    def write(self, ids: np.ndarray) -> None:
        self._f.write(np.ascontiguousarray(ids, dtype=self.dtype).tobytes())
        self.count += len(ids)

    def close(self) -> None:
        header = repr({"descr": self.dtype.str, "fortran_order": False, "shape": (self.count,)}).encode("latin1")
        prefix = b"\x93NUMPY\x01\x00"
        pad = _HEADER_LEN - len(prefix) - 2 - len(header) - 1
        full = prefix + (_HEADER_LEN - len(prefix) - 2).to_bytes(2, "little") + header + b" " * pad + b"\n"
        self._f.seek(0)
        self._f.write(full)
        self._f.close()


def read_blocks(path: Path, block_chars: int = _BLOCK_CHARS, cut: int = 2) -> Iterator[tuple[int, str]]:
    """Yields ``(character offset, text)`` blocks of a UTF-8 file whose concatenation is the whole text and whose
    boundaries are safe cut points (``tokenizer._last_safe_cut`` with mode ``cut``, in any script), so memory is
    bounded by a few blocks. With ``cut=0`` (a custom pattern, or special tokens with spaces or line breaks) the
    file is one block; so is a stretch of text with no safe point, until its end.

    Raises:
        BytepairError: invalid UTF-8 (names the file and the byte offset).
    """
    from .tokenizer import _cut_stream

    def texts() -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        consumed = 0
        with open(path, "rb") as f:
            while True:
                data = f.read(_READ_BYTES)
                pending = decoder.getstate()[0]
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError as e:
                    offset = consumed - len(pending) + e.start
                    raise BytepairError(f"{path}: invalid UTF-8 at byte offset {offset}") from None
                yield text
                consumed += len(data)
                if not data:
                    return

    return _cut_stream(texts(), cut, block_chars)


def _offset_in_file(message: str, batch: list[tuple[int, str]]) -> str:
    """The core's message for a disallowed special token in one of ``batch``'s blocks, with the offset in the
    block turned into the offset in the file (the first block, in order, that holds the token at that offset is
    the one the core reports)."""
    from .tokenizer import _shift_offset

    m = re.search(r'special token "(.*?)" at character offset (\d+)', message)
    if m is None:
        return message
    for start, text in batch:
        if text.startswith(m.group(1), int(m.group(2))):
            return _shift_offset(message, start)
    return message


def _progress(enabled: bool, total: int) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc="encoding", file=sys.stderr, leave=False)


def encode_files(
    tok: Tokenizer,
    srcs: Sequence[PathLike],
    dst: PathLike,
    *,
    dtype: str | None = None,
    separator: str | None = None,
    allowed_special: SpecialSet = frozenset(),
    disallowed_special: SpecialSet = "all",
    num_threads: int | None = None,
    progress: bool = False,
    single_file: bool = False,
    shard_tokens: int = 100_000_000,
) -> dict[str, Any]:
    """Encodes text files into token shards. Each file is a document; ``separator`` (a special token) follows each.

    With ``single_file`` ``dst`` is the ``.npy`` path; otherwise ``dst`` is a directory that receives
    ``shard_00000.npy``, ... of at most ``shard_tokens`` tokens each (documents may span shards) and ``manifest.json``
    (shards, token counts, dtype, the tokenizer's ``n_vocab``, pattern and special tokens).

    Returns:
        Summary: ``tokens``, ``bytes``, ``documents``, ``seconds``, ``dtype``, ``paths``.
    """
    from .counts import _check_threads
    from .tokenizer import _cut_mode

    dt = choose_dtype(tok.n_vocab, dtype)
    num_threads = _check_threads(num_threads)
    allowed, _ = tok._special_args(allowed_special, disallowed_special)
    for name in allowed or ():
        if name not in tok.special_tokens:
            raise BytepairError(f"allowed_special: {name!r} is not a special token of this tokenizer")
    sep: list[int] = []
    if separator is not None:
        if separator not in tok.special_tokens:
            raise BytepairError(
                f"separator {separator!r} is not a special token of this tokenizer "
                f"(special tokens: {sorted(tok.special_tokens)})"
            )
        sep = [tok.special_tokens[separator]]
    if isinstance(shard_tokens, bool) or not isinstance(shard_tokens, (int, np.integer)) or shard_tokens < 1:
        raise BytepairError(f"shard_tokens must be an int >= 1, got {shard_tokens!r}")
    paths = [Path(p) for p in srcs]
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"input file not found: {p}")
    out_dir = Path(dst)
    if single_file and out_dir.exists() and any(os.path.samefile(p, out_dir) for p in paths):
        raise BytepairError(f"the output {out_dir} is one of the input files")
    if single_file and out_dir.is_dir():
        raise BytepairError(f"the output {out_dir} is a directory; give the path of the .npy file to write")
    if single_file and not out_dir.parent.is_dir():
        raise FileNotFoundError(f"the directory of the output does not exist: {out_dir.parent}")
    if not single_file and out_dir.exists() and not out_dir.is_dir():
        raise BytepairError(f"the output {out_dir} exists and is not a directory")
    cut = _cut_mode(tok.pattern, tok.special_tokens)
    total_bytes = sum(p.stat().st_size for p in paths)
    counts: list[int] = []
    t0 = time.perf_counter()

    # Everything is written under temporary names and moved into place only when complete: a failure (bad UTF-8,
    # a disallowed special token, Ctrl-C) leaves the destination as it was, never a valid-looking partial shard.
    if single_file:
        work = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
        current = NpyWriter(work, dt)
    else:
        created = not out_dir.exists()
        out_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".shards-", dir=out_dir))
        current = NpyWriter(work / "shard_00000.npy", dt)
    out_paths: list[Path] = [current.path]

    def emit(ids: np.ndarray) -> None:
        nonlocal current
        start = 0
        while start < len(ids):
            if single_file:
                room = len(ids)
            else:
                room = shard_tokens - current.count
                if room == 0:
                    current.close()
                    counts.append(current.count)
                    current = NpyWriter(work / f"shard_{len(out_paths):05d}.npy", dt)
                    out_paths.append(current.path)
                    room = shard_tokens
            current.write(ids[start : start + room])
            start += room

    bar = _progress(progress, total_bytes)
    n_tokens = 0
    ok = False
    try:
        for p in paths:
            batch: list[tuple[int, str]] = []
            size = 0

            def flush(batch: list[tuple[int, str]]) -> int:
                try:
                    ids, _ = tok.encode_batch_to_numpy(
                        [t for _, t in batch], num_threads=num_threads, allowed_special=allowed_special,
                        disallowed_special=disallowed_special,
                    )
                except DisallowedSpecialError as e:
                    raise DisallowedSpecialError(_offset_in_file(str(e), batch)) from None
                emit(ids)
                if bar is not None:
                    bar.update(sum(len(t.encode("utf-8")) for _, t in batch))
                return len(ids)

            try:
                for block in read_blocks(p, cut=cut):
                    batch.append(block)
                    size += len(block[1])
                    if size >= _BATCH_CHARS:
                        n_tokens += flush(batch)
                        batch, size = [], 0
                if batch:
                    n_tokens += flush(batch)
            except BytepairError as e:
                raise type(e)(f"{p}: {e}" if str(p) not in str(e) else str(e)) from None
            if sep:
                emit(np.asarray(sep, dtype=dt))
                n_tokens += 1
        ok = True
    finally:
        current.close()
        counts.append(current.count)
        if bar is not None:
            bar.close()
        if not ok:
            if single_file:
                work.unlink(missing_ok=True)
            else:
                shutil.rmtree(work, ignore_errors=True)
                if created:
                    shutil.rmtree(out_dir, ignore_errors=True)
    if single_file:
        os.replace(work, out_dir)
        out_paths = [out_dir]
    else:
        # the manifest is written beside the new shards first; then the shards of an earlier run into this
        # directory go (so that shard_*.npy is exactly this run's), the new ones move in, and the manifest last
        manifest = {
            "shards": [{"path": p.name, "tokens": c} for p, c in zip(out_paths, counts)],
            "tokens": n_tokens,
            "dtype": dt.name,
            "n_vocab": tok.n_vocab,
            "pattern": tok.pattern,
            "special_tokens": tok.special_tokens,
            "separator": separator,
            "sources": [os.fspath(p) for p in paths],
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        for old in out_dir.glob("shard_*.npy"):
            old.unlink()
        final = []
        for q in out_paths:
            os.replace(q, out_dir / q.name)
            final.append(out_dir / q.name)
        os.replace(work / "manifest.json", out_dir / "manifest.json")
        work.rmdir()
        out_paths = final
    seconds = time.perf_counter() - t0
    summary: dict[str, Any] = {
        "tokens": n_tokens,
        "bytes": total_bytes,
        "documents": len(paths),
        "seconds": seconds,
        "dtype": dt.name,
        "paths": [str(p) for p in out_paths],
    }
    if single_file:
        summary["path"] = str(out_paths[0])
    return summary
