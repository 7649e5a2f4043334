"""The parametric side of a new class's interval for a bounded mean: classes whose values
are logit-normal, and the generalized pivotal interval of their population mean.

A new class's mean of a rate near 0 or 1 is carried by rare classes far from the others
(deficits 1 - rate close to lognormal), which 10 classes seldom include; the class
jackknife sees only the classes at hand and misses on one side (docs/method.md, "Near 0
and 1"). Here each class's own value comes from the additive fit of the triple means
(`analysis.jackknife.class_values`: for a mean of held-out classes' rates, the class's
rate), the logits of these are taken as a normal sample (mean m, sd s, n classes), and
the interval
for E[expit(mu + sigma Z)] is the generalized pivotal one (Krishnamoorthy and Mathew,
2003, for the lognormal mean): sigma* = s sqrt((n - 1) / chi2_{n-1}),
mu* = m - Z sigma* / sqrt(n), the mean at each of `DRAWS` fixed draws by Gauss-Hermite
quadrature, the interval their quantiles. The draws are the same for every call (a fixed
generator per n), so the interval is a deterministic function of (m, s, n).

A value at exactly 0 or 1 has no logit: it counts as `CLIP` from the end; a value past
an end, as far inside as it lies outside (`fit`).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special

DRAWS = 2000
"""Pivotal draws per interval: the quantiles' Monte Carlo error is about 0.3 points of
coverage."""
CLIP = 1e-5
"""A class value at 0 or 1 counts as this far inside (a logit of +-11.5). Chosen by
simulation (docs/method.md, "Near 0 and 1"): at 1e-4 the interval misses below in 5.7% of
sweeps at 120 x 5, mean rate 0.995, class sd 2.0; smaller values widen it."""
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()
_CHUNK = 64  # metrics at a time: (64, DRAWS, 40) floats


def _moments(mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of expit(mu + sigma Z), by Gauss-Hermite quadrature."""
    p = special.expit(mu[..., None] + sigma[..., None] * _NODES)
    mean = p @ _WEIGHTS
    return mean, (p**2) @ _WEIGHTS - mean**2


def _mu_for(mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The mu whose logit-normal mean at `sigma` is `mean` (bisection; the mean rises
    with mu)."""
    low, high = np.full_like(mean, -40.0), np.full_like(mean, 40.0)
    for _ in range(50):
        mid = (low + high) / 2
        above = _moments(mid, sigma)[0] > mean
        low, high = np.where(above, low, mid), np.where(above, mid, high)
    return (low + high) / 2


def fit(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and sd (ddof 1) of the logits of the present class values, and their count.
    A value past an end of [0, 1] (noise, or a model that is not a mean of class rates)
    counts as far inside it as it lies outside; a value at an end counts as `CLIP` from it.

    Args:
        values: (G, M) class values on [0, 1] (a fitted value may fall outside).
        present: (G, M) which classes the data hold.

    Returns:
        m, s, n: three (M,); m and s NaN where fewer than 2 classes.
    """
    v = np.nan_to_num(values, nan=0.5)
    v = np.where(v > 1, 2 - v, np.where(v < 0, -v, v))  # past an end: as far inside
    eta = special.logit(np.clip(v, CLIP, 1 - CLIP))
    n = present.sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(present, eta, 0.0).sum(axis=0) / n
        s = np.sqrt(np.where(present, (eta - m) ** 2, 0.0).sum(axis=0) / (n - 1))
    bad = (n < 2) | (present & np.isnan(values)).any(axis=0)
    return np.where(bad, np.nan, m), np.where(bad, np.nan, s), n


@functools.cache
def _pivots(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(DRAWS,) standard normals and sqrt((n - 1) / chi2_{n-1}) draws, fixed per n."""
    rng = np.random.default_rng([n, 2003])
    z = rng.standard_normal(DRAWS)
    return z, np.sqrt((n - 1) / rng.chisquare(n - 1, DRAWS))


def draws(m: np.ndarray, s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Sorted pivotal draws (M, DRAWS) of the population mean on [0, 1]; NaN rows where m
    is NaN."""
    m, s, n = (np.atleast_1d(np.asarray(a, np.float64)) for a in (m, s, n))
    out = np.full((len(m), DRAWS), np.nan)
    ok = np.isfinite(m) & np.isfinite(s) & (n >= 2)
    for k in np.unique(n[ok]).astype(int):
        z, scale = _pivots(int(k))
        idx = np.flatnonzero(ok & (n == k))
        for i in range(0, len(idx), _CHUNK):
            j = idx[i : i + _CHUNK]
            sigma = s[j, None] * scale[None]  # (b, D)
            mu = m[j, None] - z[None] * sigma / np.sqrt(k)
            theta = special.expit(mu[..., None] + sigma[..., None] * _NODES) @ _WEIGHTS
            out[j] = np.sort(theta, axis=1)
    return out


def interval(m, s, n, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), each (M,), on [0, 1]; NaN where there is no fit."""
    d = draws(m, s, n)
    alpha = (1 - confidence) / 2
    with np.errstate(invalid="ignore"):
        low, high = np.quantile(d, [alpha, 1 - alpha], axis=1)
    return low, high


@functools.lru_cache(maxsize=4096)
def _draws_of(m: float, s: float, n: float) -> np.ndarray:
    return draws(np.array([m]), np.array([s]), np.array([n]))[0]


def interval_of(m: float, s: float, n: float, confidence: float) -> tuple[float, float]:
    """`interval` of one fit, its draws cached (a p-value searches over levels)."""
    alpha = (1 - confidence) / 2
    low, high = np.quantile(_draws_of(m, s, n), [alpha, 1 - alpha])
    return float(low), float(high)
