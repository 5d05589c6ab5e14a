"""``bytepair embed``: tokenize a text and look its ids up in a (random or checkpoint) embedding table."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .embedding import Embedding


def _load_tokenizer(path: str) -> Any:
    """Load a tokenizer saved with ``Tokenizer.save`` (a separate function so tests can substitute it)."""
    from .tokenizer import Tokenizer

    return Tokenizer.load(path)


def _token_text(tok: Any, token_id: int) -> str:
    """The text of one token for display; invalid UTF-8 bytes are shown as escapes."""
    try:
        raw = tok.decode_single_token_bytes(token_id)
    except AttributeError:
        return str(tok.decode([token_id]))
    return bytes(raw).decode("utf-8", errors="backslashreplace")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "embed",
        help="tokenize TEXT and print its token ids and embedding shapes",
        description=(
            "Tokenize TEXT with a saved tokenizer, look the ids up in an embedding table (random GPT-2-style "
            "initialisation sized from the tokenizer, or the table inside a .safetensors checkpoint) and print "
            "the ids, the shapes and the first values of each vector."
        ),
    )
    p.add_argument("text", metavar="TEXT", help="the text to embed")
    p.add_argument("--tokenizer", required=True, metavar="PATH", help="a tokenizer saved with Tokenizer.save")
    p.add_argument("--dim", type=int, metavar="D", help="embedding width for a random table (required unless "
                   "--checkpoint is given)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed for the random table")
    p.add_argument("--pad-to-multiple-of", type=int, default=None, metavar="M",
                   help="round the number of rows up to a multiple of M")
    p.add_argument("--checkpoint", metavar="FILE", default=None,
                   help="use the embedding table of this .safetensors file instead of a random one")
    p.add_argument("--allow-special", action="store_true", help="encode special-token text as special tokens")
    p.add_argument("--show", type=int, default=4, metavar="N", help="values to print per vector (default 4)")
    p.add_argument("--plot", metavar="PNG", default=None, help="also write a heatmap of the vectors (matplotlib)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.checkpoint is None and args.dim is None:
        raise ValueError("give --dim D (random table) or --checkpoint FILE")
    if args.dim is not None and args.dim < 1:
        raise ValueError(f"--dim must be >= 1, got {args.dim}")
    tok = _load_tokenizer(args.tokenizer)
    if args.allow_special:
        ids = tok.encode(args.text, allowed_special="all")
    else:
        ids = tok.encode(args.text)
    ids = np.asarray(ids, dtype=np.int64)

    if args.checkpoint is not None:
        emb = Embedding.from_safetensors(args.checkpoint)
        if args.dim is not None and args.dim != emb.embedding_dim:
            raise ValueError(f"--dim {args.dim} does not match the checkpoint's embedding_dim {emb.embedding_dim}")
        if emb.num_embeddings < tok.n_vocab:
            print(f"warning: the checkpoint table has {emb.num_embeddings} rows but the tokenizer has "
                  f"{tok.n_vocab} tokens")
    else:
        emb = Embedding.for_tokenizer(tok, args.dim, pad_to_multiple_of=args.pad_to_multiple_of, seed=args.seed)
    vectors = emb(ids)

    print(f"text:    {args.text!r}")
    print(f"ids:     {ids.tolist()}")
    print(f"         shape {ids.shape}, {ids.size} tokens, n_vocab {tok.n_vocab}")
    print(f"table:   {emb!r}")
    print(f"vectors: shape {vectors.shape}, dtype {vectors.dtype.name}")
    show = max(0, args.show)
    texts = [_token_text(tok, int(i)) for i in ids]
    width = max((len(repr(t)) for t in texts), default=0)
    for i, (token_id, text) in enumerate(zip(ids.tolist(), texts)):
        head = ", ".join(f"{float(v):+.4f}" for v in vectors[i, :show])
        more = ", ..." if show < emb.embedding_dim else ""
        print(f"  {token_id:>8} {text!r:<{width}} [{head}{more}]")
    if args.plot is not None:
        if ids.size == 0:
            raise ValueError("nothing to plot: the text has no tokens")
        out = emb.plot(ids, args.plot, labels=texts)
        print(f"plot:    {out}")
    return 0
