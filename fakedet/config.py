"""A trial's configuration, described once: what defines its result, and its budget.

A trial is (architecture, seed, held-out triple) plus a `Budget` that every trial of a
sweep shares (protocol, epochs, step cap, evaluation sizes, checkpoints, recipe
overrides). Each budget field declares its option once, in its metadata (flag, help, type
and range, `fakedet.options`): the trial's and the sweep's command lines are built from it,
and a `TrialConfig` holds the budget it was made with. A Tune config carries the trial's
fields alone (`tune_point`, `from_tune`), never the infrastructure. No torch: the sweep's
planner and the analysis read configs without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from fakedet.errors import UserError
from fakedet.options import at_least, check_fields, finite_float, integer, option, positive
from fakedet.protocol import PROTOCOLS, SEED_TRAIN_IMAGES, check_protocol, parse_triple, triple_str
from fakedet.recipe import Recipe, recipe_for, total_steps

DEFAULT_EVAL_AT = (1, 2, 5, 10, 20, 50, 100)  # epochs; those inside the budget are used
MAX_SEED = 2**63 - 1
DEFAULT_CROSS_FAKES = 10_000  # fakes per cross-architecture evaluation (and detector suite)

DEFAULT_MINUTES = 10.0
"""A running trial saves its training state at least this often (minutes), besides every
evaluation checkpoint (`fakedet.checkpoint`)."""


def parse_eval_at(text: str | None) -> tuple[float, ...] | None:
    """'--eval-at' -> epochs: None (default ladder), 'none' -> (), '0.5,1,2' -> (0.5, 1, 2)."""
    if text is None or text == "default":
        return None
    if text.strip() == "none":
        return ()
    try:
        epochs = tuple(sorted({finite_float(e) for e in text.split(",") if e.strip()}))
    except ValueError:
        raise UserError(f"--eval-at {text!r}: expected epochs such as 1,2,5 or 'none'") from None
    if not epochs or min(epochs) <= 0:
        raise UserError(f"--eval-at {text!r}: epochs must be positive, e.g. 0.5,1,2")
    return epochs


def _eval_epochs(value) -> str | None:
    if value is None or all(positive(e) is None for e in value):
        return None
    return "epochs must be finite and positive, e.g. 0.5,1,2"


def parse_override(pair: str) -> tuple[str, str]:
    """'lr_d=1e-4' -> ('lr_d', '1e-4')."""
    name, sep, value = pair.partition("=")
    if not sep or not name.strip():
        raise UserError(f"--set takes FIELD=VALUE, got {pair!r}")
    return name.strip(), value.strip()


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """['lr_d=1e-4', 'batch_size=64'] -> {'lr_d': '1e-4', 'batch_size': '64'}."""
    return dict(parse_override(p) for p in pairs)


@dataclass(frozen=True)
class Budget:
    """What every trial of a sweep shares besides architecture, seed and held-out triple.

    Each field declares its option once (`fakedet.options`): flag, help, type and range;
    a value out of range is a `UserError` naming the option when the budget is made.
    """

    protocol: str = option(
        "seed", "data protocol: 'seed' (the report's) or 'official'", choices=PROTOCOLS
    )
    epochs: int | None = option(
        None,
        "override the recipe's epochs (default: the recipe's)",
        parse=integer,
        check=at_least(1),
    )
    max_steps: int | None = option(
        None,
        "stop training after this many steps (default: no cap)",
        parse=integer,
        check=at_least(1),
    )
    eval_limit: int | None = option(
        None,
        "cap real images per evaluation suite, for quick runs (default: no cap)",
        parse=integer,
        check=at_least(1),
    )
    eval_at: tuple[float, ...] | None = option(
        None,
        "epochs at which to evaluate along training, e.g. 0.5,1,2 ('none': the final step "
        f"only; default: {','.join(map(str, DEFAULT_EVAL_AT))} inside the budget)",
        parse=parse_eval_at,
        check=_eval_epochs,
    )
    overrides: dict = option(
        factory=dict,
        help="override a recipe field, repeatable (default: none)",
        flag="--set",
        action="append",
        metavar="FIELD=VALUE",
        parse=parse_override,
        collect=dict,
    )

    def __post_init__(self):
        check_fields(self)

    def to_dict(self) -> dict:
        """JSON- and Tune-friendly: lists for tuples."""
        d = dataclasses.asdict(self)
        d["eval_at"] = None if self.eval_at is None else list(self.eval_at)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Budget:
        eval_at = d.get("eval_at")
        return cls(**{**d, "eval_at": None if eval_at is None else tuple(eval_at)})


DATA_DIR_HELP = (
    "directory of the four Fashion-MNIST IDX files (default: $FAKEDET_DATA_DIR, "
    "~/.cache/fakedet, Debian's package, else download)"
)


@dataclass(frozen=True)
class TrialConfig:
    """Everything that defines a trial's result."""

    arch: str
    """Architecture name (see `fakedet.models.ARCHS`)."""
    seed: int
    """Trial seed: the data split (with the triple) and all training randomness."""
    heldout: tuple[int, int, int]
    """The 3 held-out classes, sorted."""
    recipe: Recipe = dataclasses.field(default_factory=Recipe)
    """The effective training recipe (the arch's, with the budget's epochs and overrides)."""
    budget: Budget = dataclasses.field(default_factory=Budget)
    """What the trial shares with its sweep. Its epochs and overrides are already in
    `recipe` (so here they are None and empty: the recipe is what a trial stores)."""

    @property
    def protocol(self) -> str:
        """'seed' (the report's split of the training set) or 'official'."""
        return self.budget.protocol

    @property
    def max_steps(self) -> int | None:
        """Stop training after this many steps."""
        return self.budget.max_steps

    @property
    def eval_limit(self) -> int | None:
        """Cap on real images per suite (and hence fakes), for quick runs."""
        return self.budget.eval_limit

    @property
    def eval_at(self) -> tuple[float, ...] | None:
        """Epochs at which to evaluate along training (None: the default ladder inside the
        budget; (): the final step only). Not part of the key: it adds rows, it changes none."""
        return self.budget.eval_at

    @property
    def key(self) -> str:
        """arch_s<seed>_h<triple>_<protocol>_<hash of recipe and budget>."""
        budget = json.dumps(
            [dataclasses.asdict(self.recipe), self.max_steps, self.eval_limit], sort_keys=True
        )
        digest = hashlib.sha1(budget.encode()).hexdigest()[:8]
        return f"{self.arch}_s{self.seed}_h{triple_str(self.heldout)}_{self.protocol}_{digest}"

    def steps_per_epoch(self, n_train: int) -> int:
        return self.recipe.steps_per_epoch(n_train)

    def checkpoint_steps(self, n_train: int) -> dict[int, float]:
        """{step: epoch} of the checkpoints before the final step."""
        per_epoch = self.steps_per_epoch(n_train)
        total = total_steps(self.recipe, n_train, self.max_steps)
        epochs = DEFAULT_EVAL_AT if self.eval_at is None else self.eval_at
        steps = {round(e * per_epoch): e for e in epochs}
        return {s: e for s, e in sorted(steps.items()) if 0 < s < total}

    def to_dict(self) -> dict:
        """The config as `trial.json` stores it: the keys of every release since 0.1."""
        return {
            "arch": self.arch,
            "seed": self.seed,
            "heldout": list(self.heldout),
            "protocol": self.protocol,
            "recipe": dataclasses.asdict(self.recipe),
            "max_steps": self.max_steps,
            "eval_limit": self.eval_limit,
            "eval_at": None if self.eval_at is None else list(self.eval_at),
        }

    @classmethod
    def from_dict(cls, d: dict) -> TrialConfig:
        """The config as a trial's `trial.json` stores it (`to_dict`)."""
        eval_at = d.get("eval_at")
        budget = Budget(
            protocol=d.get("protocol", "seed"),
            max_steps=d.get("max_steps"),
            eval_limit=d.get("eval_limit"),
            eval_at=None if eval_at is None else tuple(eval_at),
        )
        return cls(d["arch"], d["seed"], tuple(d["heldout"]), Recipe(**d["recipe"]), budget)


def make_config(
    arch: str,
    seed: int,
    heldout,
    budget: Budget | None = None,
    *,
    n_train: int | None = None,
    **fields,
) -> TrialConfig:
    """Validate user input into a `TrialConfig`; bad input raises `UserError`.

    Args:
        arch, seed, heldout: the trial's own fields (`heldout` as `parse_triple` takes it).
        budget: what the trial shares with its sweep (default: `Budget()`).
        n_train: training images (default: protocol `seed`'s), to check that every
            `eval_at` epoch falls inside the budget.
        **fields: `Budget` fields changed from `budget`, e.g. `max_steps=20`.
    """
    budget = dataclasses.replace(budget or Budget(), **fields)
    if not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UserError(f"seed must be an integer in 0..{MAX_SEED}, got {seed!r}")
    overrides = dict(budget.overrides)
    if budget.epochs is not None:
        overrides["epochs"] = budget.epochs
    cfg = TrialConfig(
        arch=arch,
        seed=seed,
        heldout=parse_triple(heldout),
        recipe=_recipe(arch, overrides),
        budget=dataclasses.replace(
            budget, protocol=check_protocol(budget.protocol), epochs=None, overrides={}
        ),
    )
    n = n_train or SEED_TRAIN_IMAGES
    if cfg.steps_per_epoch(n) < 1:
        raise UserError(
            f"--set batch_size={cfg.recipe.batch_size}: an epoch of {n:,} training images "
            f"would have no step of {cfg.arch} (batch_size must be at most {n:,})"
        )
    if budget.eval_at:
        total = total_steps(cfg.recipe, n, budget.max_steps)
        epochs = total / cfg.steps_per_epoch(n)
        if max(budget.eval_at) > epochs:
            raise UserError(
                f"--eval-at {max(budget.eval_at):g} is beyond the budget of {cfg.arch} "
                f"({epochs:.3g} epochs, {total} steps)"
            )
    return cfg


def _recipe(arch: str, overrides: dict) -> Recipe:
    """The arch's recipe with the budget's overrides; a bad one names `--set`."""
    recipe = recipe_for(arch)
    try:
        return recipe.override(**overrides)
    except UserError as e:
        raise UserError(f"--set: {e}") from None


def tune_point(arch: str, seed: int, heldout, budget: Budget) -> dict:
    """A trial as a point of a Tune grid: its own fields and its budget, nothing else."""
    return {"arch": arch, "seed": seed, "heldout": list(heldout), "budget": budget.to_dict()}


def from_tune(point: dict) -> TrialConfig:
    """The trial of a Tune config (`tune_point`, or a grid's point of the same shape)."""
    budget = Budget.from_dict(point["budget"])
    return make_config(point["arch"], point["seed"], point["heldout"], budget)
