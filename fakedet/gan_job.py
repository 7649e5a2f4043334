"""A GAN job: one trial, or a pack of K trials of one architecture, recipe and budget.

Its members train together (`fakedet.train.train_members`; K = 1 is a solo trial), each
evaluated at its checkpoints (`fakedet.evaluate.Evaluator`) and written as its own record
(`fakedet.record.trial_record`: its key, files and rows) by the job runner
(`fakedet.runner`). Training saves a checkpoint (`fakedet.checkpoint`) at every
evaluation and at least every `minutes`; a job run again after a kill resumes from it,
and drops it once every record is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from fakedet.checkpoint import Checkpoint, Sink, StoreSink, checkpoint_name
from fakedet.config import DEFAULT_MINUTES, TrialConfig
from fakedet.data import FashionMNIST
from fakedet.evaluate import Evaluator
from fakedet.pack import PACK_FIELDS, pack_group, train_pack
from fakedet.protocol import make_split
from fakedet.record import TRIAL_FILES, Run, trial_record
from fakedet.runner import Job, Result, run_job
from fakedet.store import ResultsStore
from fakedet.train import pick_device

LIVE_FIGURES = {
    ("own_fake", "generated_recall"): "own_fakes_flagged",
    ("own_fake", "auroc_heldout"): "auroc_heldout",
    ("own_fake", "auroc_test"): "auroc_test",
    ("real_heldout", "real_recall"): "real_recall_heldout",
    ("real_test", "real_recall"): "real_recall_test",
}
"""The figures of an evaluation checkpoint a sweep reports live: {(suite, metric): name}."""
LOSSES = ("d_loss", "g_loss", "d_real", "d_fake")


def live_figures(state: dict, evaluators: Sequence[Evaluator]) -> dict:
    """A training state's figures: step, epoch, each member's losses (the current epoch's
    running means, else its last epoch's) and, at an evaluation checkpoint, its figures
    (`LIVE_FIGURES`). A pack's are prefixed `member<k>/`."""
    out = dict(step=state["steps"])
    sums, n = state["sums"], state["in_epoch"]
    for m, evaluate in enumerate(evaluators):
        prefix = f"member{m}/" if len(evaluators) > 1 else ""
        if n:
            losses = (sums[m] / n).tolist()
        else:
            last = state["histories"][m][-1]
            losses = [last[name] for name in LOSSES]
        out.update({prefix + name: v for name, v in zip(LOSSES, losses, strict=True)})
        latest = evaluate.evaluations[-1] if evaluate.evaluations else None
        if latest is not None and latest.step == state["steps"]:
            out[prefix + "epoch"] = latest.epoch
            for r in latest.rows(evaluate.held_y, evaluate.test_y):
                name = LIVE_FIGURES.get((r["suite"], r["metric"]))
                if name and r["class_id"] is None:
                    out[prefix + name] = r["value"]
    return out


def run_gan(
    cfgs: Sequence[TrialConfig],
    data: FashionMNIST,
    store: ResultsStore,
    device: str | torch.device | None = None,
    force: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    classifier=None,
    sink: Sink | None = None,
    minutes: float = DEFAULT_MINUTES,
) -> list[dict]:
    """Run the trials `cfgs` (one, or a pack's members) and write each one's record.

    A member whose results exist is skipped (unless `force`); the others train together.
    A member's `wall_seconds` is its share of the pack's wall time (the time / members).

    Args:
        cfgs: trials that share `PACK_FIELDS`.
        data: the dataset.
        store: the results root.
        device: where to train (default: CUDA when visible).
        force: rerun complete trials.
        on_step: training progress, on_step(steps_done, steps_total).
        classifier: a `fakedet.quality.Classifier`: every checkpoint also measures the
            fakes' quality (suite fake_quality); None: those rows are absent.
        sink: where checkpoints go (default: the results store, `StoreSink`).
        minutes: save a checkpoint at least this often (besides every evaluation).

    Returns:
        One summary per trial, in order: status ('done' or 'skipped'), key, steps,
        seconds, and each suite's headline value at the final checkpoint for a done one.
    """
    if len({pack_group(c) for c in cfgs}) > 1:
        raise ValueError(f"a pack's trials must share {', '.join(PACK_FIELDS)}")
    job = Job(list(cfgs), TRIAL_FILES)

    def compute(todo: list[TrialConfig], t0: float):
        name = checkpoint_name([c.key for c in cfgs])
        sink_ = sink or StoreSink(store, name)
        return _train_and_evaluate(todo, data, device, on_step, classifier, sink_, minutes, t0)

    return run_job(store, job, compute, force)


def _train_and_evaluate(cfgs, data, device, on_step, classifier, sink, minutes, t0):
    device = pick_device(str(device) if device else None)
    splits = [make_split(data, c.heldout, c.seed, c.protocol) for c in cfgs]
    evaluators = [Evaluator(c, s, classifier) for c, s in zip(cfgs, splits, strict=True)]
    cfg0, n_train, keys = cfgs[0], len(splits[0].train_images), [c.key for c in cfgs]
    per_epoch, checkpoints = cfg0.steps_per_epoch(n_train), cfg0.checkpoint_steps(n_train)
    saves = Checkpoint(
        sink, minutes,
        extra=lambda: dict(keys=keys, evaluations=[e.evaluations for e in evaluators]),
        figures=lambda state: live_figures(state, evaluators),
    )  # fmt: skip
    if saves.saved is not None and saves.saved["keys"] != keys:
        saves.saved = saves.resume_state = None  # another set of members: start afresh
    for evaluate, done in zip(evaluators, saves.saved["evaluations"] if saves.saved else (),
                              strict=False):  # fmt: skip
        evaluate.evaluations = list(done)

    def on_checkpoint(k: int, step: int, G, D) -> None:
        evaluators[k](G, D, step, checkpoints[step])

    results = train_pack(
        cfg0.arch, cfg0.recipe, [s.train_images for s in splits], [c.seed for c in cfgs],
        device, cfg0.max_steps, on_step, checkpoint_steps=checkpoints,
        on_checkpoint=on_checkpoint, saver=saves,
    )  # fmt: skip
    during_training = sum(e.seconds for e in evaluators)
    for evaluate, r in zip(evaluators, results, strict=True):
        evaluate(r.generator, r.discriminator, r.steps, r.steps / per_epoch if per_epoch else 0.0)
    eval_seconds = sum(e.seconds for e in evaluators)

    seconds, n = time.perf_counter() - t0, len(cfgs)
    resumed = results[0].resumed_from
    for cfg, r, evaluate in zip(cfgs, results, evaluators, strict=True):
        run = Run(str(device), n_train, seconds / n)
        record = trial_record(cfg, r, run, evaluate.evaluations, evaluate.held_y, evaluate.test_y)
        if resumed is not None:
            record.files["trial.json"]["resumed_from_step"] = resumed
        summary = evaluate.summary(
            cfg.key, r.steps, seconds=seconds / n,
            train_seconds=(r.seconds - during_training - saves.save_seconds) / n,
            eval_seconds=eval_seconds / n, device=str(device), checkpoint_saves=saves.saves,
            quality_seconds=sum(e.quality_seconds for e in evaluators) / n,
            checkpoint_seconds=saves.save_seconds / n, resumed_from=resumed,
            **({"pack_size": n} if n > 1 else {}),
        )  # fmt: skip
        yield Result(record, summary)
    saves.clear()  # runs once every record is written (the runner reads this to its end)
