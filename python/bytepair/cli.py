"""The ``bytepair`` command line.

Each area of the package registers its own sub-commands: a module listed in ``_COMMAND_MODULES`` defines
``register(subparsers)``, which adds parsers whose ``func`` attribute takes the parsed arguments and returns an
exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._core import DisallowedSpecialError

# Modules that add sub-commands. Append yours; each must define ``register(subparsers) -> None``.
_COMMAND_MODULES: tuple[str, ...] = (
    "bytepair.cli_tokenizer",
    "bytepair.cli_embed",
    "bytepair.cli_calc",
    "bytepair.cli_formats",
    "bytepair.cli_shrink",
    "bytepair.cli_analysis",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bytepair",
        description="Fast, exact byte-level BPE tokenizer, embeddings and model calculators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


# Python argument names in error messages -> the flags of a command
_FLAGS = {
    "encode": (("num_threads", "--threads"), ("shard_tokens", "--shard-tokens"),
               ("allowed_special", "--allowed-special")),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, MemoryError) as exc:  # BytepairError is a ValueError: the message, no traceback
        message = str(exc) if not isinstance(exc, MemoryError) else f"out of memory: {exc}"
        if isinstance(exc, DisallowedSpecialError):
            # the core's hint names the Python arguments; on the command line they are flags
            message = message.split(". Pass allowed_special=")[0] + (
                ". Pass --allowed-special TOKEN (or all) to encode it as a special token, or --plain-specials to "
                "encode it as normal text"
            )
        for arg, flag in _FLAGS.get(args.command, ()):  # name the flag the user typed, not the Python argument
            message = message.replace(f"{arg} must be", f"{flag} must be").replace(f"{arg}: ", f"{flag}: ")
        print(f"bytepair {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
