"""Token embedding tables in numpy: build, look up, open from real checkpoints, use as a tied output head.

A language model's first layer maps each token id to one row of an embedding matrix ``E`` of shape
``(num_embeddings, embedding_dim)``; many models reuse ``E`` as the output head (``logits = hidden @ E.T``, "weight
tying", Press & Wolf 2017). :class:`Embedding` holds such a matrix and provides

* lookups with strict, documented shape and error rules (``emb(ids)``),
* :meth:`Embedding.from_safetensors`, which memory-maps the table inside a ``.safetensors`` checkpoint without
  reading the rest of the model (float32, float16 and bfloat16 via ``ml_dtypes``),
* :meth:`Embedding.logits` (tied head), :meth:`Embedding.nearest` (cosine similarity) and :meth:`Embedding.plot`,
* padded batches: a zero ``padding_idx`` row, lookups that zero masked positions (``emb(ids, attention_mask)``) and
  :meth:`Embedding.pool` (mean / max / last pooling over the real positions only).

Tables may have more rows than the tokenizer has tokens ("padding rows": Qwen2's table has 151,936 rows, a multiple
of 128, for 151,643 regular tokens; GPT-2 is often trained with 50,304 rows for 50,257 tokens); ``n_vocab`` and
``padding_rows`` report this.

Only numpy is needed to import this module; ``ml_dtypes`` is imported when a bfloat16 table is used and
``matplotlib`` when :meth:`Embedding.plot` is called.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["EMBEDDING_TENSOR_NAMES", "Embedding"]

#: Tensor names tried, in this order, by :meth:`Embedding.from_safetensors` when no ``name`` is given.
EMBEDDING_TENSOR_NAMES: tuple[str, ...] = (
    "model.embed_tokens.weight",  # Llama, Mistral, Mixtral, Qwen2, Gemma, Phi-3 (Hugging Face)
    "transformer.wte.weight",  # GPT-2, GPT-J (Hugging Face)
    "embeddings.word_embeddings.weight",  # BERT / sentence-transformers (e.g. all-MiniLM-L6-v2)
    "bert.embeddings.word_embeddings.weight",  # BERT with a task head
    "tok_embeddings.weight",  # original Meta Llama checkpoints
    "wte.weight",  # GPT-2 without the "transformer." prefix
    "gpt_neox.embed_in.weight",  # GPT-NeoX, Pythia
    "model.decoder.embed_tokens.weight",  # OPT
    "transformer.word_embeddings.weight",  # BLOOM
    "model.language_model.embed_tokens.weight",  # multimodal wrappers (e.g. Gemma 3, Llava-style)
    "language_model.model.embed_tokens.weight",
    "shared.weight",  # T5
    "embed_tokens.weight",
    "word_embeddings.weight",
)

# Name endings accepted when none of the exact names is present (checked in this order).
_SUFFIXES: tuple[str, ...] = (
    "embed_tokens.weight",
    "word_embeddings.weight",
    "tok_embeddings.weight",
    "wte.weight",
    "embed_in.weight",
)

# safetensors dtype codes -> numpy dtype names ("bfloat16" resolved through ml_dtypes).
_ST_DTYPES: dict[str, str] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"}

_MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors specification's limit


def _bfloat16() -> np.dtype[Any]:
    try:
        import ml_dtypes
    except ImportError as exc:  # pragma: no cover - ml_dtypes is installed with the "embed" extra
        raise ImportError(
            "bfloat16 tables need the 'ml_dtypes' package: pip install 'bytepair[embed]'"
        ) from exc
    return np.dtype(ml_dtypes.bfloat16)


def _resolve_dtype(dtype: Any) -> np.dtype[Any]:
    """Map ``dtype`` (numpy dtype, type or name, or ``ml_dtypes.bfloat16``) to a supported float dtype."""
    if isinstance(dtype, str) and dtype.lower() in ("bfloat16", "bf16"):
        return _bfloat16()
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"unsupported dtype {dtype!r}: use float32, float16 or bfloat16") from exc
    if dt.name == "bfloat16" or dt in (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.float64)):
        return dt
    raise TypeError(f"unsupported dtype {dt}: use float32, float16 or bfloat16 (or float64)")


def _compute_dtype(*dtypes: np.dtype[Any]) -> np.dtype[Any]:
    """float64 if any input is float64, else float32 (half / bfloat16 are widened for arithmetic)."""
    return np.dtype(np.float64) if any(dt == np.float64 for dt in dtypes) else np.dtype(np.float32)


def _check_ids(ids: Any, num_embeddings: int, *, what: str = "ids") -> npt.NDArray[np.integer[Any]]:
    """Convert ``ids`` to an integer array, checking type and range. Never copies a valid integer ndarray."""
    if isinstance(ids, np.ndarray):
        arr = ids
    else:
        try:
            arr = np.asarray(ids)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(f"{what} must be a rectangular (non-ragged) array of integers: {exc}") from exc
        if arr.size == 0 and arr.dtype.kind == "f" and not isinstance(ids, (float, np.floating)):
            arr = arr.astype(np.int64)  # [] and [[], []] come out of numpy as float64: treat as empty ids
        elif arr.dtype.kind == "f":
            # numpy turns [0, 2**63] (int64 and uint64 values mixed) into float64: look at the Python objects
            objects = np.asarray(ids, dtype=object)
            if all(type(v) is int or isinstance(v, np.integer) for v in objects.ravel().tolist()):
                arr = objects
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"{what} must be integers, got booleans (dtype {arr.dtype})")
    if kind == "O":
        # Python ints beyond the int64/uint64 range (or mixed objects) end up here.
        flat = arr.ravel().tolist()
        for value in flat:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{what} must be integers, got {type(value).__name__} ({value!r})")
        for value in flat:
            if not 0 <= value < num_embeddings:
                raise IndexError(
                    f"token id {value} is out of range for an embedding table of {num_embeddings} rows "
                    f"(valid ids are 0..{num_embeddings - 1})"
                )
        arr = np.asarray(flat, dtype=np.int64).reshape(arr.shape)
    elif kind not in "iu":
        raise TypeError(f"{what} must be integers, got dtype {arr.dtype}")
    if arr.size:
        bad = arr >= num_embeddings
        if kind == "i":
            bad |= arr < 0
        if bad.any():
            first = arr.reshape(-1)[int(np.argmax(bad.reshape(-1)))]
            raise IndexError(
                f"token id {int(first)} is out of range for an embedding table of {num_embeddings} rows "
                f"(valid ids are 0..{num_embeddings - 1})"
            )
    return arr


def _read_safetensors_header(path: Path) -> tuple[dict[str, Any], int, int]:
    """Return (header dict, offset of the data section, file size). Raises ValueError on a malformed file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path}: not a safetensors file (only {size} bytes, no 8-byte header length)")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER_BYTES or 8 + n > size:
            raise ValueError(f"{path}: not a safetensors file (header length {n} does not fit in {size} bytes)")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: corrupt safetensors header: {exc}") from exc
    if not isinstance(header, dict):
        raise ValueError(f"{path}: corrupt safetensors header: expected a JSON object")  # noqa: TRY004
    return header, 8 + n, size


def _describe_2d(header: dict[str, Any]) -> str:
    rows = [
        f"{k} {tuple(v.get('shape', ()))} {v.get('dtype')}"
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and len(v.get("shape", ())) == 2
    ]
    if not rows:
        return "no 2-D tensors"
    shown = rows[:40]
    more = f", ... ({len(rows) - len(shown)} more)" if len(rows) > len(shown) else ""
    return "2-D tensors: " + ", ".join(shown) + more


def _find_embedding_name(header: dict[str, Any]) -> str | None:
    def is_2d(key: str) -> bool:
        entry = header.get(key)
        return isinstance(entry, dict) and len(entry.get("shape", ())) == 2

    for key in EMBEDDING_TENSOR_NAMES:
        if key in header and is_2d(key):
            return key
    for suffix in _SUFFIXES:
        matches = sorted((k for k in header if k != "__metadata__" and k.endswith(suffix) and is_2d(k)), key=len)
        if matches:
            return matches[0]
    return None


class Embedding:
    """A token embedding table ``E`` of shape ``(num_embeddings, embedding_dim)``.

    Rows are initialised from a normal distribution with mean 0 and standard deviation ``std`` (0.02 as in GPT-2,
    Radford et al. 2019, and its reference implementation), drawn in float64 by ``numpy.random.default_rng(seed)``
    and rounded to ``dtype``.

    Example:
        >>> import bytepair as bp
        >>> emb = bp.Embedding(1000, 64, seed=0)
        >>> emb([[1, 2, 3], [4, 5, 6]]).shape
        (2, 3, 64)

    Args:
        num_embeddings: Number of rows (token ids ``0 .. num_embeddings - 1``), at least 1.
        embedding_dim: Length of each vector (``d_model``), at least 1.
        dtype: ``np.float32`` (default), ``np.float16``, ``"bfloat16"`` / ``ml_dtypes.bfloat16`` or ``np.float64``.
        std: Standard deviation of the initial values (dimensionless); 0 gives a zero table.
        seed: Seed for ``numpy.random.default_rng``; the same seed gives the same table. ``None`` draws fresh
            entropy.
        n_vocab: Number of rows the tokenizer actually uses; the remaining ``num_embeddings - n_vocab`` rows are
            reported as padding. Defaults to ``num_embeddings`` (no padding).
        padding_idx: The id used for padding (as ``torch.nn.Embedding``'s ``padding_idx``): its row is set to zero,
            and every lookup returns zeros for it, so padded positions contribute nothing. ``None`` (default): no
            padding row. It may be a padding row beyond ``n_vocab`` (pad with ``allow_any_pad_id=True`` then).

    Raises:
        ValueError: If a size is not positive, ``std`` is negative or not finite, ``n_vocab`` exceeds
            ``num_embeddings``, or ``padding_idx`` is not in ``0 .. num_embeddings - 1``.
        TypeError: If ``dtype`` is not a supported floating dtype.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        dtype: Any = np.float32,
        std: float = 0.02,
        seed: int | None = None,
        n_vocab: int | None = None,
        padding_idx: int | None = None,
    ) -> None:
        num_embeddings = _positive_int(num_embeddings, "num_embeddings")
        embedding_dim = _positive_int(embedding_dim, "embedding_dim")
        if not (isinstance(std, (int, float, np.floating, np.integer)) and math.isfinite(std) and std >= 0):
            raise ValueError(f"std must be a finite number >= 0, got {std!r}")
        dt = _resolve_dtype(dtype)
        rng = np.random.default_rng(seed)
        weight = rng.normal(0.0, float(std), size=(num_embeddings, embedding_dim)).astype(dt)
        self._init(weight, n_vocab=n_vocab, source=None, padding_idx=padding_idx, owned=True)

    # -- construction ---------------------------------------------------------------------------------------------

    def _init(
        self,
        weight: npt.NDArray[Any],
        *,
        n_vocab: int | None,
        source: str | None,
        padding_idx: int | None = None,
        owned: bool = False,
    ) -> None:
        self._weight = weight
        rows = weight.shape[0]
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(f"padding_idx must be an int or None, got {type(padding_idx).__name__}")
            if not 0 <= padding_idx < rows:
                raise ValueError(f"padding_idx {padding_idx} is out of range for a table of {rows} rows "
                                 f"(valid: 0..{rows - 1})")
            padding_idx = int(padding_idx)
            if owned:
                weight[padding_idx] = 0
        self._padding_idx = padding_idx
        if n_vocab is None:
            n_vocab = rows
        n_vocab = _positive_int(n_vocab, "n_vocab")
        if n_vocab > rows:
            raise ValueError(f"n_vocab ({n_vocab}) is larger than the number of rows in the table ({rows})")
        self._n_vocab = n_vocab
        self._source = source
        self._norms: npt.NDArray[Any] | None = None

    @classmethod
    def from_array(
        cls, weight: Any, *, n_vocab: int | None = None, copy: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """Wrap an existing matrix as an embedding table.

        Args:
            weight: A 2-D float array of shape ``(num_embeddings, embedding_dim)`` (float32, float16, bfloat16 or
                float64).
            n_vocab: Rows used by the tokenizer (the rest are padding); defaults to all rows.
            copy: Copy ``weight`` (default) so later changes to the caller's array do not affect the table and
                vice versa. With ``copy=False`` the table shares memory with ``weight``.
            padding_idx: As in :class:`Embedding`. The copy's row is set to zero; with ``copy=False`` the caller's
                array is never written, but lookups still return zeros for ``padding_idx``.

        Returns:
            The new :class:`Embedding`.

        Raises:
            ValueError: If ``weight`` is not 2-D with at least one row and one column.
            TypeError: If its dtype is not a supported float dtype.
        """
        arr = np.asarray(weight)
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError(f"weight must be a non-empty 2-D array (rows, dim), got shape {arr.shape}")
        dt = _resolve_dtype(arr.dtype)
        arr = np.array(arr, dtype=dt, copy=True) if copy else arr
        self = cls.__new__(cls)
        self._init(arr, n_vocab=n_vocab, source=None, padding_idx=padding_idx, owned=copy)
        return self

    @classmethod
    def for_tokenizer(
        cls,
        tok: Any,
        embedding_dim: int,
        *,
        pad_to_multiple_of: int | None = None,
        dtype: Any = np.float32,
        std: float = 0.02,
        seed: int | None = None,
        padding_idx: int | None = None,
    ) -> Embedding:
        """Build a randomly initialised table with one row per token of ``tok``, optionally padded.

        Only ``tok.n_vocab`` is used, so any object with an integer ``n_vocab`` attribute works (a
        :class:`bytepair.Tokenizer`, a ``tiktoken.Encoding``, ...).

        Args:
            tok: The tokenizer; ``tok.n_vocab`` gives the number of token ids.
            embedding_dim: Length of each vector (``d_model``).
            pad_to_multiple_of: If given, round the number of rows up to a multiple of it (64 or 128 are common,
                for matmul efficiency); the extra rows are reported by :attr:`padding_rows` and initialised like
                the others.
            dtype: As in :class:`Embedding`.
            std: As in :class:`Embedding`.
            seed: As in :class:`Embedding`.
            padding_idx: As in :class:`Embedding`.

        Returns:
            A table of ``ceil(n_vocab / pad_to_multiple_of) * pad_to_multiple_of`` rows (``n_vocab`` if not
            padded) with ``emb.n_vocab == tok.n_vocab``.

        Raises:
            TypeError: If ``tok`` has no integer ``n_vocab``.
            ValueError: If ``pad_to_multiple_of`` is not a positive integer.
        """
        n_vocab = getattr(tok, "n_vocab", None)
        if isinstance(n_vocab, bool) or not isinstance(n_vocab, (int, np.integer)):
            raise TypeError(f"tok must have an integer n_vocab attribute, got {type(tok).__name__}")
        n_vocab = _positive_int(n_vocab, "tok.n_vocab")
        rows = n_vocab
        if pad_to_multiple_of is not None:
            multiple = _positive_int(pad_to_multiple_of, "pad_to_multiple_of")
            rows = -(-n_vocab // multiple) * multiple
        return cls(rows, embedding_dim, dtype=dtype, std=std, seed=seed, n_vocab=n_vocab, padding_idx=padding_idx)

    @classmethod
    def from_safetensors(
        cls,
        path: str | os.PathLike[str],
        name: str | None = None,
        *,
        n_vocab: int | None = None,
        padding_idx: int | None = None,
    ) -> Embedding:
        """Open the embedding table inside a ``.safetensors`` checkpoint, memory-mapped (nothing else is read).

        The file's header (8-byte little-endian length, then JSON) is parsed here and the tensor's byte range is
        mapped read-only with ``numpy.memmap``; pages are read from disk only when rows are looked up. The
        resulting :attr:`weight` is read-only.

        Args:
            path: The ``.safetensors`` file (for sharded checkpoints, the shard holding the embedding).
            name: Tensor name. If ``None``, the names in ``EMBEDDING_TENSOR_NAMES`` are tried in order
                (``model.embed_tokens.weight``, ``transformer.wte.weight``, ``embeddings.word_embeddings.weight``,
                ``tok_embeddings.weight``, ``wte.weight``, ...), then any 2-D tensor whose name ends like one of
                them.
            n_vocab: Rows used by the tokenizer, if the checkpoint's table is padded (e.g. 151,643 of 151,936
                rows for Qwen2); defaults to all rows.
            padding_idx: As in :class:`Embedding`; the file is never written, lookups return zeros for it.

        Returns:
            The memory-mapped :class:`Embedding`.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            ValueError: If the file is not valid safetensors, the tensor is not found (the message lists the
                2-D tensors in the file), is not 2-D, or its byte range disagrees with its shape.
            TypeError: If the tensor's dtype is not F32, F16, BF16 or F64.
        """
        p = Path(path)
        header, data_start, size = _read_safetensors_header(p)
        if name is None:
            found = _find_embedding_name(header)
            if found is None:
                raise ValueError(
                    f"{p}: no embedding tensor found under the usual names; pass name=... "
                    f"({_describe_2d(header)})"
                )
            name = found
        entry = header.get(name)
        if name == "__metadata__" or not isinstance(entry, dict):
            raise ValueError(f"{p}: no tensor named {name!r} ({_describe_2d(header)})")
        shape = tuple(int(s) for s in entry.get("shape", ()))
        if len(shape) != 2:
            raise ValueError(f"{p}: tensor {name!r} has shape {shape}; an embedding table must be 2-D")
        code = entry.get("dtype")
        if code not in _ST_DTYPES:
            raise TypeError(f"{p}: tensor {name!r} has dtype {code}; supported: {', '.join(_ST_DTYPES)}")
        dt = _resolve_dtype(_ST_DTYPES[code])
        if dt.name != "bfloat16":
            dt = dt.newbyteorder("<")
        elif sys.byteorder != "little":  # pragma: no cover - no big-endian CI
            raise NotImplementedError("bfloat16 tables are only supported on little-endian machines")
        begin, end = (int(x) for x in entry.get("data_offsets", (-1, -1)))
        nbytes = shape[0] * shape[1] * dt.itemsize
        if begin < 0 or end - begin != nbytes or data_start + end > size:
            raise ValueError(
                f"{p}: tensor {name!r} has data_offsets [{begin}, {end}] which do not match its shape {shape} "
                f"and dtype {code} ({nbytes} bytes) within a file of {size} bytes"
            )
        if nbytes == 0:
            raise ValueError(f"{p}: tensor {name!r} is empty (shape {shape})")
        mm = np.memmap(p, dtype=dt, mode="r", offset=data_start + begin, shape=shape)
        self = cls.__new__(cls)
        # np.asarray drops the memmap subclass (so lookups return plain arrays) but keeps the mapping alive.
        self._init(np.asarray(mm), n_vocab=n_vocab, source=f"{p}:{name}", padding_idx=padding_idx)
        return self

    def save_safetensors(self, path: str | os.PathLike[str], name: str = "weight") -> None:
        """Write the table to a ``.safetensors`` file holding one tensor.

        Args:
            path: Output file (overwritten).
            name: Tensor name in the file.
        """
        code = {v: k for k, v in _ST_DTYPES.items()}[self._weight.dtype.name]
        data = np.ascontiguousarray(self._weight)
        if data.dtype.name != "bfloat16":
            data = data.astype(data.dtype.newbyteorder("<"), copy=False)
        header = {name: {"dtype": code, "shape": list(data.shape), "data_offsets": [0, data.nbytes]}}
        raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
        raw += b" " * (-len(raw) % 8)  # align the data section to 8 bytes
        with Path(path).open("wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            f.write(data.tobytes())

    # -- properties -----------------------------------------------------------------------------------------------

    @property
    def weight(self) -> npt.NDArray[Any]:
        """The table itself, shape ``(num_embeddings, embedding_dim)`` (read-only if memory-mapped)."""
        return self._weight

    @property
    def num_embeddings(self) -> int:
        """Number of rows, including padding rows."""
        return int(self._weight.shape[0])

    @property
    def embedding_dim(self) -> int:
        """Length of each row vector."""
        return int(self._weight.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        """``(num_embeddings, embedding_dim)``."""
        return (self.num_embeddings, self.embedding_dim)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The table's dtype (float32, float16, bfloat16 or float64)."""
        return self._weight.dtype

    @property
    def n_vocab(self) -> int:
        """Number of rows the tokenizer uses (ids ``0 .. n_vocab - 1``)."""
        return self._n_vocab

    @property
    def padding_rows(self) -> int:
        """Rows beyond ``n_vocab`` (e.g. 293 for Qwen2's 151,643 regular tokens in 151,936 rows)."""
        return self.num_embeddings - self._n_vocab

    @property
    def num_parameters(self) -> int:
        """Number of scalars in the table, ``num_embeddings * embedding_dim`` (padding rows included)."""
        return self.num_embeddings * self.embedding_dim

    @property
    def nbytes(self) -> int:
        """Size of the table in bytes (``num_parameters * itemsize``)."""
        return int(self._weight.nbytes)

    @property
    def padding_idx(self) -> int | None:
        """The padding id whose lookups are zero vectors, or ``None``."""
        return self._padding_idx

    @property
    def source(self) -> str | None:
        """``"path:tensor_name"`` for tables opened from a file, else ``None``."""
        return self._source

    def __repr__(self) -> str:
        parts = [
            f"num_embeddings={self.num_embeddings}",
            f"embedding_dim={self.embedding_dim}",
            f"dtype={self.dtype.name}",
        ]
        if self.padding_rows:
            parts.append(f"n_vocab={self.n_vocab}, padding_rows={self.padding_rows}")
        if self._padding_idx is not None:
            parts.append(f"padding_idx={self._padding_idx}")
        parts.append(f"nbytes={_human_bytes(self.nbytes)}")
        if self._source is not None:
            parts.append(f"source={self._source!r}")
        return f"Embedding({', '.join(parts)})"

    def __len__(self) -> int:
        return self.num_embeddings

    # -- lookups --------------------------------------------------------------------------------------------------

    def __call__(self, ids: Any, attention_mask: Any = None) -> npt.NDArray[Any]:
        """Look up token ids.

        Args:
            ids: An integer (0-D), or an integer array / nested list of any shape ``S`` (any signed or unsigned
                integer dtype, e.g. the flat ``uint32`` ids of ``Tokenizer.encode_batch_to_numpy``). Not modified.
            attention_mask: Optional, of shape ``S`` (bool, or integers 0/1 such as the ``uint8`` mask of a padded
                batch): positions where it is 0 / False get zero vectors. Not modified.

        Returns:
            A new array (not a view of the table) of shape ``S + (embedding_dim,)`` and the table's dtype. An
            empty input gives shape ``S + (embedding_dim,)`` with zero rows. Positions holding ``padding_idx``
            and masked positions are zero vectors.

        Raises:
            IndexError: If an id is negative or ``>= num_embeddings``; the message names the first such id (in
                C order) and the table size.
            TypeError: If ids are floats, booleans, or not numbers; if the mask is not bool or integer.
            ValueError: If a nested list is ragged; if the mask's shape differs from the ids' or it holds values
                other than 0 and 1.
        """
        arr = _check_ids(ids, self.num_embeddings)
        mask = None if attention_mask is None else _check_mask(attention_mask, arr.shape)
        out = np.take(self._weight, arr, axis=0)
        self._zero_padding(out, arr, mask)
        return out

    def _zero_padding(self, out: npt.NDArray[Any], ids: npt.NDArray[Any], mask: npt.NDArray[np.bool_] | None) -> None:
        """Zero ``out`` (ids.shape + (dim,)) where ``ids == padding_idx`` or ``mask`` is False, in place."""
        drop = None if self._padding_idx is None else ids == self._padding_idx
        if mask is not None:
            drop = ~mask if drop is None else drop | ~mask
        if drop is not None and bool(np.any(drop)):
            out[drop] = 0

    def lookup_batch(self, ids: Any, offsets: Any) -> list[npt.NDArray[Any]]:
        """Look up a batch in the flat ids + offsets layout and split it into one array per document.

        This is the layout of ``Tokenizer.encode_batch_to_numpy``: document ``i`` is ``ids[offsets[i]:offsets[i+1]]``.

        Args:
            ids: 1-D integer array of all token ids, concatenated (``uint32`` from the tokenizer).
            offsets: 1-D integer array of length ``n_documents + 1``, starting at 0, non-decreasing and ending at
                ``len(ids)`` (``int64`` from the tokenizer).

        Returns:
            A list of ``n_documents`` arrays of shape ``(len_i, embedding_dim)``; they are views into one array
            gathered in a single :func:`numpy.take`.

        Raises:
            ValueError: If ``ids`` is not 1-D or ``offsets`` is not a valid offsets array for it.
            IndexError, TypeError: As for ``emb(ids)``.
        """
        flat = _check_ids(ids, self.num_embeddings)
        if flat.ndim != 1:
            raise ValueError(f"ids must be 1-D (flat ids of a batch), got shape {flat.shape}")
        off = np.asarray(offsets)
        if off.dtype.kind not in "iu" or off.ndim != 1 or off.size < 1:
            raise ValueError(f"offsets must be a 1-D integer array of length n+1, got shape {off.shape} "
                             f"dtype {off.dtype}")
        if off[0] != 0 or off[-1] != flat.size or (off.size > 1 and bool(np.any(np.diff(off) < 0))):
            raise ValueError(
                f"offsets must start at 0, be non-decreasing and end at len(ids) = {flat.size}; "
                f"got first {int(off[0])}, last {int(off[-1])}"
            )
        vectors = np.take(self._weight, flat, axis=0)
        self._zero_padding(vectors, flat, None)
        return np.split(vectors, off[1:-1]) if off.size > 1 else []

    # -- pooling --------------------------------------------------------------------------------------------------

    def pool(self, vectors: Any, attention_mask: Any = None, how: str = "mean") -> npt.NDArray[Any]:
        """Pool a padded batch of vectors into one vector per sequence, over the real positions only.

        Padded positions are ignored whatever they hold (zeros, garbage or NaN), so the result for a row equals
        pooling that sequence alone, unpadded. ``"mean"`` is the mean pooling of sentence-embedding models
        (sentence-transformers); ``"last"`` is the last real token's vector (the summary a decoder's last position
        holds), found from the mask, so it is right for left and right padding alike.

        Args:
            vectors: ``(..., seq, dim)`` float array, e.g. ``emb(ids, attention_mask)`` of shape
                ``(batch, seq, dim)`` or a model's hidden states. Not modified.
            attention_mask: ``(..., seq)`` bool or integer 0/1, 1 = real token; ``None``: every position is real.
                Not modified.
            how: ``"mean"`` (default), ``"max"`` (element-wise maximum) or ``"last"``.

        Returns:
            ``(..., dim)`` array, float32 (float64 for float64 input; float16 / bfloat16 are widened to float32).
            A row with no real position gives a zero vector.

        Raises:
            ValueError: ``how`` is unknown, ``vectors`` has fewer than 2 dimensions, or the mask's shape is not
                ``vectors.shape[:-1]`` or it holds values other than 0 and 1.
            TypeError: ``vectors`` is not a float array, or the mask is not bool or integer.
        """
        if how not in ("mean", "max", "last"):
            raise ValueError(f'how must be "mean", "max" or "last", got {how!r}')
        v = np.asarray(vectors)
        if v.dtype.kind != "f" and v.dtype.name != "bfloat16":
            raise TypeError(f"vectors must be a float array, got dtype {v.dtype}")
        if v.ndim < 2:
            raise ValueError(f"vectors must have shape (..., seq, dim), got shape {v.shape}")
        ct = _compute_dtype(v.dtype)
        x = v.astype(ct, copy=False)
        if attention_mask is None:
            mask = np.ones(v.shape[:-1], dtype=np.bool_)
        else:
            mask = _check_mask(attention_mask, v.shape[:-1], what="attention_mask", of="vectors.shape[:-1]")
        counts = np.count_nonzero(mask, axis=-1)
        empty = counts == 0
        if how == "mean":
            out = np.where(mask[..., None], x, 0).sum(axis=-2, dtype=ct) / np.maximum(counts, 1)[..., None].astype(ct)
        elif how == "max":
            out = np.where(mask[..., None], x, -np.inf).max(axis=-2, initial=-np.inf).astype(ct, copy=False)
        else:
            seq = int(v.shape[-2])
            if seq:
                # the last True of each row (works for left and right padding alike)
                last = seq - 1 - np.argmax(mask[..., ::-1], axis=-1)
                out = np.take_along_axis(x, last[..., None, None], axis=-2)[..., 0, :].copy()
            else:
                out = np.zeros(v.shape[:-2] + v.shape[-1:], dtype=ct)
        if bool(np.any(empty)):
            out[empty] = 0
        return out

    # -- tied head and similarity ---------------------------------------------------------------------------------

    def logits(self, hidden: Any, *, mask_padding: bool = False) -> npt.NDArray[Any]:
        """The tied output head: ``hidden @ E.T``.

        Args:
            hidden: Hidden states of shape ``(..., embedding_dim)`` (any real dtype). Not modified.
            mask_padding: Set the logits of padding rows (ids ``>= n_vocab``) to ``-inf`` so they are never
                predicted.

        Returns:
            Array of shape ``(..., num_embeddings)``, float32 (float64 if ``hidden`` or the table is float64);
            float16 / bfloat16 inputs are widened to float32 before the product.

        Raises:
            ValueError: If the last dimension of ``hidden`` is not ``embedding_dim`` (the message shows both
                shapes).
            TypeError: If ``hidden`` is not a real numeric array.
        """
        h = np.asarray(hidden)
        if h.dtype.kind not in "iuf" and h.dtype.name != "bfloat16":
            raise TypeError(f"hidden must be a real numeric array, got dtype {h.dtype}")
        if h.ndim == 0 or h.shape[-1] != self.embedding_dim:
            raise ValueError(
                f"hidden has shape {h.shape} but the embedding table has shape {self.shape}: "
                f"the last dimension of hidden must be {self.embedding_dim}"
            )
        ct = _compute_dtype(h.dtype, self.dtype)
        out = np.matmul(h.astype(ct, copy=False), self._weight.astype(ct, copy=False).T)
        if mask_padding and self.padding_rows:
            out[..., self.n_vocab :] = -np.inf
        return out

    def _row_norms(self) -> npt.NDArray[np.float64]:
        """Row norms in float64; cached only for read-only tables (a writable table may change between calls)."""
        if self._norms is not None:
            return self._norms
        norms = np.empty(self.num_embeddings, dtype=np.float64)
        step = max(1, (1 << 22) // self.embedding_dim)
        for s in range(0, self.num_embeddings, step):
            block = self._weight[s : s + step].astype(np.float64)
            norms[s : s + step] = np.sqrt(np.einsum("ij,ij->i", block, block))
        if not self._weight.flags.writeable:
            self._norms = norms
        return norms

    def nearest(
        self, query: Any, k: int = 10, *, include_padding: bool = False
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The ``k`` rows most similar to ``query`` by cosine similarity, best first.

        Scores are ``q . e / (|q| |e|)``; rows of norm 0 score 0. Candidates come from one matrix product in
        float32 (float64 for float64 tables); the best ``k + 8`` per query are then rescored in float64, so the
        returned scores are exact to float32 rounding (a row's score against itself is 1.0 within 1e-7). Ties
        are broken by the smaller id. The query's own row is not excluded. Memory stays bounded: queries are
        processed in blocks of about 32 MiB of scores (plus a float32 copy of float16 / bfloat16 tables).

        Args:
            query: A token id (int), an integer array of ids of shape ``S``, or a float vector of shape
                ``(embedding_dim,)`` / array of shape ``S + (embedding_dim,)``. Integer dtypes mean ids; float
                dtypes mean vectors. Not modified.
            k: Number of neighbours, ``1 <= k <= `` the number of rows searched.
            include_padding: Also search the padding rows (ids ``>= n_vocab``); by default only real tokens are
                candidates.

        Returns:
            ``(ids, scores)``: int64 ids and float32 cosine similarities, each of shape ``S + (k,)`` (``(k,)`` for a
            single id or vector).

        Raises:
            IndexError: If a query id is out of range.
            TypeError: If ``query`` is boolean or not numeric.
            ValueError: If a vector's last dimension is not ``embedding_dim``, a query vector is zero, or ``k`` is
                out of range.
        """
        rows = self.num_embeddings if include_padding else self.n_vocab
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= rows:
            raise ValueError(f"k must be an integer in 1..{rows} (the number of rows searched), got {k!r}")
        k = int(k)
        q = query if isinstance(query, np.ndarray) else np.asarray(query)
        if q.dtype.kind in "iuO" or q.dtype.kind == "b":
            ids = _check_ids(query, self.num_embeddings, what="query ids")
            batch_shape = ids.shape
            vectors = np.take(self._weight, ids.reshape(-1), axis=0).astype(np.float64)
        elif q.dtype.kind == "f" or q.dtype.name == "bfloat16":
            if q.ndim == 0 or q.shape[-1] != self.embedding_dim:
                raise ValueError(
                    f"query vectors have shape {q.shape} but the embedding table has shape {self.shape}: "
                    f"the last dimension must be {self.embedding_dim}"
                )
            batch_shape = q.shape[:-1]
            vectors = q.reshape(-1, self.embedding_dim).astype(np.float64)
        else:
            raise TypeError(f"query must be token ids (integers) or float vectors, got dtype {q.dtype}")

        qn = np.linalg.norm(vectors, axis=1)
        if vectors.shape[0] and not np.all(qn > 0):
            raise ValueError("a query vector has norm 0; cosine similarity is undefined")
        units = vectors / qn[:, None] if vectors.shape[0] else vectors
        ct = np.dtype(np.float64) if self.dtype == np.float64 else np.dtype(np.float32)
        table: npt.NDArray[Any] = self._weight[:rows].astype(ct, copy=False)  # a copy only for float16 / bfloat16 tables
        norms = self._row_norms()[:rows]
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        inv_ct = inv.astype(ct)

        m = units.shape[0]
        out_ids = np.empty((m, k), dtype=np.int64)
        out_scores = np.empty((m, k), dtype=np.float32)
        # Candidates are found with one matrix product in the table's precision (float32 unless float64), then
        # the best k + 8 per query are rescored exactly in float64 and sorted by (score desc, id asc).
        n_cand = min(rows, k + 8)
        q_step = max(1, (1 << 23) // rows)
        for qs in range(0, m, q_step):
            qv = units[qs : qs + q_step]
            approx: npt.NDArray[Any] = np.matmul(qv.astype(ct), table.T)
            approx *= inv_ct
            if n_cand == rows:
                cand = np.broadcast_to(np.arange(rows), approx.shape).copy()
            elif n_cand <= 24:  # a few argmax passes beat a partition of the whole row
                cand = np.empty((approx.shape[0], n_cand), dtype=np.intp)
                row_index = np.arange(approx.shape[0])
                for c in range(n_cand):
                    cand[:, c] = np.argmax(approx, axis=1)
                    approx[row_index, cand[:, c]] = -np.inf
            else:
                cand = np.argpartition(approx, rows - n_cand, axis=1)[:, rows - n_cand :]
            del approx
            cand_rows = np.take(self._weight, cand, axis=0).astype(np.float64)  # (q, n_cand, d)
            exact = np.einsum("qd,qcd->qc", qv, cand_rows) * inv[cand]
            order = np.lexsort((cand, -exact), axis=1)[:, :k]  # by score descending, then id ascending
            out_ids[qs : qs + q_step] = np.take_along_axis(cand, order, axis=1)
            out_scores[qs : qs + q_step] = np.take_along_axis(exact, order, axis=1)
        return out_ids.reshape(batch_shape + (k,)), out_scores.reshape(batch_shape + (k,))

    # -- plotting -------------------------------------------------------------------------------------------------

    def plot(
        self,
        ids: Any,
        path: str | os.PathLike[str],
        labels: Sequence[str] | None = None,
        *,
        annotate: bool | None = None,
        title: str | None = None,
    ) -> Path:
        """Write a PNG heatmap of the vectors of ``ids``: one row per token, one column per dimension.

        Uses matplotlib's Agg canvas directly (no pyplot, no change to the global backend).

        Args:
            ids: 1-D sequence of token ids (a 0-D id is treated as one token).
            path: Output PNG file.
            labels: Row labels, one per id (e.g. ``[tok.decode([i]) for i in ids]``); default ``"id <n>"``.
            annotate: Write each value in its cell; by default only when the grid has at most 400 cells.
            title: Figure title; default describes the table.

        Returns:
            The path written, as a :class:`pathlib.Path`.

        Raises:
            ImportError: If matplotlib is not installed (``pip install 'bytepair[plot]'``).
            ValueError: If ``ids`` is not 0-D or 1-D, is empty, or ``labels`` has the wrong length.
            IndexError, TypeError: As for ``emb(ids)``.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError(
                "Embedding.plot needs matplotlib, which is not installed: pip install 'bytepair[plot]' "
                "(or pip install matplotlib)"
            ) from exc
        arr = _check_ids(ids, self.num_embeddings)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"ids must be a non-empty 1-D sequence of token ids, got shape {arr.shape}")
        if labels is None:
            row_labels = [f"id {int(i)}" for i in arr]
        else:
            row_labels = [str(s) for s in labels]
            if len(row_labels) != arr.size:
                raise ValueError(f"got {len(row_labels)} labels for {arr.size} ids")
        values = np.take(self._weight, arr, axis=0).astype(np.float32)
        n, d = values.shape
        if annotate is None:
            annotate = n * d <= 400
        width = min(24.0, max(6.0, 0.45 * d + 2.5)) if annotate else min(24.0, max(6.0, 0.02 * d + 4.0))
        height = min(24.0, max(2.5, 0.4 * n + 1.5))
        fig = Figure(figsize=(width, height), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        vmax = float(np.max(np.abs(values))) or 1.0
        im = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_yticks(range(n))
        # quote labels whose spaces or control characters would otherwise be invisible
        ax.set_yticklabels([repr(s) if s != s.strip() or not s.isprintable() or not s else s for s in row_labels])
        ax.set_xlabel("dimension")
        ax.set_ylabel("token")
        if annotate:
            for r in range(n):
                for c in range(d):
                    v = values[r, c]
                    ax.text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > 0.6 * vmax else "black")
        fig.colorbar(im, ax=ax)
        ax.set_title(title if title is not None else
                     f"{n} token vectors from a {self.num_embeddings} x {self.embedding_dim} {self.dtype.name} table")
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, format="png")
        return out


def _check_mask(
    mask: Any, shape: tuple[int, ...], *, what: str = "attention_mask", of: str = "ids"
) -> npt.NDArray[np.bool_]:
    """A bool or integer 0/1 mask of exactly ``shape`` (the shape of ``of``), as bool. Never modifies ``mask``."""
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        if m.dtype.kind not in "iu":
            raise TypeError(f"{what} must be bool or integer 0/1, got dtype {m.dtype}")
        if m.size and not bool(np.all((m == 0) | (m == 1))):
            raise ValueError(f"{what} must hold only 0 and 1 (1 = real token), got {np.unique(m)[:10].tolist()}")
        m = m.astype(np.bool_)
    if m.shape != shape:
        raise ValueError(f"{what} has shape {m.shape} but {of} has shape {shape}; they must be equal")
    return m


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{what} must be >= 1, got {value}")
    return int(value)


def _human_bytes(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
