"""Counting and encoding on a Ray cluster (``pip install 'bytepair[ray]'``): the same results as one machine, faster.

* :func:`count_pretokens_ray` maps the Rust pre-token counter over the blocks of a ``ray.data.Dataset`` (or over
  files read with Ray Data), one partial table per block, and adds the partial tables up in a tree of Ray tasks, so
  the driver only ever receives the final table. ``Tokenizer.train_from_counts`` then trains as usual: the merges are
  exactly those of :func:`bytepair.count_pretokens` on one machine (DESIGN §3.4).
* :func:`encode_dataset_ray` encodes files (or a dataset's text column) in parallel into ``.npy`` token shards, with
  a ``manifest.json`` that records each shard's token count and the tokenizer's fingerprint. A shard is written to a
  temporary name and renamed when complete, so a rerun after a crash skips the complete shards and redoes the rest.

The tokenizer travels once through Ray's object store (pickled: its saved bytes) and is cached per worker process;
count tables travel as their serialized bytes. Works with ``ray.init()`` on a laptop and ``ray.init(address=...)``
on a cluster; with files, every node must see the paths (a shared filesystem), and ``out_dir`` must be shared too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._core import BytepairError, Counts
from .counts import PretokenCounts

if TYPE_CHECKING:  # pragma: no cover
    import ray.data

    from .tokenizer import SpecialSet, Tokenizer

__all__ = ["count_pretokens_ray", "encode_dataset_ray", "tokenizer_fingerprint"]

PathLike = str | os.PathLike[str]

MANIFEST = "manifest.json"
_MERGE_FAN_IN = 8


def _ray() -> Any:
    try:
        import ray
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("bytepair.distributed needs Ray Data: pip install 'bytepair[ray]'") from None
    if not ray.is_initialized():
        ray.init()  # a local instance, or the cluster in RAY_ADDRESS
    return ray


def tokenizer_fingerprint(tok: Tokenizer) -> str:
    """``sha256:<hex>`` of the tokenizer's saved bytes (:meth:`Tokenizer.save`): equal exactly when two tokenizers
    give the same ids."""
    from . import _core

    return "sha256:" + hashlib.sha256(_core.dump_bytepair(tok._core)).hexdigest()


# ----------------------------------------------------------------------------------------------------- inputs
def _is_dataset(obj: object) -> bool:
    try:
        import ray.data
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, ray.data.Dataset)


def _expand_paths(paths: PathLike | Iterable[PathLike]) -> list[str]:
    """Files in the order given; a directory stands for the files under it, recursively, sorted by path. Remote URIs
    (``s3://...``) are passed through to Ray Data unchanged."""
    items: Iterable[PathLike] = [paths] if isinstance(paths, (str, os.PathLike)) else paths
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"expected a path, a list of paths or a ray.data.Dataset, got {type(item).__name__}")
        s = os.fspath(item)
        if "://" in s:
            out.append(s)
            continue
        p = Path(s)
        if p.is_dir():
            out.extend(str(f) for f in sorted(p.rglob("*")) if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            out.append(str(p))
        else:
            raise FileNotFoundError(f"input file not found: {p}")
    if not out:
        raise BytepairError(f"no input files in {paths!r}")
    return out


def _decode(data: bytes | bytearray, path: str, errors: str) -> str:
    try:
        return bytes(data).decode("utf-8", errors)
    except UnicodeDecodeError as e:
        raise BytepairError(f"{path}: invalid UTF-8 at byte offset {e.start}") from None


def _texts_of(batch: dict[str, Any], column: str, errors: str) -> list[str]:
    """The documents of a batch: decoded file contents (``read_binary_files``) or a text column."""
    if "bytes" in batch and column not in batch:
        paths = batch.get("path")
        return [
            _decode(b, str(paths[i]) if paths is not None else f"row {i}", errors) for i, b in enumerate(batch["bytes"])
        ]
    if column not in batch:
        raise BytepairError(f"the dataset has no column {column!r} (columns: {sorted(batch)}); pass text_column=")
    texts = []
    for i, t in enumerate(batch[column]):
        if isinstance(t, (bytes, bytearray)):
            t = _decode(t, f"row {i} of a block", errors)
        elif not isinstance(t, str):
            raise TypeError(f"column {column!r} must hold str (or UTF-8 bytes), got {type(t).__name__}")
        texts.append(t)
    return texts


# --------------------------------------------------------------------------------------------------- counting
def _count_batch(
    batch: dict[str, Any], *, pattern: str, specials: list[str], num_threads: int, errors: str, column: str
) -> dict[str, Any]:
    """Ray Data UDF: one block of documents -> one row holding its serialized partial table."""
    core = Counts(pattern, specials, num_threads, errors, None)
    core.add_texts(_texts_of(batch, column, errors))
    return {"counts": np.array([core.to_bytes()], dtype=object)}


_BLOCK_BYTES = 256 << 20


def _default_blocks(ray: Any, files: list[str]) -> int | None:
    """Blocks of about 256 MB, but at least two per CPU of the cluster (and at most one per file). Every block gives
    a partial table whose size grows with its distinct pre-tokens, not its bytes: few large blocks keep the merge
    work small (one block per small file would make it dominate). None (Ray Data's choice) for remote URIs."""
    if any("://" in f for f in files):
        return None
    total = sum(os.stat(f).st_size for f in files)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(1, min(len(files), max(2 * cpus, math.ceil(total / _BLOCK_BYTES))))


def _merge_parts(*parts: Any) -> bytes:
    """Ray task: adds partial tables (Arrow tables with a ``counts`` column, or bytes from a lower level)."""
    blobs: list[bytes] = []
    for part in parts:
        if isinstance(part, (bytes, bytearray)):
            blobs.append(bytes(part))
        else:
            blobs.extend(part.column("counts").to_pylist())
    total = Counts.from_bytes(blobs[0])
    for blob in blobs[1:]:
        total.merge(Counts.from_bytes(blob))
    return total.to_bytes()


def count_pretokens_ray(
    paths_or_dataset: PathLike | Iterable[PathLike] | ray.data.Dataset,
    *,
    pattern: str = "cl100k",
    special_tokens: Sequence[str] = (),
    errors: str = "strict",
    text_column: str = "text",
    num_cpus_per_task: int = 1,
    num_blocks: int | None = None,
    fan_in: int = _MERGE_FAN_IN,
) -> PretokenCounts:
    """Counts pre-tokens on Ray: the table :func:`bytepair.count_pretokens` gives on one machine, from many.

    Args:
        paths_or_dataset: a file, a directory (its files, recursively, sorted), a list of those (local paths seen by
            every node, or URIs Ray Data reads such as ``s3://...``; each file is one document, like
            ``count_pretokens``), or a ``ray.data.Dataset`` whose ``text_column`` holds the documents.
        pattern: pre-tokenization: ``"gpt2"``, ``"cl100k"``, ``"o200k"`` or a regex.
        special_tokens: strings that split documents and are never counted.
        errors: ``"strict"`` (invalid UTF-8 raises, naming the file and byte offset) or ``"replace"``.
        text_column: the column of documents in a dataset.
        num_cpus_per_task: CPUs per counting task (the Rust counter uses as many threads).
        num_blocks: how many blocks to read files into, each one counting task and one partial table (default:
            blocks of about 256 MB, at least two per CPU, at most one per file).
        fan_in: partial tables added per merge task (the merge tree's branching factor).

    Returns:
        The table, on the driver; train with :meth:`bytepair.Tokenizer.train_from_counts`.

    Raises:
        BytepairError: a bad pattern or special tokens; a file that is not UTF-8 (the message names the file and
            the byte offset), raised on the driver.
        FileNotFoundError: a path that does not exist.
    """
    from .tokenizer import _check_pattern, _check_specials

    if errors not in ("strict", "replace"):
        raise BytepairError(f"errors must be 'strict' or 'replace', got {errors!r}")
    if fan_in < 2:
        raise BytepairError(f"fan_in must be >= 2, got {fan_in}")
    pat = _check_pattern(pattern)
    specials = _check_specials(special_tokens)
    Counts(pat, specials, 1, errors, None)  # check the pattern and specials here, not in every task
    ray = _ray()
    ds: Any
    if _is_dataset(paths_or_dataset):
        ds = paths_or_dataset
    else:
        files = _expand_paths(paths_or_dataset)  # type: ignore[arg-type]
        if num_blocks is None:
            num_blocks = _default_blocks(ray, files)
        ds = ray.data.read_binary_files(files, include_paths=True, override_num_blocks=num_blocks)
    counted = ds.map_batches(
        _count_batch,
        batch_size=None,
        batch_format="numpy",
        zero_copy_batch=True,
        fn_kwargs={
            "pattern": pat, "specials": specials, "num_threads": num_cpus_per_task, "errors": errors,
            "column": text_column,
        },
        num_cpus=num_cpus_per_task,
    )
    counted = _own_context(counted)
    with _worker_errors():
        parts: list[Any] = list(counted.to_arrow_refs())
        if not parts:
            return PretokenCounts._wrap(Counts(pat, specials, None, errors, None))
        merge = ray.remote(_merge_parts).options(num_cpus=1)
        while True:  # a tree: each level adds groups of fan_in tables; only the root comes to the driver
            parts = [merge.remote(*parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
            if len(parts) == 1:
                break
        blob = ray.get(parts[0])
    return PretokenCounts._wrap(Counts.from_bytes(blob))


def _own_context(ds: Any) -> Any:
    """``ds`` with a private copy of its DataContext (the caller's dataset keeps its own), set to keep block order
    and to raise a UDF's own exception on the driver (whose message names the file) rather than a
    UserCodeException without it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # copying the context touches deprecated fields
        ds = type(ds).copy(ds, _deep_copy=True)
    ds.context.raise_original_map_exception = True
    ds.context.execution_options.preserve_order = True
    return ds


@contextlib.contextmanager
def _worker_errors() -> Iterator[None]:
    """Re-raises an exception from a Ray task or a Ray Data UDF on the driver as the original exception type with
    the original message (which names the file), instead of a wrapper with a remote traceback."""
    try:
        yield
    except Exception as exc:
        cause = _root_cause(exc)
        if cause is not exc and isinstance(cause, BytepairError):
            raise type(cause)(str(cause)) from None
        if cause is not exc and isinstance(cause, (OSError, TypeError)):
            raise type(cause)(*cause.args) from None
        raise


def _root_cause(exc: BaseException) -> BaseException:
    """The user-code exception inside Ray's wrappers (RayTaskError, UserCodeException), found through ``cause``
    and ``__cause__`` links."""
    try:
        from ray.exceptions import RayTaskError
    except ImportError:  # pragma: no cover
        return exc
    seen: set[int] = set()
    cur: BaseException = exc
    while id(cur) not in seen:
        seen.add(id(cur))
        nxt: BaseException | None = None
        if isinstance(cur, RayTaskError) and isinstance(getattr(cur, "cause", None), BaseException):
            nxt = cur.cause
        elif cur.__cause__ is not None:
            nxt = cur.__cause__
        if nxt is None:
            break
        cur = nxt
    if isinstance(cur, RayTaskError) or type(cur).__module__.startswith("ray."):
        return exc
    return cur


# --------------------------------------------------------------------------------------------------- encoding
_TOKENIZERS: dict[str, Tokenizer] = {}


def _worker_tokenizer(fingerprint: str, box: list[Any]) -> Tokenizer:
    """The tokenizer, fetched from the object store once per worker process (``box`` holds its ObjectRef, nested so
    Ray does not resolve it for every task)."""
    tok = _TOKENIZERS.get(fingerprint)
    if tok is None:
        import ray

        tok = ray.get(box[0])
        _TOKENIZERS.clear()
        _TOKENIZERS[fingerprint] = tok
    return tok


def _shard_tokens(path: Path, dtype: np.dtype) -> int | None:
    """The token count of a complete shard file, or None when it is missing, truncated or of another dtype."""
    try:
        arr = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError):
        return None
    n = int(arr.shape[0]) if arr.ndim == 1 else -1
    if n < 0 or arr.dtype != dtype:
        return None
    offset = getattr(arr, "offset", None)
    if offset is not None and path.stat().st_size != offset + n * dtype.itemsize:
        return None
    return n


def _write_atomically(path: Path, write: Callable[[Path], int]) -> int:
    tmp = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        n = write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return n


def _encode_files_shard(
    fingerprint: str, box: list[Any], sources: list[str], out: str, opts: dict[str, Any]
) -> int:
    """Ray task: the files of one shard, in order, each followed by the separator, into ``out``."""
    from .shards import encode_files

    tok = _worker_tokenizer(fingerprint, box)

    def write(tmp: Path) -> int:
        summary = encode_files(tok, sources, tmp, single_file=True, **opts)
        return int(summary["tokens"])

    return _write_atomically(Path(out), write)


def _encode_rows_shard(fingerprint: str, box: list[Any], table: Any, out: str, opts: dict[str, Any]) -> int:
    """Ray task: the documents of one dataset block (an Arrow table), each followed by the separator, into ``out``."""
    from .shards import NpyWriter

    tok = _worker_tokenizer(fingerprint, box)
    column, errors, sep = opts["column"], opts["errors"], opts["separator_id"]
    dt = np.dtype(opts["dtype"])

    def write(tmp: Path) -> int:
        w = NpyWriter(tmp, dt)
        try:
            batch_rows = 1024
            for start in range(0, table.num_rows, batch_rows):
                part = table.slice(start, batch_rows)
                batch = {name: part.column(name).to_pylist() for name in part.column_names}
                texts = _texts_of(batch, column, errors)
                ids, offsets = tok.encode_batch_to_numpy(
                    texts, num_threads=opts["num_threads"], allowed_special=opts["allowed_special"],
                    disallowed_special=opts["disallowed_special"],
                )
                if sep is not None:
                    ids = np.insert(ids, offsets[1:], sep)
                w.write(ids)
        finally:
            w.close()
        return w.count

    return _write_atomically(Path(out), write)


def _plan_files(files: list[str], shard_bytes: int) -> list[dict[str, Any]]:
    """Consecutive files grouped into shards of about ``shard_bytes`` of text (a file is never split)."""
    shards: list[dict[str, Any]] = []
    group: list[str] = []
    size = 0
    for f in files:
        if "://" in f:
            raise BytepairError(f"encode_dataset_ray reads local (or shared-filesystem) paths; got {f!r}: read remote "
                                "files with ray.data.read_text / read_binary_files and pass the dataset")
        group.append(f)
        size += os.stat(f).st_size
        if size >= shard_bytes:
            shards.append({"sources": group, "bytes": size})
            group, size = [], 0
    if group:
        shards.append({"sources": group, "bytes": size})
    return shards


def encode_dataset_ray(
    tok: Tokenizer,
    paths_or_dataset: PathLike | Iterable[PathLike] | ray.data.Dataset,
    out_dir: PathLike,
    *,
    dtype: str | None = None,
    separator: str | None = None,
    allowed_special: SpecialSet = frozenset(),
    disallowed_special: SpecialSet = "all",
    text_column: str = "text",
    errors: str = "strict",
    shard_bytes: int = 256 << 20,
    num_shards: int | None = None,
    num_cpus_per_task: int = 1,
    max_in_flight: int | None = None,
    _stop_after: int | None = None,
) -> dict[str, Any]:
    """Encodes files or a dataset into ``.npy`` token shards on Ray, resumably.

    ``out_dir`` receives ``shard_00000.npy``, ... (1-D ``uint16``/``uint32`` arrays, the layout of
    ``bytepair encode FILES --out DIR``) and ``manifest.json``: the shards in order with their token counts and
    sources, the dtype, the separator and the tokenizer's fingerprint. The shards concatenated are exactly the ids of
    encoding each document and appending the separator (``Tokenizer.encode_file`` per file). Files are grouped in
    order into shards of about ``shard_bytes`` of text; a dataset is cut into ``num_shards`` equal parts, in order.

    Rerunning with the same tokenizer and inputs skips shards already complete and redoes missing or truncated ones;
    a directory written with another tokenizer or other inputs raises instead of mixing ids.

    Args:
        tok: the tokenizer (shipped once through the object store).
        paths_or_dataset: a file, a directory (its files, recursively, sorted), a list of those (each file one
            document; every node must see them), or a ``ray.data.Dataset`` whose ``text_column`` holds documents.
        out_dir: the shard directory (shared by all nodes).
        dtype: ``"uint16"`` or ``"uint32"``; default ``uint16`` when ``n_vocab <= 65536``.
        separator: a special token appended after every document (e.g. ``"<|endoftext|>"``), or None.
        allowed_special, disallowed_special: as in :meth:`Tokenizer.encode`.
        text_column: the column of documents in a dataset.
        errors: for a dataset with bytes: ``"strict"`` or ``"replace"`` (files are always strict).
        shard_bytes: text per shard for files (default 256 MiB).
        num_shards: shards for a dataset (default: the previous run's, else ``ceil(size / shard_bytes)``).
        num_cpus_per_task: CPUs (and encoding threads) per shard task.
        max_in_flight: shard tasks submitted at once (default: twice the cluster's CPUs / ``num_cpus_per_task``).

    Returns:
        Summary: ``tokens``, ``shards``, ``skipped`` (complete shards found), ``encoded``, ``dtype``, ``out_dir``,
        ``fingerprint``.

    Raises:
        BytepairError: a file that is not UTF-8 (names the file and byte offset; raised on the driver), a separator
            that is not a special token, a dtype too small, an ``out_dir`` written by another tokenizer or inputs.
        FileNotFoundError: a missing input file.
    """
    from .shards import choose_dtype

    ray = _ray()
    dt = choose_dtype(tok.n_vocab, dtype)
    sep_id: int | None = None
    if separator is not None:
        if separator not in tok.special_tokens:
            raise BytepairError(
                f"separator {separator!r} is not a special token of this tokenizer "
                f"(special tokens: {sorted(tok.special_tokens)})"
            )
        sep_id = tok.special_tokens[separator]
    if errors not in ("strict", "replace"):
        raise BytepairError(f"errors must be 'strict' or 'replace', got {errors!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = tokenizer_fingerprint(tok)
    previous = _read_manifest(out)
    is_ds = _is_dataset(paths_or_dataset)

    tables: list[Any] = []
    if is_ds:
        ds: Any = paths_or_dataset
        if num_shards is None and previous is not None and previous.get("source") == "dataset":
            num_shards = len(previous["shards"])
        if num_shards is None:
            ds = ds.materialize()
            num_shards = max(1, math.ceil(ds.size_bytes() / shard_bytes))
        if num_shards < 1:
            raise BytepairError(f"num_shards must be >= 1, got {num_shards}")
        plan: list[dict[str, Any]] = [{"rows": None} for _ in range(num_shards)]
    else:
        if shard_bytes < 1:
            raise BytepairError(f"shard_bytes must be >= 1, got {shard_bytes}")
        plan = _plan_files(_expand_paths(paths_or_dataset), shard_bytes)  # type: ignore[arg-type]
    for i, entry in enumerate(plan):
        entry["path"] = f"shard_{i:05d}.npy"
        entry["tokens"] = None

    manifest: dict[str, Any] = {
        "format": "bytepair-shards",
        "version": 1,
        "complete": False,
        "source": "dataset" if is_ds else "files",
        "fingerprint": fingerprint,
        "dtype": dt.name,
        "separator": separator,
        "n_vocab": tok.n_vocab,
        "pattern": tok.pattern,
        "special_tokens": tok.special_tokens,
        "tokens": None,
        "shards": plan,
    }
    if previous is not None:
        _check_same_run(out, previous, manifest)
    _write_manifest(out, manifest)

    done: dict[int, int] = {}
    for i, entry in enumerate(plan):
        n = _shard_tokens(out / entry["path"], dt)
        if n is not None:
            done[i] = n
    for stale in out.glob("shard_*.npy.tmp-*"):
        stale.unlink(missing_ok=True)
    pending = [i for i in range(len(plan)) if i not in done]
    found = len(done)
    if _stop_after is not None:
        pending = pending[:_stop_after]

    opts: dict[str, Any] = {
        "allowed_special": allowed_special, "disallowed_special": disallowed_special, "num_threads": num_cpus_per_task,
    }
    box = [ray.put(tok)]
    if max_in_flight is None:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        max_in_flight = max(1, 2 * cpus // max(1, num_cpus_per_task))

    if is_ds and pending:
        parts = _own_context(ds.repartition(num_shards)).to_arrow_refs()
        if len(parts) != num_shards:  # pragma: no cover - repartition gives exactly num_shards blocks
            raise BytepairError(f"expected {num_shards} blocks after repartition, got {len(parts)}")
        tables = parts
        task = ray.remote(_encode_rows_shard).options(num_cpus=num_cpus_per_task)
        row_opts = {**opts, "column": text_column, "errors": errors, "separator_id": sep_id, "dtype": dt.str}

        def submit(i: int) -> Any:
            return task.remote(fingerprint, box, tables[i], str(out / plan[i]["path"]), row_opts)
    else:
        task = ray.remote(_encode_files_shard).options(num_cpus=num_cpus_per_task)
        file_opts = {**opts, "dtype": dt.name, "separator": separator}

        def submit(i: int) -> Any:
            return task.remote(fingerprint, box, plan[i]["sources"], str(out / plan[i]["path"]), file_opts)

    running: dict[Any, int] = {}
    queue = list(pending)
    with _worker_errors():
        try:
            while queue or running:
                while queue and len(running) < max_in_flight:
                    i = queue.pop(0)
                    running[submit(i)] = i
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    i = running.pop(ref)
                    done[i] = int(ray.get(ref))
        finally:
            for ref in running:
                ray.cancel(ref)

    for i, n in done.items():
        plan[i]["tokens"] = n
    complete = len(done) == len(plan)
    manifest["complete"] = complete
    manifest["tokens"] = sum(done.values()) if complete else None
    _write_manifest(out, manifest)
    return {
        "tokens": sum(done.values()),
        "shards": len(plan),
        "skipped": found,
        "encoded": len(pending),
        "complete": complete,
        "dtype": dt.name,
        "out_dir": str(out),
        "fingerprint": fingerprint,
    }


def _read_manifest(out: Path) -> dict[str, Any] | None:
    p = out / MANIFEST
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BytepairError(f"{p}: not a valid manifest ({e}); remove it to start over") from None
    if not isinstance(data, dict) or data.get("format") != "bytepair-shards":
        raise BytepairError(f"{p}: not a manifest of encode_dataset_ray; use an empty directory")
    return data


def _check_same_run(out: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    for key in ("fingerprint", "source", "dtype", "separator"):
        if old.get(key) != new.get(key):
            raise BytepairError(
                f"{out} holds shards of another run ({key}: {old.get(key)!r}, now {new.get(key)!r}); "
                "use an empty directory"
            )
    if new["source"] == "files":
        before = [s.get("sources") for s in old["shards"]]
        after = [s["sources"] for s in new["shards"]]
        if before != after:
            raise BytepairError(
                f"{out} holds shards of other input files (or another shard_bytes); use an empty directory"
            )
    elif len(old["shards"]) != len(new["shards"]):
        raise BytepairError(
            f"{out} holds {len(old['shards'])} shards, asked for {len(new['shards'])}; use an empty directory"
        )


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    tmp = out / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)
