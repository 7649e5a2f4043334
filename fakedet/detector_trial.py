"""A dedicated detector's trial: leave one generator out.

For one (seed, held-out triple, protocol) and one architecture X left out, train the
dedicated detector (`fakedet.detector`) on real images of the 7 seen classes (the GAN
trials' own training split) versus fakes of the generators of every other architecture of
the same (seed, triple), then evaluate it on:

    train_fake    fresh fakes of the generators it trained against (new noise)
    cross_fake    fakes of X's generator, which it never saw (generator_arch = X)
    *_8bit        both suites of fakes again as 8-bit images (`fakedet.uploads`)
    real_heldout  real images of the 3 held-out classes (as the GAN trials see them)
    real_test     unseen real images of the 7 seen classes

with the same metrics as a GAN trial (`fakedet.metrics`), so a paired comparison with
each GAN discriminator on X's fakes and on unseen-class reals is row for row. Results go
to the same store and schema under arch `detector`, column `left_out` = X; the metrics
file comes last and marks the trial complete.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass

from fakedet import evaluate, metrics, uploads
from fakedet.config import TrialConfig
from fakedet.data import FashionMNIST
from fakedet.detector import DetectorRecipe, fakes_from, train_detector
from fakedet.protocol import make_split, triple_str
from fakedet.record import (
    DETECTOR_FILES,
    detector_record,
    identity,
    load_networks,
    score_columns,
    software,
)
from fakedet.schema import eight_bit
from fakedet.store import ResultsStore
from fakedet.train import pick_device

ARCH = "detector"
SEED_OFFSET = 3_000_017  # the detector's own seed: apart from the GAN trial's
TRAIN_NOISE_OFFSET = 4_000_037  # noise of the fakes it trains on
TEST_NOISE_OFFSET = 5_000_011  # fresh noise of the fakes it is tested on


@dataclass(frozen=True)
class DetectorTrial:
    """One leave-one-generator-out detector: what defines its result."""

    left_out: str
    """The architecture whose generator it never sees in training."""
    generators: tuple[TrialConfig, ...]
    """The GAN trials of one (seed, triple, protocol), the left-out one included."""
    recipe: DetectorRecipe = DetectorRecipe()
    """The detector's training recipe."""
    train_fakes: int = 20_000
    """Fakes it trains on, split evenly over the generators it trains against."""
    test_fakes: int = 10_000
    """Fakes per evaluation suite (train_fake and cross_fake)."""
    eval_limit: int | None = None
    """Cap on real images per evaluation suite (as the GAN trials')."""
    arch: str = ARCH

    def __post_init__(self):
        archs = [g.arch for g in self.generators]
        if self.left_out not in archs or len(set(archs)) < 2:
            raise ValueError(f"left out {self.left_out!r} of {archs}: needs it and another")
        if len({(g.seed, g.heldout, g.protocol) for g in self.generators}) != 1:
            raise ValueError("the generators must share seed, triple and protocol")

    @property
    def seed(self) -> int:
        return self.generators[0].seed

    @property
    def heldout(self) -> tuple[int, int, int]:
        return self.generators[0].heldout

    @property
    def protocol(self) -> str:
        return self.generators[0].protocol

    @property
    def trained_on(self) -> tuple[TrialConfig, ...]:
        return tuple(g for g in self.generators if g.arch != self.left_out)

    @property
    def key(self) -> str:
        """detector_s<seed>_h<triple>_<protocol>_<hash>_lo-<left out arch>."""
        spec = json.dumps(
            [dataclasses.asdict(self.recipe), sorted(g.key for g in self.generators),
             self.train_fakes, self.test_fakes, self.eval_limit],
            sort_keys=True,
        )  # fmt: skip
        digest = hashlib.sha1(spec.encode()).hexdigest()[:8]
        triple = triple_str(self.heldout)
        return f"{ARCH}_s{self.seed}_h{triple}_{self.protocol}_{digest}_lo-{self.left_out}"

    def to_dict(self) -> dict:
        return dict(
            left_out=self.left_out,
            generators=[g.to_dict() for g in self.generators],
            recipe=dataclasses.asdict(self.recipe),
            train_fakes=self.train_fakes,
            test_fakes=self.test_fakes,
            eval_limit=self.eval_limit,
        )

    @classmethod
    def from_dict(cls, d: dict) -> DetectorTrial:
        return cls(
            **{
                **d,
                "generators": tuple(TrialConfig.from_dict(g) for g in d["generators"]),
                "recipe": DetectorRecipe(**d["recipe"]),
            }
        )


def run_detector_trial(
    trial: DetectorTrial, data: FashionMNIST, store: ResultsStore, device: str | None = None
) -> str:
    """Train and evaluate one detector; 'skipped' when its results exist, else 'done'."""
    if store.is_complete(trial):
        return "skipped"
    store.remove_temporaries(*store.record_paths(trial, DETECTOR_FILES))  # a killed attempt's?
    t0 = time.perf_counter()
    dev = pick_device(device)
    split = make_split(data, trial.heldout, trial.seed, trial.protocol)
    generators = [load_networks(store, g, dev)[0] for g in trial.trained_on]
    dims = [g.recipe.latent_dim for g in trial.trained_on]
    seen = list(zip(generators, dims, strict=True))
    fakes = fakes_from(seen, trial.train_fakes, TRAIN_NOISE_OFFSET + trial.seed, dev)
    seed = SEED_OFFSET + trial.seed
    result = train_detector(split.train_images, fakes, seed, dev, trial.recipe)
    del fakes

    D, lim = result.detector, trial.eval_limit
    held_x, held_y = split.real_heldout_images[:lim], split.real_heldout_labels[:lim]
    test_x, test_y = split.real_test_images[:lim], split.real_test_labels[:lim]
    noise = TEST_NOISE_OFFSET + trial.seed
    seen_fakes = fakes_from(seen, trial.test_fakes, noise, dev)
    (left,) = [g for g in trial.generators if g.arch == trial.left_out]
    G_left = load_networks(store, left, dev)[0]
    unseen = evaluate.generate(G_left, trial.test_fakes, noise, left.recipe.latent_dim, dev)
    seen_fake, unseen_fake = evaluate.logits(D, seen_fakes), evaluate.logits(D, unseen)
    seen_fake8, unseen_fake8 = (
        evaluate.logits(D, uploads.to_8bit(x.cpu().numpy())) for x in (seen_fakes, unseen)
    )
    held, test = evaluate.logits(D, held_x), evaluate.logits(D, test_x)

    trained_on = "+".join(g.arch for g in trial.trained_on)
    own = metrics.trial_rows(seen_fake, held, held_y, test, test_y, fake_suite="train_fake")
    for r in own:
        r["generator_arch"] = trained_on if r["suite"] == "train_fake" else ARCH
    cross = metrics.cross_rows(unseen_fake, held, test)
    cross += metrics.fake_rows(eight_bit("cross_fake"), unseen_fake8, held, test)
    for r in cross:
        r["generator_arch"] = trial.left_out
    own8 = metrics.fake_rows(eight_bit("train_fake"), seen_fake8, held, test)
    for r in own8:
        r["generator_arch"] = trained_on
    per_epoch = trial.recipe.steps_per_epoch(len(split.train_images), trial.train_fakes)
    base = {
        **identity(trial),
        "left_out": trial.left_out,
        **software(),
        "device": str(dev),
        "precision": "fp32",
        "epochs": result.steps / per_epoch if per_epoch else 0.0,
        "steps": result.steps,
        "checkpoint_step": result.steps,
        "checkpoint_epoch": result.steps / per_epoch if per_epoch else 0.0,
        "wall_seconds": time.perf_counter() - t0,
        "recipe": json.dumps(dataclasses.asdict(trial.recipe), sort_keys=True),
    }

    info = {"config": trial.to_dict(), "key": trial.key, "history": result.history}
    columns = [
        score_columns(trial, "train_fake", trained_on, seen_fake, step=result.steps),
        score_columns(trial, "cross_fake", trial.left_out, unseen_fake, step=result.steps),
        score_columns(trial, eight_bit("train_fake"), trained_on, seen_fake8, step=result.steps),
        score_columns(
            trial, eight_bit("cross_fake"), trial.left_out, unseen_fake8, step=result.steps
        ),
        score_columns(trial, "real_heldout", ARCH, held, held_y, result.steps),
        score_columns(trial, "real_test", ARCH, test, test_y, result.steps),
    ]
    store.write_record(detector_record(trial, D, info, columns, own + own8 + cross, base))
    return "done"


def detector_trials(groups: list[list[TrialConfig]], **options) -> list[DetectorTrial]:
    """One detector per (group of GAN trials sharing seed and triple, architecture left
    out), for groups with at least two architectures."""
    return [
        DetectorTrial(left_out=g.arch, generators=tuple(group), **options)
        for group in groups
        if len({t.arch for t in group}) >= 2
        for g in group
    ]
