import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from fakedet.errors import UserError
from fakedet.schema import METRICS_SCHEMA, PARTITION_COLUMNS, to_table
from fakedet.store import ResultsStore, TrialId


def metric_row(**kw):
    row = {f.name: None for f in METRICS_SCHEMA}
    row.update(
        trial_key="k",
        arch="brownlee",
        seed=0,
        heldout="0-6-9",
        protocol="seed",
        suite="overall",
        generator_arch="brownlee",
        metric="accuracy",
        value=0.5,
        support=10,
    )
    row.update(kw)
    return row


def test_schema_round_trip(tmp_path):
    store = ResultsStore(tmp_path)
    table = to_table([metric_row(), metric_row(metric="auroc", class_id=3)], METRICS_SCHEMA)
    path = store.write_metrics(table, TrialId("k", "brownlee", "seed"))
    assert "arch=brownlee/protocol=seed" in path
    file_cols = store.read_table(path).column_names
    assert not set(PARTITION_COLUMNS) & set(file_cols)
    back = ds.dataset(
        tmp_path / "metrics", format="parquet", schema=METRICS_SCHEMA, partitioning="hive"
    ).to_table()
    assert back.schema == METRICS_SCHEMA
    assert back.sort_by("metric").to_pylist() == table.sort_by("metric").to_pylist()


def test_writes_are_atomic_and_leave_no_temporaries(tmp_path):
    store = ResultsStore(tmp_path)
    store.write_bytes(store.path("a", "b.bin"), b"x")
    store.write_bytes(store.path("a", "b.bin"), b"yz")  # replaces
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"yz"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.bin"]


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)

    class BrokenMove:  # the real filesystem, except that the final rename fails
        def __init__(self, fs):
            self.fs = fs

        def __getattr__(self, name):
            return getattr(self.fs, name)

        def move(self, src, dst):
            raise OSError("disk gone")

    monkeypatch.setattr(store, "fs", BrokenMove(store.fs))
    with pytest.raises(OSError):
        store.write_bytes(store.path("m.parquet"), b"data")
    assert list(tmp_path.iterdir()) == []


def test_temporaries_of_a_killed_writer_are_removed(tmp_path):
    store = ResultsStore(tmp_path)
    target = store.path("trials", "k", "generator.pt")
    (tmp_path / "trials" / "k").mkdir(parents=True)
    (tmp_path / "trials" / "k" / "_tmp-0123abcd-generator.pt").write_bytes(b"half")
    (tmp_path / "trials" / "k" / "_tmp-0123abcd-discriminator.pt").write_bytes(b"other")
    (tmp_path / "trials" / "k" / "generator.pt.bak").write_bytes(b"not ours")
    assert store.remove_temporaries(target) == 1
    names = sorted(p.name for p in (tmp_path / "trials" / "k").iterdir())
    assert names == ["_tmp-0123abcd-discriminator.pt", "generator.pt.bak"]
    assert store.remove_temporaries(store.path("nowhere", "x")) == 0


def test_results_location_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        ResultsStore(tmp_path / "file").check_writable()
    with pytest.raises(UserError, match="invalid results location"):
        ResultsStore("nosuchscheme://bucket/x")
    with pytest.raises(UserError, match="not writable"):
        ResultsStore(tmp_path / "file" / "below").check_writable()


def test_uri_root(tmp_path):
    store = ResultsStore(f"file://{tmp_path}")
    store.check_writable()
    store.write_json(store.path("x.json"), {"a": 1})
    assert store.read_json(store.path("x.json")) == {"a": 1}
    assert store.uri("x") == f"file://{tmp_path}/x"
    query = "?endpoint_override=127.0.0.1:9&scheme=http"
    assert ResultsStore(f"file://{tmp_path}{query}").uri("_tune", "a") == (
        f"file://{tmp_path}/_tune/a{query}"
    )
    assert isinstance(store.fs, pa.fs.LocalFileSystem)
