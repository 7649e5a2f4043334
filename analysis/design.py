"""The sweep's results as (triple x seed) grids, one per metric, on one shared design.

`Grid.get(arch, suite, metric, ...)` returns a (T, S) array over every triple and seed
found in the results (NaN where a trial is missing), so statistics of different
architectures are paired on (seed, triple) by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.stats import Bootstrap

NO_CLASS = -1


@dataclass
class Grid:
    """Metric values indexed by (arch, suite, generator, metric, class) -> (T, S)."""

    df: pd.DataFrame
    """Metric rows of one protocol, one budget per (arch, seed, triple)."""
    resamples: int = 10_000
    confidence: float = 0.95
    seed: int = 0
    triples: list[str] = field(init=False)
    seeds: list[int] = field(init=False)

    def __post_init__(self):
        self.triples = sorted(self.df.heldout.unique())
        self.seeds = sorted(int(s) for s in self.df.seed.unique())
        keys = ["arch", "suite", "generator_arch", "metric", "class_key"]
        frame = self.df.assign(class_key=self.df.class_id.fillna(NO_CLASS).astype(int))
        columns = pd.MultiIndex.from_product([self.triples, self.seeds], names=["heldout", "seed"])
        wide = frame.set_index([*keys, "heldout", "seed"])["value"].unstack(["heldout", "seed"])
        self._wide = wide.reindex(columns=columns)
        self._index = {k: i for i, k in enumerate(self._wide.index)}
        self._values = self._wide.to_numpy(dtype=np.float64)
        self._boot: dict[int, Bootstrap] = {}

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.triples), len(self.seeds)

    @property
    def archs(self) -> list[str]:
        return sorted(self.df.arch.unique())

    def get(self, arch, suite, metric, generator=None, class_id=NO_CLASS) -> np.ndarray:
        """(T, S) values; all NaN when the results hold no such metric."""
        i = self._index.get((arch, suite, generator or arch, metric, class_id))
        if i is None:
            return np.full(self.shape, np.nan)
        return self._values[i].reshape(self.shape)

    def has(self, arch, suite, metric, generator=None) -> bool:
        return (arch, suite, generator or arch, metric, NO_CLASS) in self._index

    def bootstrap(self, stream: int = 0) -> Bootstrap:
        """The design's resamples; `stream` gives an independent set (unpaired sides)."""
        if stream not in self._boot:
            self._boot[stream] = Bootstrap(
                *self.shape, self.resamples, self.seed + stream, self.confidence
            )
        return self._boot[stream]

    def generators(self, arch: str) -> list[str]:
        """Architectures whose fakes this arch's discriminator was evaluated on (cross)."""
        sel = self.df[(self.df.arch == arch) & (self.df.suite == "cross_fake")]
        return sorted(sel.generator_arch.unique())


def select(df: pd.DataFrame, protocol: str | None = None) -> tuple[pd.DataFrame, dict]:
    """One protocol, and one budget per (arch, seed, triple): the trial with most steps.

    Returns:
        The selected rows and notes: {'protocol', 'protocols', 'dropped_trials'}.
    """
    protocols = df.protocol.value_counts()
    protocol = protocol or protocols.index[0]
    df = df[df.protocol == protocol]
    trials = df.drop_duplicates("trial_key")[["trial_key", "arch", "seed", "heldout", "steps"]]
    best = trials.sort_values(["steps", "trial_key"], ascending=[False, True]).drop_duplicates(
        ["arch", "seed", "heldout"]
    )
    dropped = sorted(set(trials.trial_key) - set(best.trial_key))
    notes = dict(protocol=protocol, protocols=list(protocols.index), dropped_trials=dropped)
    return df[df.trial_key.isin(best.trial_key)], notes
