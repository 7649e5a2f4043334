"""Benchmark: the cost of the quality measures on this machine.

    python -m bench.quality [--data-dir DIR] [--device cpu] [--repeats 3]

Prints (1) the default classifier's training time (wall clock and this process's CPU
time, which is what a loaded machine inflates least) and its test accuracy, trained fresh,
not loaded from the cache; (2) the time of `fake_quality` on `QUALITY_SAMPLES` fakes (from
a freshly initialised `hands_on` generator, float and 8-bit) against as many seen-class
test reals, and of `real_floor`, median of `--repeats` runs.
"""

from __future__ import annotations

import statistics
import time

import torch

from fakedet import data as fmnist
from fakedet.errors import ArgumentParser, exit_on_user_error
from fakedet.evaluate import generate
from fakedet.models import build, get_arch
from fakedet.quality import (
    QUALITY_SAMPLES,
    ClassifierRecipe,
    fake_quality,
    real_floor,
    seen_test_reals,
    train_classifier,
)


def timed(fn, *args, **kwargs):
    """(result, wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    p = ArgumentParser(prog="python -m bench.quality", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="directory of the four Fashion-MNIST IDX files")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--repeats", type=int, default=3, help="fake_quality timings (median)")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    data = fmnist.load(args.data_dir)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")

    recipe = ClassifierRecipe()
    clf, wall, cpu = timed(train_classifier, data, recipe, device)
    print(
        f"classifier (recipe {recipe.key}): trained in {wall:.1f} s wall, {cpu:.1f} s CPU; "
        f"test accuracy {clf.test_accuracy:.4f}"
    )

    held = (0, 6, 9)
    reals, others = seen_test_reals(data, held)
    arch = get_arch("hands_on")
    G, _ = build(arch, arch.recipe, torch.Generator().manual_seed(0))
    fakes = generate(G.to(device), QUALITY_SAMPLES, 0, arch.recipe.latent_dim, device)
    fakes_8bit = ((fakes + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).squeeze(1)
    for name, batch in (("float", fakes), ("8-bit", fakes_8bit)):
        runs = [timed(fake_quality, clf, batch, reals, held) for _ in range(args.repeats)]
        q = runs[0][0]
        print(
            f"fake_quality, {len(batch)} {name} fakes vs {len(reals)} reals: "
            f"{statistics.median(r[1] for r in runs):.3f} s wall "
            f"({statistics.median(r[2] for r in runs):.3f} s CPU); "
            f"fid {q.fid:.2f}, precision {q.precision:.3f}, recall {q.recall:.3f}, "
            f"held-out share {q.heldout_share:.3f}, seen covered {q.seen_covered}"
        )
    floor, wall, cpu = timed(real_floor, clf, reals, others)
    print(f"real_floor, {len(reals)} vs {len(others)} reals: {wall:.3f} s wall; fid {floor:.3f}")


if __name__ == "__main__":
    main()
