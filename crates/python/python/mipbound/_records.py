"""Batch and study records (``results.jsonl`` of ``mipbound batch`` / ``study``)."""

import json
import os
from typing import Any, List, Union

from . import _native
from ._results import Record, _ints

PathLike = Union[str, "os.PathLike[str]"]


class Records(List[Record]):
    """The records of a ``results.jsonl``, one per network, in file order; each is a
    ``Record`` with the JSON's fields as attributes."""

    def __init__(self, path: PathLike):
        self.path = os.fspath(path)
        super().__init__(Record(r) for r in _ints(json.loads(_native.records_json(self.path))))

    def to_pandas(self) -> Any:
        """The records as a DataFrame with the columns of ``results.csv`` (one per XOR
        width for its lower bound and levels); requires pandas."""
        import pandas as pd  # type: ignore[import-untyped]

        header, rows = _native.records_table(self.path)
        frame = pd.DataFrame(rows, columns=header).replace("", None)
        for column in frame.columns:
            try:
                frame[column] = pd.to_numeric(frame[column])
            except (ValueError, TypeError):
                pass
        return frame

    def __repr__(self) -> str:
        return f"Records({self.path!r}, {len(self)} networks)"


def read_records(path: PathLike) -> Records:
    """Reads a ``results.jsonl`` written by ``mipbound batch`` or ``mipbound study``."""
    return Records(path)
