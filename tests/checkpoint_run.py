"""Run a GAN trial (or a pack) on 1 thread, optionally SIGKILLed at a chosen checkpoint save.

    python tests/checkpoint_run.py ROOT DATA_DIR SEEDS [--die-after-save N] [--die-in-save N]
    python tests/checkpoint_run.py ROOT DATA_DIR --trial-json PATH

SEEDS: '0' (a solo trial) or '0,4' (a pack of two); --trial-json: the trial of a
`trial.json` instead (another run's, to run it again uninterrupted).
--die-after-save N: SIGKILL this process right after its N-th checkpoint save.
--die-in-save N: SIGKILL it during its N-th save, after part of the bytes went to the
temporary file and before the rename.
The budget (`BUDGET`) saves at three evaluation checkpoints: steps 2, 12 and 24 of 40.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from fakedet import checkpoint  # noqa: E402
from fakedet import data as fmnist  # noqa: E402
from fakedet.config import TrialConfig, make_config  # noqa: E402
from fakedet.gan_job import run_gan  # noqa: E402
from fakedet.store import ResultsStore  # noqa: E402

BUDGET = dict(max_steps=40, eval_limit=60, eval_at=(0.002, 0.01, 0.02))
TRIPLES = ("0,6,9", "1,2,3")


def configs(seeds: str) -> list:
    return [
        make_config("hands_on", int(s), TRIPLES[i % 2], **BUDGET)
        for i, s in enumerate(seeds.split(","))
    ]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("data_dir")
    p.add_argument("seeds", nargs="?", default="0")
    p.add_argument("--trial-json", help="run the trial this trial.json describes")
    p.add_argument("--die-after-save", type=int)
    p.add_argument("--die-in-save", type=int)
    args = p.parse_args()
    torch.set_num_threads(1)
    saves = [0]
    real_save = checkpoint.StoreSink.save

    def save(self, data, step, figures):
        saves[0] += 1
        if saves[0] == args.die_in_save:
            tmp = self.store._temporary(self.path)
            with self.store.fs.open_output_stream(tmp) as f:
                f.write(data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        real_save(self, data, step, figures)
        if saves[0] == args.die_after_save:
            os.kill(os.getpid(), signal.SIGKILL)

    checkpoint.StoreSink.save = save
    store = ResultsStore(args.root)
    if args.trial_json:
        cfgs = [TrialConfig.from_dict(json.loads(Path(args.trial_json).read_text())["config"])]
    else:
        cfgs = configs(args.seeds)
    summaries = run_gan(cfgs, fmnist.load(args.data_dir), store, device="cpu")
    print([s["status"] for s in summaries], [s.get("resumed_from") for s in summaries])


if __name__ == "__main__":
    main()
