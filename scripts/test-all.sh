#!/usr/bin/env bash
# Installs everything the tests need into ./.venv (Rust crates come with cargo), builds bytepair, and runs every
# check: cargo fmt, clippy, cargo test, ruff, mypy, stubtest and pytest. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n==> %s\n' "$*"; }

step "install bytepair with its test extras (builds the Rust extension, release profile)"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet '.[test]'

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --all-targets -- -D warnings

step "cargo test"
cargo test --quiet -p bytepair-core

step "ruff"
ruff check python tests $( [ -d benches ] && echo benches )

step "mypy"
mypy python/bytepair

step "stubtest (bytepair._core against _core.pyi)"
# run from outside the source tree so the installed package (with the compiled extension) is the one checked
(cd /tmp && python -m mypy.stubtest bytepair._core)

step "pytest"
python -m pytest -q -p no:cacheprovider "$@"
