"""A pairing-aware parametric side for a new class's difference of two rates, measured
against the summary's interval (a prototype; the summary does not use it yet).

    python tests/simulate_pairs.py [--sweeps 1000]

The summary's interval for a difference x - y of two bounded rates, for a new class, is
its own class jackknife joined with the MOVER of x's and y's intervals (docs/method.md,
"Floors"); the MOVER keeps |a - b|, the difference of the parts' lopsidedness, even at
correlation 1, so two scorings of the same images get an interval as wide as their rates'
asymmetry. The side measured here takes the 10 classes' (x, y) logits as a bivariate
normal sample and gives the generalized pivotal interval of E[expit(x)] - E[expit(y)]
(Wishart pivots by Bartlett's decomposition, 2,000 fixed draws; the means by
Gauss-Hermite quadrature), joined with the difference's own jackknife. Data model: that
of `tests/simulate_bounds.py` (per-class logit-normal rates, binomial trials), the gap
seen - unseen; and "same": y the same images as x scored again (x + N(0, 1e-4)), target 0.
Class values: least squares on the triple means, as `simulate_bounds.gpq`.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulate_bounds as sb  # noqa: E402

from analysis import logitnormal  # noqa: E402
from analysis.inference import NEW_CLASS, SIGNED, UNIT, Intervals  # noqa: E402

XS, W = np.polynomial.hermite_e.hermegauss(40)
W = W / W.sum()
D = 2000


def pivots(n, seed=2003):
    rng = np.random.default_rng([n, seed])
    c1 = np.sqrt(rng.chisquare(n - 1, D))
    c2 = np.sqrt(rng.chisquare(n - 2, D))
    z = rng.standard_normal(D)
    A = np.zeros((D, 2, 2))
    A[:, 0, 0] = c1
    A[:, 1, 0] = z
    A[:, 1, 1] = c2
    Wm = A @ np.transpose(A, (0, 2, 1))
    return np.linalg.inv(Wm), rng.standard_normal((D, 2))


PIV = {}


def lnmean(mu, sig):
    return special.expit(mu[..., None] + sig[..., None] * XS) @ W


def pair_interval(ex, ey, level=0.95):
    """ex, ey: (M, n) class logits; interval of E[expit(x)] - E[expit(y)]."""
    M, n = ex.shape
    if n not in PIV:
        PIV[n] = pivots(n)
    Winv, Z = PIV[n]
    m = np.stack([ex.mean(1), ey.mean(1)], 1)  # (M,2)
    X = np.stack([ex, ey], 2) - m[:, None]  # (M,n,2)
    S = np.einsum("mni,mnj->mij", X, X) / (n - 1)
    S = S + np.eye(2) * 1e-12
    L = np.linalg.cholesky(S)  # (M,2,2)
    Sig = (n - 1) * np.einsum("mij,djk,mlk->mdil", L, Winv, L)  # (M,D,2,2)
    Sig = Sig + np.eye(2) * 1e-12
    C = np.linalg.cholesky(Sig)
    mu = m[:, None, :] - np.einsum("mdij,dj->mdi", C, Z) / np.sqrt(n)
    sd = np.sqrt(np.stack([Sig[..., 0, 0], Sig[..., 1, 1]], -1))
    th = lnmean(mu, sd)  # (M,D,2)
    d = th[..., 0] - th[..., 1]
    a = (1 - level) / 2
    return np.quantile(d, a, axis=1), np.quantile(d, 1 - a, axis=1)


def logits(v):
    """As `analysis.logitnormal.fit`: past an end as far inside, at an end 1e-5 from it."""
    v = np.where(v > 1, 2 - v, np.where(v < 0, -v, v))
    return special.logit(np.clip(v, logitnormal.CLIP, 1 - logitnormal.CLIP))


def class_vals(stack, design, seen):
    tri = np.asarray(design)
    X = np.zeros((len(tri), 10))
    X[np.arange(len(tri))[:, None], tri] = 1.0
    Xd = (1 - X) / 7 if seen else X / 3
    return np.nanmean(stack, axis=2) @ np.linalg.pinv(Xd).T


def run(design, rate, sd, sweeps, same=False):
    tri, seeds = sb.DESIGNS[design]
    key = [list(sb.DESIGNS).index(design), sb.RATES.index(rate), sb.CLASS_SDS.index(sd)]
    rng = np.random.default_rng(key)
    unseen, seen, mean, gap = sb.simulate(rng, tri, seeds, sweeps, rate, sd)
    if same:  # the same images scored twice: y = x + tiny noise; target 0
        seen = unseen + rng.normal(0, 1e-4, unseen.shape)
        gap = 0.0
        cx = class_vals(seen, tri, False)
        cy = class_vals(unseen, tri, False)
    else:
        cx = class_vals(seen, tri, True)
        cy = class_vals(unseen, tri, False)
    lo_p, hi_p = pair_interval(logits(cx), logits(cy))
    iv = Intervals(tri, seeds)
    own = iv.means(seen - unseen, kind=NEW_CLASS, bounds=SIGNED)  # jackknife of d
    summ = iv.differences(seen, unseen, kind=NEW_CLASS, bounds=UNIT)
    lo = np.minimum([e.low for e in own], lo_p)
    hi = np.maximum([e.high for e in own], hi_p)
    for name, low, high in (
        ("summary", [e.low for e in summ], [e.high for e in summ]),
        ("own|pair", lo, hi),
    ):
        low, high = np.asarray(low), np.asarray(high)
        covers = np.mean((low <= gap) & (gap <= high))
        print(
            f"{design:8} {rate} {sd} {'same' if same else 'gap '} {name:9} cover {covers:.3f} "
            f"below {np.mean(low > gap):.3f} above {np.mean(high < gap):.3f} "
            f"width {np.mean(high - low):.4f}",
            flush=True,
        )


CELLS = [
    ("10 x 1", 0.995, 2.0), ("10 x 1", 0.97, 2.0), ("20 x 2", 0.995, 2.0),
    ("40 x 2", 0.995, 2.0), ("10 x 1", 0.70, 1.2), ("120 x 5", 0.995, 2.0),
    ("10 x 1", 0.97, 0.5),
]  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sweeps", type=int, default=1000)
    n = p.parse_args().sweeps
    for cell in CELLS:
        t = time.time()
        run(*cell, n)
        print(f"  {time.time() - t:.0f} s", flush=True)
    run("20 x 2", 0.70, 2.0, n, same=True)
    run("20 x 2", 0.97, 1.2, n, same=True)


if __name__ == "__main__":
    main()
