"""Shared fixtures: paths into the repository's test data and the CLI binary."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CLI = TARGET / "release" / "mipbound"


def run_cli(*args):
    """Runs the release CLI (built by `cargo test --release`) and parses its --json."""
    if not CLI.exists():
        raise RuntimeError(f"{CLI} is missing: run `cargo build --release` (scripts/test.sh does)")
    out = subprocess.run([str(CLI), *map(str, args), "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def cli():
    """`run_cli` as a fixture."""
    return run_cli
