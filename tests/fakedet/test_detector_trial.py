"""The dedicated detector's trial: leave one generator out, written like a GAN trial."""

import subprocess
import sys

import pytest

from conftest import REPO
from fakedet.config import make_config
from fakedet.detector import DetectorRecipe
from fakedet.detector_trial import DetectorTrial, detector_trials, run_detector_trial
from fakedet.store import ResultsStore
from fakedet.trial import run_trial

BUDGET = dict(max_steps=2, eval_limit=60)


@pytest.fixture(scope="module")
def gan_root(fashion_mnist, tmp_path_factory):
    """Two tiny GAN trials of one (seed, triple)."""
    root = tmp_path_factory.mktemp("gans")
    store = ResultsStore(root)
    trials = [make_config(a, 0, "1,4,7", eval_at=(), **BUDGET) for a in ("hands_on", "brownlee")]
    for t in trials:
        run_trial(t, fashion_mnist, store, device="cpu")
    return root, trials


def tiny(trials, left_out="brownlee") -> DetectorTrial:
    return DetectorTrial(left_out, tuple(trials), DetectorRecipe(max_steps=3), train_fakes=64,
                         test_fakes=50, eval_limit=60)  # fmt: skip


def test_one_detector_per_architecture_left_out(gan_root):
    _, trials = gan_root
    detectors = detector_trials([trials, trials[:1]])  # a lone arch makes none
    assert [(d.left_out, [t.arch for t in d.trained_on]) for d in detectors] == [
        ("hands_on", ["brownlee"]),
        ("brownlee", ["hands_on"]),
    ]
    assert len({d.key for d in detectors}) == 2 and detectors[0].key.startswith(
        "detector_s0_h1-4-7"
    )
    assert DetectorTrial.from_dict(detectors[0].to_dict()) == detectors[0]
    with pytest.raises(ValueError):
        DetectorTrial("tf_dcgan", tuple(trials))


def test_detector_rows_suites_and_skip(fashion_mnist, gan_root, tmp_path):
    root, trials = gan_root
    store = ResultsStore(root)
    d = tiny(trials)
    assert run_detector_trial(d, fashion_mnist, store, "cpu") == "done"
    df = store.read_table(store.metrics_path(d)).to_pandas()
    assert set(df.suite) == {"train_fake", "cross_fake", "real_heldout", "real_test", "overall",
                             "operating_point", "train_fake_8bit", "cross_fake_8bit"}  # fmt: skip
    assert (df.left_out == "brownlee").all() and (df.steps == 3).all()
    by_suite = df[df.metric == "generated_recall"].set_index("suite")
    assert by_suite.loc["cross_fake", "generator_arch"] == "brownlee"
    assert by_suite.loc["train_fake", "generator_arch"] == "hands_on"
    assert by_suite.loc["cross_fake", "support"] == 50
    real = df[(df.suite == "real_heldout") & (df.metric == "real_recall")]
    assert real.support.iloc[0] == 60
    assert run_detector_trial(d, fashion_mnist, store, "cpu") == "skipped"


KILL_WHILE_WRITING_METRICS = """
import os, signal, sys
from fakedet import data
from fakedet.detector_trial import DetectorTrial, run_detector_trial
from fakedet.store import ResultsStore
import json

store = ResultsStore(sys.argv[1])
trial = DetectorTrial.from_dict(json.loads(sys.argv[2]))
write_bytes = ResultsStore.write_bytes

def dying_write(self, path, payload):
    if path == store.metrics_path(trial):  # killed halfway through its last write
        tmp = self._temporary(path)
        with self.fs.open_output_stream(tmp) as f:
            f.write(payload[: len(payload) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    write_bytes(self, path, payload)

ResultsStore.write_bytes = dying_write
run_detector_trial(trial, data.load(download=False), store, "cpu")
"""


def test_a_killed_detector_leaves_no_complete_file_and_reruns(fashion_mnist, gan_root):
    import json

    root, trials = gan_root
    store = ResultsStore(root)
    d = tiny(trials, left_out="hands_on")
    proc = subprocess.run([sys.executable, "-c", KILL_WHILE_WRITING_METRICS, str(root),
                           json.dumps(d.to_dict())], cwd=REPO, capture_output=True)  # fmt: skip
    assert proc.returncode == -9, proc.stderr
    assert not store.is_complete(d)
    leftovers = [p for p in root.rglob("_tmp-*") if d.key in p.name]
    assert leftovers  # the killed write's temporary, which no reader takes as complete
    assert run_detector_trial(d, fashion_mnist, store, "cpu") == "done"
    assert store.is_complete(d) and not [p for p in root.rglob("_tmp-*") if d.key in p.name]
