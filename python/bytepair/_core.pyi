"""Type stubs for the Rust extension ``bytepair._core`` (private: use the ``bytepair`` package)."""

from collections.abc import Callable, Iterable, Sequence
from os import PathLike
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "PATTERNS",
    "BytepairError",
    "CoreTokenizer",
    "DisallowedSpecialError",
    "FormatError",
    "Trainer",
    "dump_bytepair",
    "dump_tiktoken",
    "load_bytepair",
    "load_tiktoken",
    "parse_tiktoken",
    "pretokenize",
    "tiktoken_ranks",
]

PATTERNS: dict[str, str]

class BytepairError(ValueError): ...
class DisallowedSpecialError(BytepairError): ...
class FormatError(BytepairError): ...

@final
class CoreTokenizer:
    @staticmethod
    def from_ranks(ranks: dict[bytes, int], special_tokens: list[tuple[str, int]], pattern: str) -> CoreTokenizer: ...
    @staticmethod
    def from_vocab_merges(
        vocab: list[tuple[int, bytes]],
        merges: list[tuple[bytes, bytes]],
        special_tokens: list[tuple[str, int]],
        pattern: str,
    ) -> CoreTokenizer: ...
    def encode_ordinary(self, text: str) -> list[int]: ...
    def encode(self, text: str, allowed_special: list[str] | None, disallowed_special: list[str] | None) -> list[int]: ...
    def encode_bytes(self, data: bytes) -> list[int]: ...
    def encode_to_numpy(
        self, text: str, allowed_special: list[str] | None, disallowed_special: list[str] | None
    ) -> npt.NDArray[np.uint32]: ...
    def encode_batch_to_numpy(
        self,
        texts: Sequence[str],
        allowed_special: list[str] | None,
        disallowed_special: list[str] | None,
        num_threads: int | None = None,
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]: ...
    def encode_batch_padded(
        self,
        texts: Sequence[str],
        allowed_special: list[str] | None,
        disallowed_special: list[str] | None,
        num_threads: int | None = None,
        *,
        max_length: int | None = None,
        padding: str = "longest",
        truncation: str | None = None,
        padding_side: str = "right",
        pad_id: int | None = None,
        allow_any_pad_id: bool = False,
        bos: int | None = None,
        eos: int | None = None,
        return_attention_mask: bool = True,
        int64: bool = False,
        mask_bool: bool = False,
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]: ...
    def count_tokens(self, text: str) -> int: ...
    def encode_batch(
        self,
        texts: Sequence[str],
        allowed_special: list[str] | None,
        disallowed_special: list[str] | None,
        num_threads: int | None = None,
    ) -> list[list[int]]: ...
    def decode_bytes(self, ids: Iterable[int]) -> bytes: ...
    def decode_single_token_bytes(self, id: int) -> bytes: ...
    def check_ids(self, ids: Iterable[int]) -> list[int]: ...
    @property
    def n_vocab(self) -> int: ...
    @property
    def pattern(self) -> str: ...
    @property
    def special_tokens(self) -> list[tuple[str, int]]: ...
    @property
    def has_merges(self) -> bool: ...
    def vocab(self) -> list[tuple[int, bytes]]: ...
    def merges(self) -> list[tuple[bytes, bytes]]: ...
    def ranks(self) -> dict[bytes, int]: ...

@final
class Trainer:
    def __new__(
        cls,
        vocab_size: int,
        pattern: str,
        special_tokens: list[str],
        min_frequency: int = 1,
        max_token_length: int | None = None,
        num_threads: int | None = None,
    ) -> Trainer: ...
    def add_texts(self, texts: Sequence[str]) -> None: ...
    def add_file(self, path: str | PathLike[str]) -> None: ...
    @property
    def num_pretokens(self) -> int: ...
    def train(self, progress: Callable[[int, int], object] | None = None) -> CoreTokenizer: ...

def pretokenize(text: str, pattern: str, use_regex: bool = False) -> list[str]: ...
# --- file formats (rust/bytepair-py/src/formats.rs) ---
def load_bytepair(data: bytes, source: str) -> CoreTokenizer: ...
def dump_bytepair(tok: CoreTokenizer) -> bytes: ...
def load_tiktoken(data: bytes, source: str, special_tokens: list[tuple[str, int]], pattern: str) -> CoreTokenizer: ...
def dump_tiktoken(tok: CoreTokenizer) -> bytes: ...
def parse_tiktoken(data: bytes, source: str) -> dict[bytes, int]: ...
def tiktoken_ranks(tok: CoreTokenizer) -> dict[bytes, int]: ...
