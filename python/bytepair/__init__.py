"""bytepair: fast, exact byte-level BPE tokenization for people who build language models.

The tokenizer (training, encoding, decoding, file formats) runs in Rust (``bytepair._core``); this package is the
typed public API on top of it, plus numpy embedding tables and parameter / memory / FLOPs calculators.

    >>> import bytepair as bp
    >>> tok = bp.Tokenizer.train(["hello world"] * 10, vocab_size=260)
    >>> tok.decode(tok.encode("hello world"))
    'hello world'
"""

from __future__ import annotations

from ._core import (
    BytepairError,
    DisallowedSpecialError,
    FormatError,
)
from .tokenizer import PATTERNS, Tokenizer, train_bpe

# --- embeddings (issue 7) ---------------------------------------------------------------------------------------
from .embedding import Embedding
from .positions import apply_rope, sinusoidal_positions
# --- calculators (issue 8) --------------------------------------------------------------------------------------
from .catalog import models
from .config import SUPPORTED_MODEL_TYPES, ModelConfig
from .flops import FlopsPerToken, flops_per_token
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

__version__ = "0.1.0"

__all__ = [
    "BytepairError",
    "DisallowedSpecialError",
    "FormatError",
    "PATTERNS",
    "Tokenizer",
    "train_bpe",
    "Embedding",
    "apply_rope",
    "sinusoidal_positions",
    # calculators (issue 8)
    "ModelConfig",
    "SUPPORTED_MODEL_TYPES",
    "count_parameters",
    "count_parameters_safetensors",
    "ParameterCount",
    "SafetensorsCount",
    "estimate_memory",
    "MemoryEstimate",
    "KVCacheSpec",
    "TrainingSpec",
    "LoRASpec",
    "kv_cache_bytes",
    "lora_parameters",
    "zero_memory",
    "quantized_tensor_bytes",
    "format_bytes",
    "flops_per_token",
    "FlopsPerToken",
    "models",
]
