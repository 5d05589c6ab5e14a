"""bytepair: fast, exact byte-level BPE tokenization for people who build language models.

The tokenizer (training, encoding, decoding, file formats) runs in Rust (``bytepair._core``); this package is the
typed public API on top of it, plus numpy embedding tables and parameter / memory / FLOPs calculators.

    >>> import bytepair as bp
    >>> tok = bp.Tokenizer.train(["hello world"] * 10, vocab_size=260)
    >>> tok.decode(tok.encode("hello world"))
    'hello world'
"""

from __future__ import annotations

# The extension allocates with mimalloc. While training or counting, it returns freed memory to the OS at once
# (peak memory stays at the working set); encoding keeps mimalloc's default delay, so repeated calls reuse memory.
# A MIMALLOC_PURGE_DELAY set in the environment wins everywhere.
from ._core import (
    BytepairError,
    DisallowedSpecialError,
    FormatError,
)
from .analysis import Analysis, Compression, Sweep, SweepRow, analyze, truncate, vocab_sweep
from .batch import PaddedBatch
from .catalog import models
from .compare import Comparison, ComparisonRow, compare
from .config import SUPPORTED_MODEL_TYPES, ModelConfig
from .counts import PretokenCounts, count_pretokens
from .decoder import IncrementalDecoder
from .embedding import Embedding
from .flops import FlopsPerToken, flops_per_token
from .masks import causal_mask, combine_masks
from .memory import (
    KVCacheSpec,
    LoRASpec,
    MemoryEstimate,
    TrainingSpec,
    estimate_memory,
    format_bytes,
    kv_cache_bytes,
    lora_parameters,
    quantized_tensor_bytes,
    zero_memory,
)
from .params import ParameterCount, SafetensorsCount, count_parameters, count_parameters_safetensors
from .positions import apply_rope, sinusoidal_positions
from .tokenizer import PATTERNS, Tokenizer, clear_piece_caches, pretokenize, train_bpe

__version__ = "0.1.0"

__all__ = [
    "PATTERNS",
    "SUPPORTED_MODEL_TYPES",
    "Analysis",
    "BytepairError",
    "Comparison",
    "ComparisonRow",
    "Compression",
    "DisallowedSpecialError",
    "Embedding",
    "FlopsPerToken",
    "FormatError",
    "IncrementalDecoder",
    "KVCacheSpec",
    "LoRASpec",
    "MemoryEstimate",
    "ModelConfig",
    "PaddedBatch",
    "ParameterCount",
    "PretokenCounts",
    "SafetensorsCount",
    "Sweep",
    "SweepRow",
    "Tokenizer",
    "TrainingSpec",
    "analyze",
    "apply_rope",
    "causal_mask",
    "clear_piece_caches",
    "combine_masks",
    "compare",
    "count_parameters",
    "count_parameters_safetensors",
    "count_pretokens",
    "estimate_memory",
    "flops_per_token",
    "format_bytes",
    "kv_cache_bytes",
    "lora_parameters",
    "models",
    "pretokenize",
    "quantized_tensor_bytes",
    "sinusoidal_positions",
    "train_bpe",
    "truncate",
    "vocab_sweep",
    "zero_memory",
]
