"""What the marketplace measures add to a 1-epoch trial on this machine.

    python -m bench.marketplace [--eval-limit 4000] [--threads 1] [--repeats 2]

For each architecture, on the 1-epoch study's evaluation images (`--eval-limit` real
images per suite, fakes as many as both), times one checkpoint's evaluation as it was
(float fakes and the reals), what each checkpoint now adds (the fakes as 8-bit images;
their quality: classifier features, Frechet distance, precision/recall, histogram), and
what the final checkpoint adds (the four upload transforms on fakes and reals); and a
few training steps, to put the added time beside a 1-epoch trial with the study's
checkpoints (4 earlier checkpoints and the final one). Prints wall and CPU seconds (a
CPU time well above the wall time x threads means other work shared the cores). The
classifier is the user cache's (trained on first use; its training time is printed and
is paid once per machine, not per trial).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from fakedet import data as fmnist
from fakedet import quality, uploads
from fakedet.config import make_config
from fakedet.evaluate import EVAL_NOISE_OFFSET, generate, logits, quality_rows, upload_logits
from fakedet.protocol import make_split
from fakedet.recipe import recipe_for
from fakedet.train import train

CHECKPOINTS = 5  # the study's 0.05, 0.1, 0.25, 0.5 epoch and the final step


def timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--eval-limit", type=int, default=4000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--train-steps", type=int, default=20)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = fmnist.load()
    clf, w, c = timed(lambda: quality.load_or_train(data))
    print(f"classifier (user cache): {w:.1f} s wall, {c:.1f} s CPU; test accuracy "
          f"{clf.test_accuracy:.4f}")  # fmt: skip
    device = torch.device("cpu")
    for arch in ("hands_on", "brownlee"):
        cfg = make_config(arch, 0, "0,6,9", epochs=1, eval_limit=args.eval_limit)
        split = make_split(data, cfg.heldout, cfg.seed, cfg.protocol)
        held_x = split.real_heldout_images[: args.eval_limit]
        test_x = split.real_test_images[: args.eval_limit]
        recipe = recipe_for(arch)
        result, tw, tc = timed(
            lambda arch=arch, cfg=cfg, split=split: train(
                arch, cfg.recipe, split.train_images, 0, device, args.train_steps
            )
        )
        G, D = result.generator, result.discriminator
        per_epoch = recipe.steps_per_epoch(len(split.train_images))
        epoch_s = tw / args.train_steps * per_epoch
        n = len(held_x) + len(test_x)

        def base(G=G, D=D, n=n, held_x=held_x, test_x=test_x, latent=recipe.latent_dim):
            fakes = generate(G, n, EVAL_NOISE_OFFSET, latent, device)
            return fakes, [logits(D, fakes), logits(D, held_x), logits(D, test_x)]

        rows = {"base": [], "8-bit": [], "quality": [], "uploads": []}
        for _ in range(args.repeats):
            (fakes, _), w, c = timed(base)
            rows["base"].append((w, c))
            floats = fakes.numpy()
            fakes8, w, c = timed(lambda floats=floats, D=D: logits(D, uploads.to_8bit(floats)))
            rows["8-bit"].append((w, c))
            f8 = uploads.to_8bit(floats)
            _, w, c = timed(
                lambda floats=floats, f8=f8, held_x=held_x, test_x=test_x, cfg=cfg: quality_rows(
                    clf, floats, f8, held_x, test_x, cfg.heldout
                )
            )
            rows["quality"].append((w, c))
            _, w, c = timed(lambda D=D, f8=f8, held_x=held_x, test_x=test_x: upload_logits(
                D, f8, held_x, test_x))  # fmt: skip
            rows["uploads"].append((w, c))
        med = {k: np.median(np.array(v), axis=0) for k, v in rows.items()}
        per_ckpt = med["base"][0]
        added = CHECKPOINTS * (med["8-bit"][0] + med["quality"][0]) + med["uploads"][0]
        trial = epoch_s + CHECKPOINTS * per_ckpt
        print(f"\n{arch}: {args.eval_limit} reals per suite, {n} fakes, {args.threads} thread(s)")
        print(f"  training: {tw / args.train_steps * 1000:.0f} ms/step wall "
              f"({tc / args.train_steps * 1000:.0f} ms CPU); 1 epoch = {per_epoch} steps "
              f"~ {epoch_s:.0f} s")  # fmt: skip
        for k, (w, c) in med.items():
            where = "final checkpoint" if k == "uploads" else "per checkpoint"
            print(f"  {k:8s} {where:16s} {w:6.2f} s wall {c:6.2f} s CPU")
        print(f"  a 1-epoch trial with {CHECKPOINTS} checkpoints: ~{trial:.0f} s before; the "
              f"new measures add {added:.1f} s = {100 * added / trial:.1f}%")  # fmt: skip


if __name__ == "__main__":
    main()
