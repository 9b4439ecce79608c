"""Statistics of verdicts and of drift between rounds: exact binomial intervals, paired comparisons of per-output
scores and of output distributions.

Pure functions on numbers; they know nothing of stores or models.

- `clopper_pearson`: exact confidence interval of a binomial proportion (a case's pass rate).

- `paired_bootstrap`: confidence interval of the mean paired delta (same case, seed and judge in both runs),
  resampling whole cases when given their groups (the seeds of one case are not independent).
- `sign_flip_test`: one-sided paired randomisation test of a fall: under no change each case's delta is as
  likely to carry either sign; exact up to 16 cases, Monte Carlo above.
- `mcnemar_exact`: exact McNemar test for paired binary verdicts (pass in one run, fail in the other).
- `holm`: Holm-Bonferroni adjusted p-values, for many concepts tested at once.
- `spread` (diversity of one prompt's outputs) and `precision_recall` (k-NN manifolds, Kynkaanniemi et al. 2019).
- `mmd2` / `cmmd`: squared MMD with a Gaussian RBF kernel on embeddings (CMMD, Jayasumana et al. 2024: CLIP
  image embeddings, sigma = 10 as published, or the median heuristic), with a permutation test.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import comb
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A mean paired delta with its bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    confidence: float
    n: int

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_bootstrap(deltas: Sequence[float], *, groups: Sequence | None = None, confidence: float = 0.95,
                     resamples: int = 4000, seed: int = 0) -> Interval:
    """Percentile bootstrap interval of the mean of paired deltas (current - baseline); with `groups` (one label
    per delta, e.g. its case) whole groups are resampled, so correlated deltas are not counted as independent."""
    values = np.asarray(deltas, dtype=float)
    if values.size == 0:
        raise ValueError("paired_bootstrap needs at least one paired delta")
    sums, counts = _group_sums(values, groups)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, sums.size, (resamples, sums.size))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(values.mean()), float(low), float(high), confidence, int(values.size))


def _group_sums(values: np.ndarray, groups: Sequence | None) -> tuple[np.ndarray, np.ndarray]:
    if groups is None:
        return values, np.ones_like(values)
    labels, index = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    return np.bincount(index, values, len(labels)), np.bincount(index, minlength=len(labels)).astype(float)


EXACT_UP_TO = 16


def sign_flip_test(deltas: Sequence[float], *, groups: Sequence | None = None, permutations: int = 20000,
                   seed: int = 0) -> float:
    """One-sided p-value that the mean delta is this low by chance: each group's (or delta's) sign is flipped at
    random, as exchanging baseline and current is under no change. Exact enumeration up to 16 groups."""
    sums, _ = _group_sums(np.asarray(deltas, dtype=float), groups)
    observed = sums.sum()
    if sums.size <= EXACT_UP_TO:
        signs = 1 - 2 * ((np.arange(2 ** sums.size)[:, None] >> np.arange(sums.size)) & 1)
        return float(np.mean(signs @ sums <= observed + 1e-12))
    signs = np.random.default_rng(seed).choice((-1.0, 1.0), (permutations, sums.size))
    return float((np.sum(signs @ sums <= observed + 1e-12) + 1) / (permutations + 1))


def mcnemar_exact(lost: int, gained: int, alternative: str = "two-sided") -> float:
    """Exact McNemar p-value from the discordant pairs: passed before and failed now (`lost`), and the reverse
    (`gained`). Under no change each discordant pair is a fair coin. alternative="less": one-sided, for a fall."""
    n = lost + gained
    if n == 0:
        return 1.0
    if alternative == "less":
        return sum(comb(n, i) for i in range(gained + 1)) / 2 ** n
    k = min(lost, gained)
    tail = sum(comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input's order (monotone, capped at 1)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [0.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def _sq_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.maximum((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T, 0.0)


def median_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """The median heuristic: the median pairwise distance of the pooled samples."""
    pooled = np.concatenate([x, y])
    d = np.sqrt(_sq_distances(pooled, pooled))
    return float(np.median(d[np.triu_indices(len(pooled), 1)]))


def mmd2(x: Sequence, y: Sequence, sigma: float) -> float:
    """Unbiased squared MMD between two samples of embeddings with k(a, b) = exp(-|a-b|^2 / (2 sigma^2))."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("mmd2 needs at least two embeddings on each side")
    gamma = 1.0 / (2 * sigma * sigma)
    kxx, kyy, kxy = (np.exp(-gamma * _sq_distances(a, b)) for a, b in ((x, x), (y, y), (x, y)))
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


@dataclass(frozen=True)
class MMDTest:
    mmd2: float
    p_value: float
    sigma: float
    permutations: int


def cmmd(baseline: Sequence, current: Sequence, *, sigma: float | str = 10.0, permutations: int = 500,
         seed: int = 0) -> MMDTest:
    """MMD between baseline and current embeddings with a permutation test; sigma 10 (as published for CLIP
    embeddings) or "median" for the median heuristic."""
    x, y = np.asarray(baseline, dtype=float), np.asarray(current, dtype=float)
    bandwidth = median_bandwidth(x, y) if sigma == "median" else float(sigma)
    observed = mmd2(x, y, bandwidth)
    pooled, rng, m = np.concatenate([x, y]), np.random.default_rng(seed), len(x)
    exceed = 0
    for _ in range(permutations):
        order = rng.permutation(len(pooled))
        exceed += mmd2(pooled[order[:m]], pooled[order[m:]], bandwidth) >= observed
    return MMDTest(observed, (exceed + 1) / (permutations + 1), bandwidth, permutations)


def spread(embeddings: Sequence) -> float:
    """Diversity of one prompt's outputs: the mean pairwise Euclidean distance of their embeddings, from the
    differences themselves (a handful of seeds), so identical outputs have exactly zero spread: the Gram-matrix
    shortcut leaves rounding noise that a relative spread would blow up."""
    x = np.asarray(embeddings, dtype=float)
    if len(x) < 2:
        return 0.0
    i, j = np.triu_indices(len(x), 1)
    return float(np.linalg.norm(x[i] - x[j], axis=1).mean())


def precision_recall(baseline: Sequence, current: Sequence, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019): each sample's k-nearest-neighbour ball
    approximates its set's manifold. Precision: share of current samples inside the baseline's manifold
    (quality); recall: share of baseline samples inside the current manifold (diversity, which a
    self-consuming loop loses first)."""
    x, y = np.asarray(baseline, dtype=float), np.asarray(current, dtype=float)
    if min(len(x), len(y)) <= k:
        raise ValueError(f"precision_recall needs more than k={k} embeddings on each side")

    def radii(a: np.ndarray) -> np.ndarray:
        return np.sort(np.sqrt(_sq_distances(a, a)), axis=1)[:, k]  # column 0 is the point itself

    cross = np.sqrt(_sq_distances(x, y))  # baseline x current
    precision = float(np.mean((cross <= radii(x)[:, None]).any(axis=0)))
    recall = float(np.mean((cross <= radii(y)[None, :]).any(axis=1)))
    return precision, recall


@lru_cache(maxsize=4096)
def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a binomial proportion: quantiles of beta distributions,
    through scipy.special (a third of scipy.stats' import time, which an unchanged rerun would otherwise pay)."""
    from scipy.special import betaincinv

    if trials <= 0:
        return 0.0, 1.0
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(betaincinv(successes, trials - successes + 1, alpha / 2))
    high = 1.0 if successes == trials else float(betaincinv(successes + 1, trials - successes, 1 - alpha / 2))
    return low, high


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p) (scipy.special's bdtr: scipy.stats.binom.cdf without importing scipy.stats)."""
    from scipy.special import bdtr

    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return float(bdtr(k, n, p))
