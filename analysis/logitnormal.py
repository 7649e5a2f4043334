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
an end, as far inside as it lies outside (`logits`).

A difference of two such means measured on the same classes (two scorings of the same
images, or a seen and a held-out rate) keeps its pairing (`pair_fit`, `pair_interval_of`):
the classes' (x, y) logits are a bivariate normal sample (mean m, covariance S, n classes),
and the interval of E[expit(x)] - E[expit(y)] is the generalized pivotal one: Sigma* =
(n - 1) L W^-1 L', W a standard Wishart draw with n - 1 df (Bartlett's decomposition), L
the Cholesky factor of S, mu* = m - chol(Sigma*) Z / sqrt(n), each part's mean by
Gauss-Hermite quadrature at its own mu* and sd. Two scorings that differ by a hair get an
interval a hair wide, where the MOVER of the two means' intervals keeps their lopsidedness
(docs/method.md, "Floors").
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


def logits(values: np.ndarray) -> np.ndarray:
    """Logits of class values on [0, 1] (any shape): a value past an end (noise, or a model
    that is not a mean of class rates) counts as far inside it as it lies outside, a value
    at an end as `CLIP` from it; NaN stays NaN."""
    v = np.where(values > 1, 2 - values, np.where(values < 0, -values, values))
    return special.logit(np.clip(v, CLIP, 1 - CLIP))


def fit(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and sd (ddof 1) of the `logits` of the present class values, and their count.

    Args:
        values: (G, M) class values on [0, 1] (a fitted value may fall outside).
        present: (G, M) which classes the data hold.

    Returns:
        m, s, n: three (M,); m and s NaN where fewer than 2 classes.
    """
    eta = logits(np.nan_to_num(values, nan=0.5))
    n = present.sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(present, eta, 0.0).sum(axis=0) / n
        s = np.sqrt(np.where(present, (eta - m) ** 2, 0.0).sum(axis=0) / (n - 1))
    bad = (n < 2) | (present & np.isnan(values)).any(axis=0)
    return np.where(bad, np.nan, m), np.where(bad, np.nan, s), n


def pair_fit(x: np.ndarray, y: np.ndarray, present: np.ndarray) -> list[tuple | None]:
    """Per metric, the bivariate normal fit of the classes' (x, y) `logits`: (mean x,
    mean y, var x, cov, var y, n) over the classes present in both, or None where fewer
    than 3 (the covariance's pivot needs n - 2 >= 1 df).

    Args:
        x, y: (G, M) class values on [0, 1].
        present: (G, M) which classes hold both.
    """
    ok = present & ~np.isnan(x) & ~np.isnan(y)
    ex, ey = logits(np.nan_to_num(x, nan=0.5)), logits(np.nan_to_num(y, nan=0.5))
    out: list[tuple | None] = []
    for j in range(x.shape[1]):
        a, b = ex[ok[:, j], j], ey[ok[:, j], j]
        if len(a) < 3:
            out.append(None)
            continue
        c = np.cov(a, b)
        out.append((a.mean(), b.mean(), c[0, 0], c[0, 1], c[1, 1], len(a)))
    return [None if f is None else tuple(float(v) for v in f) for f in out]


def _mean(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """E[expit(mu + sigma Z)] by Gauss-Hermite quadrature, elementwise."""
    return special.expit(mu[..., None] + sigma[..., None] * _NODES) @ _WEIGHTS


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
            out[j] = np.sort(_mean(mu, sigma), axis=1)
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


@functools.cache
def _pair_pivots(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(DRAWS, 2, 2) inverses of standard Wishart draws with n - 1 df (Bartlett's
    decomposition) and (DRAWS, 2) standard normals, fixed per n."""
    rng = np.random.default_rng([n, 2, 2003])
    a = np.zeros((DRAWS, 2, 2))
    a[:, 0, 0] = np.sqrt(rng.chisquare(n - 1, DRAWS))
    a[:, 1, 0] = rng.standard_normal(DRAWS)
    a[:, 1, 1] = np.sqrt(rng.chisquare(n - 2, DRAWS))
    return np.linalg.inv(a @ a.transpose(0, 2, 1)), rng.standard_normal((DRAWS, 2))


@functools.lru_cache(maxsize=4096)
def pair_draws(fit: tuple) -> np.ndarray:
    """Sorted pivotal draws (DRAWS,) of E[expit(x)] - E[expit(y)] from a `pair_fit`."""
    mx, my, vx, cxy, vy, n = fit
    w_inv, z = _pair_pivots(int(n))
    jitter = 1e-12 * max(vx, vy, 1.0)  # two scorings of the same images: S near singular
    s = np.array([[vx + jitter, cxy], [cxy, vy + jitter]])
    low = np.linalg.cholesky(s)
    sigma = (n - 1) * low @ w_inv @ low.T  # (DRAWS, 2, 2)
    root = np.linalg.cholesky(sigma + jitter * np.eye(2))
    mu = np.array([mx, my]) - np.einsum("dij,dj->di", root, z) / np.sqrt(n)
    sd = np.sqrt(np.stack([sigma[:, 0, 0], sigma[:, 1, 1]], axis=-1))
    theta = _mean(mu, sd)  # (DRAWS, 2)
    return np.sort(theta[:, 0] - theta[:, 1])


def pair_interval_of(fit: tuple, confidence: float) -> tuple[float, float]:
    """(low, high) on [-1, 1] of E[expit(x)] - E[expit(y)] from a `pair_fit`."""
    alpha = (1 - confidence) / 2
    low, high = np.quantile(pair_draws(fit), [alpha, 1 - alpha])
    return float(low), float(high)
