"""The sweep's results as (triple x seed) grids, one per metric, on one shared design.

`MetricGrid.get(arch, suite, metric, ...)` returns a (T, S) array over every triple and
seed found in the results (NaN where a trial is missing), so statistics of different
architectures are paired on (seed, triple) by construction. `MetricGrid.intervals` holds
the class structure every interval of the grid shares (`analysis.inference.Intervals`).

A dedicated detector (arch "detector") has one trial per (seed, triple, left-out
generator); its rows are labelled `detector-lo-<left_out>` here, one "architecture" per
left-out generator, so that the grids of different detectors do not collide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from analysis.inference import Intervals
from analysis.measures import CROSS_FAKE
from fakedet.errors import UserError

NO_CLASS = -1
DETECTOR = "detector"
DETECTOR_PREFIX = "detector-lo-"


def detector_label(left_out: str) -> str:
    """The arch label of the dedicated detector that did not train on `left_out`'s fakes."""
    return f"{DETECTOR_PREFIX}{left_out}"


def label_archs(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of dedicated detectors relabelled: arch `detector-lo-<left_out>`, and outside
    `cross_fake` (whose generator is the left-out one) that label as generator too."""
    df = df.assign(arch=df["arch"].astype(str), generator_arch=df["generator_arch"].astype(str))
    if "left_out" not in df or df["left_out"].isna().all():
        return df
    det = df["left_out"].notna().to_numpy()
    label = np.where(det, DETECTOR_PREFIX + df["left_out"].fillna("").astype(str), df["arch"])
    own = det & (df["suite"] != CROSS_FAKE).to_numpy()
    return df.assign(arch=label, generator_arch=np.where(own, label, df["generator_arch"]))


@dataclass
class MetricGrid:
    """Metric values indexed by (arch, suite, generator, metric, class) -> (T, S)."""

    df: pd.DataFrame
    """Metric rows of one protocol, one budget per (arch, seed, triple), one checkpoint."""
    resamples: int = 10_000
    confidence: float = 0.95
    seed: int = 0
    triples: list[str] | None = None
    """The design's triples (default: those in `df`), rows of every grid."""
    seeds: list[int] | None = None
    """The design's seeds (default: those in `df`), columns of every grid."""
    _shared: Intervals | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.triples is None:
            self.triples = sorted(self.df.heldout.unique())
        if self.seeds is None:
            self.seeds = sorted(int(s) for s in self.df.seed.unique())
        keys = ["arch", "suite", "generator_arch", "metric", "class_key"]
        frame = self.df.assign(class_key=self.df.class_id.fillna(NO_CLASS).astype(int))
        columns = pd.MultiIndex.from_product([self.triples, self.seeds], names=["heldout", "seed"])
        wide = frame.set_index([*keys, "heldout", "seed"])["value"]
        wide = wide[~wide.index.duplicated(keep="last")].unstack(["heldout", "seed"])
        self._wide = wide.reindex(columns=columns)
        self._index = {k: i for i, k in enumerate(self._wide.index)}
        self._values = self._wide.to_numpy(dtype=np.float64)
        self._cross: dict[str, set[str]] = {}
        for arch, suite, generator, *_ in self._index:
            if suite == CROSS_FAKE:
                self._cross.setdefault(arch, set()).add(generator)

    @cached_property
    def intervals(self) -> Intervals:
        """The intervals of this grid's (triple x seed) design."""
        if self._shared is not None:
            return self._shared
        return Intervals(self.triples, len(self.seeds), self.resamples, self.seed, self.confidence)

    def like(self, df: pd.DataFrame) -> MetricGrid:
        """A grid of other rows (e.g. one checkpoint) on this grid's design."""
        return MetricGrid(
            df, self.resamples, self.confidence, self.seed, self.triples, self.seeds, self.intervals
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.triples), len(self.seeds)

    @property
    def archs(self) -> list[str]:
        """Every architecture label: GANs and dedicated detectors."""
        return sorted(self.df.arch.unique())

    @property
    def gans(self) -> list[str]:
        """The GAN architectures (whose discriminators are the detectors under study)."""
        return [a for a in self.archs if not a.startswith(DETECTOR_PREFIX)]

    @property
    def detectors(self) -> dict[str, str]:
        """{label: left-out generator} of the dedicated detectors."""
        return {a: a[len(DETECTOR_PREFIX) :] for a in self.archs if a.startswith(DETECTOR_PREFIX)}

    def get(self, arch, suite, metric, generator=None, class_id=None) -> np.ndarray:
        """(T, S) values (of one source class's per-class rows when `class_id` is given);
        all NaN when the results hold no such metric."""
        key = NO_CLASS if class_id is None else class_id
        i = self._index.get((arch, suite, generator or arch, metric, key))
        if i is None:
            return np.full(self.shape, np.nan)
        return self._values[i].reshape(self.shape)

    def has(self, arch, suite, metric, generator=None) -> bool:
        return (arch, suite, generator or arch, metric, NO_CLASS) in self._index

    def generators(self, arch: str) -> list[str]:
        """Architectures whose fakes this arch's detector was evaluated on (cross)."""
        return sorted(self._cross.get(arch, ()))


def only(df, column: str, flag: str, wanted: tuple[str, ...] | None):
    """Rows whose `column` is one of `wanted` (all rows if None); a name the results do
    not hold is one line naming `flag` and what they hold."""
    if not wanted:
        return df
    if unknown := set(wanted) - set(df[column]):
        raise UserError(
            f"{flag}: no results for {column} {', '.join(map(str, sorted(unknown)))}; "
            f"found: {', '.join(map(str, sorted(set(df[column]))))}"
        )
    return df[df[column].isin(wanted)]


def select(df: pd.DataFrame, protocol: str | None = None) -> tuple[pd.DataFrame, dict]:
    """One protocol, and one budget per (arch, seed, triple): the trial with most steps.
    Dedicated detectors are labelled per left-out generator first (`label_archs`).

    Returns:
        The selected rows and notes: {'protocol', 'protocols', 'dropped_trials'}.
    """
    df = label_archs(df)
    protocols = df.protocol.value_counts()
    if protocol is not None and protocol not in protocols.index:
        found = ", ".join(sorted(protocols.index))
        raise UserError(f"--protocol {protocol}: no results for this protocol; found: {found}")
    protocol = protocol or protocols.index[0]
    df = df[df.protocol == protocol]
    trials = df.drop_duplicates("trial_key")[["trial_key", "arch", "seed", "heldout", "steps"]]
    best = trials.sort_values(["steps", "trial_key"], ascending=[False, True]).drop_duplicates(
        ["arch", "seed", "heldout"]
    )
    dropped = sorted(set(trials.trial_key) - set(best.trial_key))
    notes = dict(protocol=protocol, protocols=list(protocols.index), dropped_trials=dropped)
    return df[df.trial_key.isin(best.trial_key)], notes


def checkpoint_grids(grid: MetricGrid, checkpoints: pd.DataFrame | None) -> dict[float, MetricGrid]:
    """{epoch: grid} of the checkpoints before the final one, of the trials in `grid`, on its
    design. Epochs are grouped after rounding to 6 significant digits."""
    if checkpoints is None or checkpoints.empty:
        return {}
    rows = label_archs(checkpoints)
    rows = rows[rows.trial_key.isin(set(grid.df.trial_key))]
    rows = rows[rows.checkpoint_epoch.notna()]
    epoch = rows.checkpoint_epoch.map(lambda e: float(f"{e:.6g}"))
    return {float(e): grid.like(part) for e, part in rows.groupby(epoch, sort=True)}
