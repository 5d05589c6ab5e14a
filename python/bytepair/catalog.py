"""A catalog of real models with their published configs: ``bytepair.models``.

Each entry is a literal dict in Hugging Face ``config.json`` form (only the fields that shape the parameters,
spelled as in the published file), with a comment giving its source. ``bytepair.models[name]`` returns a
:class:`~bytepair.config.ModelConfig`; names are case-insensitive and the Hugging Face repository id
works too.

    >>> import bytepair as bp
    >>> bp.count_parameters(bp.models["meta-llama/Meta-Llama-3-8B"]).total
    8030261248
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._core import BytepairError
from .config import ModelConfig
from .params import count_parameters

__all__ = ["Catalog", "CatalogEntry", "models", "models_table", "plot_embedding_share"]


@dataclass(frozen=True)
class CatalogEntry:
    """One catalog model.

    Attributes:
        name: Short name (the catalog key).
        hf_id: Hugging Face repository id, or ``""`` for models known only from a paper.
        source: Where the numbers come from.
        config: The config in Hugging Face ``config.json`` form.
    """

    name: str
    hf_id: str
    source: str
    config: Mapping[str, Any]


def _hf(repo: str) -> str:
    return f"https://huggingface.co/{repo}/blob/main/config.json"


_ENTRIES: list[CatalogEntry] = [
    # ---- GPT-2 family: https://huggingface.co/openai-community/gpt2{,-medium,-large,-xl}/blob/main/config.json
    CatalogEntry(
        "gpt2",
        "openai-community/gpt2",
        _hf("openai-community/gpt2"),
        {
            "model_type": "gpt2",
            "vocab_size": 50257,
            "n_positions": 1024,
            "n_embd": 768,
            "n_layer": 12,
            "n_head": 12,
            "n_inner": None,
            "activation_function": "gelu_new",
        },
    ),
    CatalogEntry(
        "gpt2-medium",
        "openai-community/gpt2-medium",
        _hf("openai-community/gpt2-medium"),
        {
            "model_type": "gpt2",
            "vocab_size": 50257,
            "n_positions": 1024,
            "n_embd": 1024,
            "n_layer": 24,
            "n_head": 16,
            "n_inner": None,
            "activation_function": "gelu_new",
        },
    ),
    CatalogEntry(
        "gpt2-large",
        "openai-community/gpt2-large",
        _hf("openai-community/gpt2-large"),
        {
            "model_type": "gpt2",
            "vocab_size": 50257,
            "n_positions": 1024,
            "n_embd": 1280,
            "n_layer": 36,
            "n_head": 20,
            "n_inner": None,
            "activation_function": "gelu_new",
        },
    ),
    CatalogEntry(
        "gpt2-xl",
        "openai-community/gpt2-xl",
        _hf("openai-community/gpt2-xl"),
        {
            "model_type": "gpt2",
            "vocab_size": 50257,
            "n_positions": 1024,
            "n_embd": 1600,
            "n_layer": 48,
            "n_head": 25,
            "n_inner": None,
            "activation_function": "gelu_new",
        },
    ),
    # ---- GPT-3 175B at paper dimensions: Brown et al. 2020, "Language Models are Few-Shot Learners",
    # Table 2.1 (n_layers 96, d_model 12288, n_heads 96, d_head 128, n_ctx 2048) with the GPT-2 tokenizer
    # (vocab 50257) and GPT-2 architecture (sec. 2.1). No HF checkpoint exists; written as a gpt2 config.
    CatalogEntry(
        "gpt3-175b",
        "",
        "Brown et al. 2020, Table 2.1",
        {
            "model_type": "gpt2",
            "vocab_size": 50257,
            "n_positions": 2048,
            "n_embd": 12288,
            "n_layer": 96,
            "n_head": 96,
            "n_inner": None,
        },
    ),
    # ---- GPT-J-6B: https://huggingface.co/EleutherAI/gpt-j-6b/blob/main/config.json
    CatalogEntry(
        "gpt-j-6b",
        "EleutherAI/gpt-j-6b",
        _hf("EleutherAI/gpt-j-6b"),
        {
            "model_type": "gptj",
            "vocab_size": 50400,
            "n_positions": 2048,
            "n_embd": 4096,
            "n_layer": 28,
            "n_head": 16,
            "rotary_dim": 64,
            "n_inner": None,
            "tie_word_embeddings": False,
        },
    ),
    # ---- GPT-NeoX-20B: https://huggingface.co/EleutherAI/gpt-neox-20b/blob/main/config.json
    CatalogEntry(
        "gpt-neox-20b",
        "EleutherAI/gpt-neox-20b",
        _hf("EleutherAI/gpt-neox-20b"),
        {
            "model_type": "gpt_neox",
            "vocab_size": 50432,
            "hidden_size": 6144,
            "intermediate_size": 24576,
            "num_hidden_layers": 44,
            "num_attention_heads": 64,
            "max_position_embeddings": 2048,
            "rotary_pct": 0.25,
            "use_parallel_residual": True,
            "tie_word_embeddings": False,
        },
    ),
    # ---- OPT: https://huggingface.co/facebook/opt-125m/blob/main/config.json
    CatalogEntry(
        "opt-125m",
        "facebook/opt-125m",
        _hf("facebook/opt-125m"),
        {
            "model_type": "opt",
            "vocab_size": 50272,
            "hidden_size": 768,
            "ffn_dim": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "max_position_embeddings": 2048,
            "word_embed_proj_dim": 768,
            "do_layer_norm_before": True,
            "enable_bias": True,
        },
    ),
    # https://huggingface.co/facebook/opt-350m/blob/main/config.json (512-wide embeddings, post-norm)
    CatalogEntry(
        "opt-350m",
        "facebook/opt-350m",
        _hf("facebook/opt-350m"),
        {
            "model_type": "opt",
            "vocab_size": 50272,
            "hidden_size": 1024,
            "ffn_dim": 4096,
            "num_hidden_layers": 24,
            "num_attention_heads": 16,
            "max_position_embeddings": 2048,
            "word_embed_proj_dim": 512,
            "do_layer_norm_before": False,
            "enable_bias": True,
        },
    ),
    # OPT-175B: Zhang et al. 2022, "OPT: Open Pre-trained Transformer Language Models", Table 1 (96 layers,
    # 96 heads, d_model 12288, ffn 4 x d_model) with the vocabulary and positions of the released OPT configs.
    CatalogEntry(
        "opt-175b",
        "",
        "Zhang et al. 2022, Table 1; facebook/opt-* configs for vocab/positions",
        {
            "model_type": "opt",
            "vocab_size": 50272,
            "hidden_size": 12288,
            "ffn_dim": 49152,
            "num_hidden_layers": 96,
            "num_attention_heads": 96,
            "max_position_embeddings": 2048,
            "word_embed_proj_dim": 12288,
            "do_layer_norm_before": True,
            "enable_bias": True,
        },
    ),
    # ---- Llama 2: https://huggingface.co/meta-llama/Llama-2-{7b,13b,70b}-hf/blob/main/config.json
    CatalogEntry(
        "llama-2-7b",
        "meta-llama/Llama-2-7b-hf",
        _hf("meta-llama/Llama-2-7b-hf"),
        {
            "model_type": "llama",
            "vocab_size": 32000,
            "hidden_size": 4096,
            "intermediate_size": 11008,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 32,
            "max_position_embeddings": 4096,
            "tie_word_embeddings": False,
        },
    ),
    CatalogEntry(
        "llama-2-13b",
        "meta-llama/Llama-2-13b-hf",
        _hf("meta-llama/Llama-2-13b-hf"),
        {
            "model_type": "llama",
            "vocab_size": 32000,
            "hidden_size": 5120,
            "intermediate_size": 13824,
            "num_hidden_layers": 40,
            "num_attention_heads": 40,
            "num_key_value_heads": 40,
            "max_position_embeddings": 4096,
            "tie_word_embeddings": False,
        },
    ),
    CatalogEntry(
        "llama-2-70b",
        "meta-llama/Llama-2-70b-hf",
        _hf("meta-llama/Llama-2-70b-hf"),
        {
            "model_type": "llama",
            "vocab_size": 32000,
            "hidden_size": 8192,
            "intermediate_size": 28672,
            "num_hidden_layers": 80,
            "num_attention_heads": 64,
            "num_key_value_heads": 8,
            "max_position_embeddings": 4096,
            "tie_word_embeddings": False,
        },
    ),
    # ---- Llama 3: https://huggingface.co/meta-llama/Meta-Llama-3-{8B,70B}/blob/main/config.json
    CatalogEntry(
        "llama-3-8b",
        "meta-llama/Meta-Llama-3-8B",
        _hf("meta-llama/Meta-Llama-3-8B"),
        {
            "model_type": "llama",
            "vocab_size": 128256,
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "max_position_embeddings": 8192,
            "rope_theta": 500000.0,
            "tie_word_embeddings": False,
        },
    ),
    CatalogEntry(
        "llama-3-70b",
        "meta-llama/Meta-Llama-3-70B",
        _hf("meta-llama/Meta-Llama-3-70B"),
        {
            "model_type": "llama",
            "vocab_size": 128256,
            "hidden_size": 8192,
            "intermediate_size": 28672,
            "num_hidden_layers": 80,
            "num_attention_heads": 64,
            "num_key_value_heads": 8,
            "max_position_embeddings": 8192,
            "rope_theta": 500000.0,
            "tie_word_embeddings": False,
        },
    ),
    # https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json (tied, head_dim 64)
    CatalogEntry(
        "llama-3.2-1b",
        "meta-llama/Llama-3.2-1B",
        _hf("meta-llama/Llama-3.2-1B"),
        {
            "model_type": "llama",
            "vocab_size": 128256,
            "hidden_size": 2048,
            "intermediate_size": 8192,
            "num_hidden_layers": 16,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 64,
            "max_position_embeddings": 131072,
            "rope_theta": 500000.0,
            "tie_word_embeddings": True,
        },
    ),
    # ---- Mistral: https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json
    CatalogEntry(
        "mistral-7b",
        "mistralai/Mistral-7B-v0.1",
        _hf("mistralai/Mistral-7B-v0.1"),
        {
            "model_type": "mistral",
            "vocab_size": 32000,
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "max_position_embeddings": 32768,
            "sliding_window": 4096,
            "tie_word_embeddings": False,
        },
    ),
    # https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json
    CatalogEntry(
        "mixtral-8x7b",
        "mistralai/Mixtral-8x7B-v0.1",
        _hf("mistralai/Mixtral-8x7B-v0.1"),
        {
            "model_type": "mixtral",
            "vocab_size": 32000,
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "num_local_experts": 8,
            "num_experts_per_tok": 2,
            "max_position_embeddings": 32768,
            "rope_theta": 1000000.0,
            "tie_word_embeddings": False,
        },
    ),
    # ---- Qwen2.5: https://huggingface.co/Qwen/Qwen2.5-{0.5B,7B}/blob/main/config.json
    CatalogEntry(
        "qwen2.5-0.5b",
        "Qwen/Qwen2.5-0.5B",
        _hf("Qwen/Qwen2.5-0.5B"),
        {
            "model_type": "qwen2",
            "vocab_size": 151936,
            "hidden_size": 896,
            "intermediate_size": 4864,
            "num_hidden_layers": 24,
            "num_attention_heads": 14,
            "num_key_value_heads": 2,
            "max_position_embeddings": 32768,
            "tie_word_embeddings": True,
        },
    ),
    CatalogEntry(
        "qwen2.5-7b",
        "Qwen/Qwen2.5-7B",
        _hf("Qwen/Qwen2.5-7B"),
        {
            "model_type": "qwen2",
            "vocab_size": 152064,
            "hidden_size": 3584,
            "intermediate_size": 18944,
            "num_hidden_layers": 28,
            "num_attention_heads": 28,
            "num_key_value_heads": 4,
            "max_position_embeddings": 131072,
            "tie_word_embeddings": False,
        },
    ),
    # https://huggingface.co/Qwen/Qwen1.5-MoE-A2.7B/blob/main/config.json (60 experts, top-4, shared expert)
    CatalogEntry(
        "qwen1.5-moe-a2.7b",
        "Qwen/Qwen1.5-MoE-A2.7B",
        _hf("Qwen/Qwen1.5-MoE-A2.7B"),
        {
            "model_type": "qwen2_moe",
            "vocab_size": 151936,
            "hidden_size": 2048,
            "intermediate_size": 5632,
            "moe_intermediate_size": 1408,
            "shared_expert_intermediate_size": 5632,
            "num_experts": 60,
            "num_experts_per_tok": 4,
            "decoder_sparse_step": 1,
            "mlp_only_layers": [],
            "num_hidden_layers": 24,
            "num_attention_heads": 16,
            "num_key_value_heads": 16,
            "max_position_embeddings": 8192,
            "tie_word_embeddings": False,
        },
    ),
    # ---- Gemma: https://huggingface.co/google/gemma-{2b,7b}/blob/main/config.json
    # (head_dim 256; for 7B, 16 heads x 256 = 4096 != hidden_size 3072)
    CatalogEntry(
        "gemma-2b",
        "google/gemma-2b",
        _hf("google/gemma-2b"),
        {
            "model_type": "gemma",
            "vocab_size": 256000,
            "hidden_size": 2048,
            "intermediate_size": 16384,
            "num_hidden_layers": 18,
            "num_attention_heads": 8,
            "num_key_value_heads": 1,
            "head_dim": 256,
            "max_position_embeddings": 8192,
        },
    ),
    CatalogEntry(
        "gemma-7b",
        "google/gemma-7b",
        _hf("google/gemma-7b"),
        {
            "model_type": "gemma",
            "vocab_size": 256000,
            "hidden_size": 3072,
            "intermediate_size": 24576,
            "num_hidden_layers": 28,
            "num_attention_heads": 16,
            "num_key_value_heads": 16,
            "head_dim": 256,
            "max_position_embeddings": 8192,
        },
    ),
    # ---- Phi: https://huggingface.co/microsoft/phi-2/blob/main/config.json
    CatalogEntry(
        "phi-2",
        "microsoft/phi-2",
        _hf("microsoft/phi-2"),
        {
            "model_type": "phi",
            "vocab_size": 51200,
            "hidden_size": 2560,
            "intermediate_size": 10240,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 32,
            "partial_rotary_factor": 0.4,
            "qk_layernorm": False,
            "max_position_embeddings": 2048,
            "tie_word_embeddings": False,
        },
    ),
    # https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json
    CatalogEntry(
        "phi-3-mini",
        "microsoft/Phi-3-mini-4k-instruct",
        _hf("microsoft/Phi-3-mini-4k-instruct"),
        {
            "model_type": "phi3",
            "vocab_size": 32064,
            "hidden_size": 3072,
            "intermediate_size": 8192,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 32,
            "max_position_embeddings": 4096,
            "tie_word_embeddings": False,
        },
    ),
    # ---- BERT: https://huggingface.co/google-bert/bert-base-uncased/blob/main/config.json
    # (counted as BertModel with its pooler)
    CatalogEntry(
        "bert-base-uncased",
        "google-bert/bert-base-uncased",
        _hf("google-bert/bert-base-uncased"),
        {
            "model_type": "bert",
            "vocab_size": 30522,
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "max_position_embeddings": 512,
            "type_vocab_size": 2,
            "position_embedding_type": "absolute",
        },
    ),
]


class Catalog(Mapping[str, ModelConfig]):
    """Read-only mapping of model name -> :class:`ModelConfig`, built from published configs.

    Lookup is case-insensitive and accepts the Hugging Face repository id (``"meta-llama/Meta-Llama-3-8B"``)
    as well as the short name (``"llama-3-8b"``).
    """

    def __init__(self, entries: list[CatalogEntry]) -> None:
        self._entries = {e.name: e for e in entries}
        self._aliases: dict[str, str] = {}
        for e in entries:
            self._aliases[e.name.lower()] = e.name
            if e.hf_id:
                self._aliases[e.hf_id.lower()] = e.name
                self._aliases[e.hf_id.split("/")[-1].lower()] = e.name

    def entry(self, name: str) -> CatalogEntry:
        """The catalog entry (name, Hugging Face id, source, raw config) for ``name``.

        Raises:
            KeyError: if the model is not in the catalog; the message lists the names.
        """
        key = self._aliases.get(name.lower())
        if key is None:
            raise KeyError(f"unknown model {name!r}; catalog models: {', '.join(self._entries)}")
        return self._entries[key]

    def hf_config(self, name: str) -> dict[str, Any]:
        """A copy of the published config dict (Hugging Face ``config.json`` form)."""
        return copy.deepcopy(dict(self.entry(name).config))

    def __getitem__(self, name: str) -> ModelConfig:
        e = self.entry(name)
        return ModelConfig.from_hf(e.config, name=e.name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<bytepair.models: {len(self)} models: {', '.join(self._entries)}>"


#: The catalog of real models (see :class:`Catalog`).
models = Catalog(_ENTRIES)


def models_table(names: list[str] | None = None) -> str:
    """One table of catalog models: parameters, vocabulary, d_model, embedding parameters and share.

    The input and output tables are counted separately when untied (``emb in`` / ``emb out``); the share is
    ``(input + output table) / total``.

    Args:
        names: Catalog names to include; all by default.

    Returns:
        The table as text.
    """
    header = (
        f"{'model':<20}{'parameters':>18}{'vocab':>9}{'d_model':>9}{'emb in':>15}{'emb out':>15}"
        f"{'emb share':>11}"
    )
    lines = [header, "-" * len(header)]
    for name in names or list(models):
        p = count_parameters(models[name])
        out = f"{p.lm_head:,}" if p.lm_head else ("tied" if p.config.has_lm_head else "-")
        lines.append(
            f"{name:<20}{p.total:>18,}{p.config.vocab_size:>9,}{p.config.hidden_size:>9,}"
            f"{p.embedding:>15,}{out:>15}{100 * p.embedding_share:>10.2f}%"
        )
    return "\n".join(lines)


def plot_embedding_share(path: str | os.PathLike[str], names: list[str] | None = None) -> None:
    """Draw embedding share against model size (log scale) for catalog models, as a PNG.

    Uses matplotlib with the non-interactive Agg backend.

    Args:
        path: Output file (PNG).
        names: Catalog names to plot; all by default.

    Raises:
        BytepairError: (a ``ValueError``) if matplotlib is not installed (``pip install 'bytepair[plot]'``).
        OSError: if the file cannot be written.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise BytepairError(
            "plotting needs matplotlib, which is not installed: pip install 'bytepair[plot]'"
        ) from None
    counts = [count_parameters(models[n]) for n in (names or list(models))]
    fig = Figure(figsize=(9, 6))
    FigureCanvasAgg(fig)  # render with Agg without touching pyplot's global backend
    ax = fig.add_subplot()
    for p in counts:
        marker = "o" if p.config.tie_word_embeddings or not p.config.has_lm_head else "s"
        ax.scatter(
            p.total, 100 * p.embedding_share, marker=marker, color="tab:blue" if marker == "o" else "tab:red"
        )
        ax.annotate(
            p.config.name,
            (p.total, 100 * p.embedding_share),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameters (total)")
    ax.set_ylabel("token embedding share of parameters (%)")
    ax.set_title("Embedding share vs model size (circles: tied, squares: untied input + output)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.fspath(path), format="png", dpi=120)
