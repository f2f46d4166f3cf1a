"""Shared fixtures: paths into the repository's test data and the CLI binary."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CLI = TARGET / "release" / "mipbound"
