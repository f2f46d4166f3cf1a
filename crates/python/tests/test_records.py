"""Batch records read through the library, as a DataFrame, and the study's plots."""

import csv
import subprocess

import pytest

import mipbound

from conftest import CLI, DATA

NETS = ["mlp-2-8-8-3.onnx", "mlp-3-6-5-2-f64.onnx", "torch/leaky-mlp.legacy.onnx"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    subprocess.run(
        [str(CLI), "batch", *(str(DATA / n) for n in NETS), "--out", str(out), "--xor", "2,3",
         "--trials", "3", "--no-activation-bound", "--threads", "1"],
        check=True, capture_output=True,
    )
    return out


def test_records_have_the_batch_fields(batch):
    records = mipbound.read_records(batch / "results.jsonl")
    assert len(records) == 3 and repr(records).endswith("3 networks)")
    for record, name in zip(records, NETS):
        assert record.network.endswith(name)
        assert record.exact.complete
        assert [w.xor for w in record.mipbound] == ["2", "3"]
        assert all(len(w.levels) == 3 for w in record.mipbound)
    # The exact counts are those of `count`.
    assert records[0].exact.regions == mipbound.count(mipbound.Network.load(DATA / NETS[0])).regions


def test_to_pandas_is_the_csv_table(batch):
    pd = pytest.importorskip("pandas")
    frame = mipbound.read_records(batch / "results.jsonl").to_pandas()
    with open(batch / "results.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert list(frame.columns) == rows[0]
    assert len(frame) == len(rows) - 1 == 3
    exact = [c for c in frame.columns if "exact" in c and "regions" in c][0]
    assert frame[exact].tolist() == [int(r[rows[0].index(exact)]) for r in rows[1:]]
    assert pd.api.types.is_numeric_dtype(frame[exact])


def test_study_plots_are_matplotlib_figures(batch):
    pytest.importorskip("matplotlib")
    from mipbound import plots

    figures = plots.study_figures(batch / "results.jsonl", name="three nets")
    assert sorted(figures) == ["accuracy-vs-regions", "lower-bound-vs-exact", "regions-per-split", "time-mipbound-vs-exact"]
    figure = plots.lower_bound_vs_exact(mipbound.read_records(batch / "results.jsonl"), name="three nets")
    ax = figure.axes[0]
    assert ax.get_title() == "three nets: MIPBound lower bound vs exact count"
    # One series per XOR width (and the diagonal), each with a point per network.
    assert [len(line.get_xdata()) for line in ax.lines[:2]] == [3, 3]


def test_bad_records_file_is_a_value_error(tmp_path):
    bad = tmp_path / "results.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(ValueError, match="results.jsonl"):
        mipbound.read_records(bad)


def test_missing_records_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match=r"reading .*missing\.jsonl"):
        mipbound.read_records(tmp_path / "missing.jsonl")
