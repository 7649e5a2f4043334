"""Every random stream of the project, named once, with how its seed is derived.

A trial (and every job derived from it) draws from these streams only. Each is an
explicit generator seeded from the trial seed (never the global RNG): the split from
(seed, triple), the rest from `seed + offset`, the offsets far apart so that no two
streams of any trial of seeds 0..10^6 share a seed. The values are those of 0.1 and 0.2:
changing one changes every result that uses it.

    stream                  generator                      seed
    split                   numpy default_rng              [seed, *triple]
    init                    torch CPU Generator            seed       initial weights
    train                   torch Generator (device)       seed       per step, in this order:
                                                                      batch order, noise,
                                                                      dropout masks
    eval_fakes              torch Generator (device)       seed + 1_000_003
    sample_grid             torch CPU Generator            0          (all trials alike)
    cross_fakes             torch Generator (device)       seed + 2_000_003
    detector                torch CPU/device Generators    seed + 3_000_017
    detector_train_fakes    per generator i                seed + 4_000_037 + i * 1_000_003
    detector_test_fakes     per generator i                seed + 5_000_011 + i * 1_000_003
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stream:
    """A named random stream: its seed is `offset + trial seed` (or `offset` alone)."""

    name: str
    offset: int
    per_trial: bool = True
    """False: the same seed for every trial (the sample grid's fixed noise)."""

    def seed(self, trial_seed: int = 0) -> int:
        return self.offset + trial_seed if self.per_trial else self.offset


INIT = Stream("init", 0)
TRAIN = Stream("train", 0)
EVAL_FAKES = Stream("eval_fakes", 1_000_003)
SAMPLE_GRID = Stream("sample_grid", 0, per_trial=False)
CROSS_FAKES = Stream("cross_fakes", 2_000_003)
DETECTOR = Stream("detector", 3_000_017)
DETECTOR_TRAIN_FAKES = Stream("detector_train_fakes", 4_000_037)
DETECTOR_TEST_FAKES = Stream("detector_test_fakes", 5_000_011)
FAKES_STRIDE = 1_000_003
"""A detector's fakes of generator i are drawn with `stream seed + i * FAKES_STRIDE`."""

STREAMS = (
    INIT,
    TRAIN,
    EVAL_FAKES,
    SAMPLE_GRID,
    CROSS_FAKES,
    DETECTOR,
    DETECTOR_TRAIN_FAKES,
    DETECTOR_TEST_FAKES,
)
