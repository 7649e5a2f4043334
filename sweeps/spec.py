"""What a sweep runs: architectures x seeds x held-out triples at one budget.

Pure planning, no Ray: what to run (`SweepSpec`, whose fields declare their command-line
options), parsing their lists, the trials of a plan in a fixed order, a deterministic
experiment name, and the (detector, generator) pairs of the cross-evaluation phase.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from dataclasses import dataclass

from fakedet.config import DEFAULT_CROSS_FAKES, MAX_SEED, Budget, TrialConfig, make_config
from fakedet.errors import UserError
from fakedet.options import (
    MOST_NUMBERS,
    TooMany,
    at_least,
    check_fields,
    group,
    integer,
    integers,
    option,
)
from fakedet.protocol import ALL_TRIPLES, BALANCED_TRIPLES, parse_triple
from fakedet.recipe import recipe_for
from fakedet.study import NETWORKS

MAX_SEEDS = MOST_NUMBERS
"""Seeds of one sweep at most (a typo such as 0-99999999 is refused, not expanded)."""


def parse_archs(text: str) -> tuple[str, ...]:
    archs = tuple(dict.fromkeys(a.strip() for a in text.split(",") if a.strip()))
    if not archs:
        raise UserError("--archs is empty")
    for a in archs:
        recipe_for(a)
    return archs


def parse_seeds(text: str) -> tuple[int, ...]:
    """'0-4' -> (0, 1, 2, 3, 4); '0,3' -> (0, 3); '2' -> (2,)."""
    try:
        seeds = integers(text, most=MAX_SEEDS)
    except TooMany:
        raise UserError(f"--seeds {text!r}: at most {MAX_SEEDS:,} seeds per sweep") from None
    except ValueError:
        raise UserError(f"--seeds {text!r}: expected e.g. 0-4 or 0,1,2") from None
    if min(seeds) < 0 or max(seeds) > MAX_SEED:
        raise UserError(f"--seeds {text!r}: expected seeds in 0..{MAX_SEED}, e.g. 0-4")
    return seeds


def parse_triples(text: str) -> tuple[tuple[int, int, int], ...]:
    """'all' -> the 120 triples; '0,6,9;1,2,3' -> those; 'N' -> the first N of the
    class-balanced order (`protocol.BALANCED_TRIPLES`: every class held out equally often,
    within 1; the first N are inside the first N + 1)."""
    text = text.strip()
    if text == "all":
        return ALL_TRIPLES
    if text.isdigit():
        n = int(text)
        if not 1 <= n <= len(ALL_TRIPLES):
            raise UserError(f"--triples {text}: a count must be in 1..{len(ALL_TRIPLES)}")
        return BALANCED_TRIPLES[:n]
    return tuple(dict.fromkeys(parse_triple(t) for t in text.split(";") if t.strip()))


@dataclass(frozen=True)
class SweepSpec:
    """What to run. Each field declares its option once (`fakedet.options`)."""

    archs: tuple[str, ...] = option(NETWORKS, "comma-separated architectures", parse=parse_archs)
    """Architectures (the study's two by default)."""
    seeds: tuple[int, ...] = option(
        (0, 1, 2, 3, 4), "seeds: 0-4, 0,2,5 or 3", parse=parse_seeds, show="0-4"
    )
    """Trial seeds."""
    triples: tuple[tuple[int, int, int], ...] = option(
        ALL_TRIPLES,
        "all | 0,6,9;1,2,3 | N (the first N of the class-balanced order)",
        parse=parse_triples,
        show="all",
    )
    """Held-out triples."""
    budget: Budget = group(Budget)
    """What every trial shares: protocol, epochs, step cap, evaluation, overrides."""
    cross_fakes: int = option(
        DEFAULT_CROSS_FAKES,
        "fakes per cross-architecture evaluation",
        parse=integer,
        check=at_least(1),
    )
    """Fakes per cross-architecture evaluation (and per generator for the detectors)."""
    detector: bool = option(True, "skip the dedicated detector phase", flag="--no-detector")
    """Train the dedicated leave-one-generator-out detectors after training."""

    def __post_init__(self):
        check_fields(self)
        if self.detector and len(self.archs) < 2:
            raise UserError(
                f"--archs {','.join(self.archs)}: the detector phase trains on the generators "
                "of the other architectures and needs at least 2; add one or pass --no-detector"
            )

    def grid(self) -> dict[str, list]:
        """The grid's axes: arch x seed x held-out triple."""
        return {
            "arch": list(self.archs),
            "seed": list(self.seeds),
            "heldout": [list(t) for t in self.triples],
        }

    def trials(self) -> list[TrialConfig]:
        """Every trial of the sweep, in a fixed order (triple, seed, arch)."""
        return [
            make_config(arch, seed, triple, self.budget)
            for triple, seed, arch in itertools.product(self.triples, self.seeds, self.archs)
        ]


def plan_name(trials: list[TrialConfig]) -> str:
    """A deterministic experiment name for a set of trials."""
    digest = hashlib.sha1("\n".join(sorted(t.key for t in trials)).encode()).hexdigest()
    return f"sweep-{digest[:10]}"


def same_data_groups(trials: list[TrialConfig], done: set[str]) -> list[list[TrialConfig]]:
    """The finished trials grouped by (seed, triple, protocol): trained on the same images."""
    groups = defaultdict(list)
    for t in trials:
        if t.key in done:
            groups[(t.seed, t.heldout, t.protocol)].append(t)
    return list(groups.values())


def cross_pairs(groups: list[list[TrialConfig]]) -> list[tuple[TrialConfig, ...]]:
    """(detector trial, generator trial) pairs of different archs within each group of
    trials sharing seed, triple and protocol (`same_data_groups`)."""
    return [(d, g) for group in groups for d in group for g in group if d.arch != g.arch]


def member_points(config: dict) -> list[dict]:
    """The trials' Tune points of one Tune trial's config: its own point, or its pack's
    members' (`{"pack": {"members": [point, ...]}}`)."""
    return config["pack"]["members"] if "pack" in config else [config]


def packs(trials: list[TrialConfig], sizes: dict[str, int]) -> list[list[TrialConfig]]:
    """The trials in packs of up to sizes[arch] trials of one architecture, in plan order."""
    by_arch: dict[str, list[TrialConfig]] = {}
    for t in trials:
        by_arch.setdefault(t.arch, []).append(t)
    out = []
    for arch, members in by_arch.items():
        k = sizes.get(arch, 1)
        out += [members[i : i + k] for i in range(0, len(members), k)]
    return out
