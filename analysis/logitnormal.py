"""The parametric side of a new class's interval for a bounded mean: classes whose values
are logit-normal, and the generalized pivotal interval of their population mean.

A new class's mean of a rate near 0 or 1 is carried by rare classes far from the others
(deficits 1 - rate close to lognormal), which 10 classes seldom include; the class
jackknife sees only the classes at hand and misses on one side (docs/method.md, "Near 0
and 1"). Here each class's own value comes from the additive fit of the triple means
(`analysis.jackknife.class_values`: for a mean of held-out classes' rates, the class's
rate) and the logits of these are taken as a normal sample, in which the classes whose
values the noise cannot tell from the near end are censored (`fit`):

1. The near end is 1 where the values' mean is above 0.5, else 0; a value's distance
   inside it is d_c (negative past it).
2. A class is resolved where d_c exceeds its noise: the farthest any value lies past the
   end (noise that reaches that far outside reaches as far inside), and `RESOLVE` times
   the value's standard error from the seeds within each triple, where triples hold more
   than one seed (`analysis.jackknife.class_values`). With k the number resolved, at
   least `KEEP`, the k classes farthest from the end carry their values; the other n - k
   only lie nearer the end than every one of them: a Type-II censored normal sample, k of
   n.
3. mu and sigma are estimated from the k resolved logits by least squares on their Blom
   normal scores (a_i = Phi^-1((i - 3/8) / (n + 1/4)), i = 1..k, the k farthest from the
   end), an estimator equivariant in location and scale, so (mu_hat - mu) / sigma and
   sigma_hat / sigma are pivots whose law is that of the same estimator on the k extreme
   order statistics of n standard normals (`DRAWS` fixed samples per (n, k)).
4. The generalized pivotal interval of E[expit(mu + sigma Z)] (as Krishnamoorthy and
   Mathew, 2003, for the lognormal mean): sigma*_j = sigma_hat / sigma0_j, mu*_j = mu_hat -
   mu0_j sigma*_j, the mean at each draw by Gauss-Hermite quadrature, the interval their
   quantiles. The draws are fixed, so the interval is a deterministic function of the fit.

Without censoring (every class resolved, as at mid-range rates) this is the full-sample
pivotal interval with the normal-scores estimator in place of the mean and sd. Near 1 with
classes that differ a lot, most classes' true deficits lie below a trial's binomial noise:
the logits of their values are logits of noise, bunched together, and a full-sample fit
takes their spread for the classes' (sd 1.2 for a true 1.9 at 10 x 1, rate 0.995) and
misses below; censored, they say only "near 1".

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
(docs/method.md, "A new class's difference keeps its pairing"). It takes every class's
logit as measured, so the summary uses it only where neither part's fit censors a class
(`analysis.bounded.combined`): near an end, with classes in the noise, a heavy-tailed
population (Beta) made it miss above in 8% of sweeps.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from scipy import special
from scipy import stats as sps

DRAWS = 2000
"""Pivotal draws per interval: the quantiles' Monte Carlo error is about 0.3 points of
coverage."""
CLIP = 1e-5
"""A class value at 0 or 1 counts as this far inside (a logit of +-11.5): the paired fit
(`pair_fit`) and a resolved class at a hair from an end."""
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()
RESOLVE = 2.0
"""A class value is told from the near end where its distance exceeds this many of its
standard errors (and the farthest any value lies past the end)."""
KEEP = 3
"""At least this many classes, the farthest from the near end, carry their values: sigma
from at least two spacings."""


def logits(values: np.ndarray) -> np.ndarray:
    """Logits of class values on [0, 1] (any shape): a value past an end (noise, or a model
    that is not a mean of class rates) counts as far inside it as it lies outside, a value
    at an end as `CLIP` from it; NaN stays NaN."""
    v = np.where(values > 1, 2 - values, np.where(values < 0, -values, values))
    return special.logit(np.clip(v, CLIP, 1 - CLIP))


class Fit(NamedTuple):
    """A censored logit-normal fit (`fit`): the logits oriented so that the near end is
    +inf, mu and sigma estimated from the k of n classes farthest from it."""

    near_one: bool
    mu: float
    sigma: float
    n: int
    k: int

    @property
    def censored(self) -> bool:
        """Whether some classes lie within the noise of the near end (k < n)."""
        return self.k < self.n


def fit(values: np.ndarray, present: np.ndarray, se: np.ndarray | None = None) -> list:
    """Per metric, the censored logit-normal `Fit` of its present class values (steps 1-3
    of the module's docstring), or None where fewer than 2 classes (or a present value is
    NaN).

    Args:
        values: (G, M) class values on [0, 1] (a fitted value may fall outside).
        present: (G, M) which classes the data hold.
        se: (G, M) the values' standard errors from seeds within triples, NaN (or None)
            where the design has no such replication.
    """
    se = np.full(values.shape, np.nan) if se is None else se
    out: list = []
    for j in range(values.shape[1]):
        on = present[:, j]
        v, e = values[on, j], se[on, j]
        n = len(v)
        if n < 2 or np.isnan(v).any():
            out.append(None)
            continue
        near_one = bool(v.mean() > 0.5)
        d = 1 - v if near_one else v  # distance inside the near end
        noise = np.maximum(max(0.0, -d.min()), RESOLVE * np.nan_to_num(e, nan=0.0))
        k = max(int((d > noise).sum()), min(KEEP, n))  # the k farthest from the end
        x = logits(v[np.argsort(-d, kind="stable")[:k]])
        x = np.sort(x if near_one else -x)  # oriented: the near end at +inf, ascending
        c, b = _scores(n, k)
        out.append(Fit(near_one, float(x @ c), float(x @ b), n, k))
    return out


@functools.cache
def _scores(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights (k,) of mu_hat and sigma_hat on the k lowest of n sorted values: least
    squares on Blom's normal scores."""
    a = sps.norm.ppf((np.arange(1, k + 1) - 0.375) / (n + 0.25))
    centred = a - a.mean()
    b = centred / (centred @ centred)
    return np.full(k, 1 / k) - a.mean() * b, b


@functools.cache
def _pivots(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(DRAWS,) mu0 and sigma0: the estimator on the k lowest of n standard normals, fixed
    draws per (n, k)."""
    rng = np.random.default_rng([n, k, 2003])
    z = np.sort(rng.standard_normal((DRAWS, n)), axis=1)[:, :k]
    c, b = _scores(n, k)
    return z @ c, z @ b


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
        moments = (a.mean(), b.mean(), c[0, 0], c[0, 1], c[1, 1])
        out.append((*(float(v) for v in moments), len(a)))
    return out


def _mean(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """E[expit(mu + sigma Z)] by Gauss-Hermite quadrature, elementwise."""
    return special.expit(mu[..., None] + sigma[..., None] * _NODES) @ _WEIGHTS


@functools.lru_cache(maxsize=4096)
def draws(fit: Fit) -> np.ndarray:
    """Sorted pivotal draws (DRAWS,) of the population mean on [0, 1] from a `fit`."""
    mu0, sigma0 = _pivots(fit.n, fit.k)
    sigma = fit.sigma / sigma0
    theta = _mean(fit.mu - mu0 * sigma, sigma)  # of the oriented logit
    return np.sort(theta if fit.near_one else 1 - theta)


def interval_of(fit: Fit, confidence: float) -> tuple[float, float]:
    """(low, high) on [0, 1] of the population mean from a `fit`, its draws cached (a
    p-value searches over levels)."""
    alpha = (1 - confidence) / 2
    low, high = np.quantile(draws(fit), [alpha, 1 - alpha])
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
