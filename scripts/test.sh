#!/usr/bin/env bash
# The project's test command: the Rust tests, then the Python package's tests.
#
# Builds the `mipbound` wheel with maturin into the same target directory as cargo (so
# HiGHS and the library crates are not compiled twice), installs it in a virtual
# environment under the target directory, and runs pytest on crates/python/tests. The
# tests that need PyTorch are skipped when it is not importable; set MIPBOUND_TEST_PYTHON to
# run them with another interpreter's packages on the path (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target"

cargo test --release --workspace

venv="$target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.5,<2" numpy pytest pandas matplotlib
rm -rf "$target/wheels"
"$venv/bin/maturin" build --release --quiet -m crates/python/Cargo.toml \
    --interpreter "$venv/bin/python" --out "$target/wheels"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall \
    --no-deps "$target"/wheels/mipbound-*.whl
# From the tests' folder, so that `import mipbound` is the installed wheel.
cd crates/python/tests
"$venv/bin/python" -m pytest -q "$@"
