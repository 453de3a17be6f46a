"""Exact 95 % intervals of the rates the validation tables print."""

from __future__ import annotations

from scipy import stats


def poisson_interval(count: int, exposure: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson rate: ``count`` events in ``exposure`` units."""
    alpha = 1 - confidence
    low = stats.chi2.ppf(alpha / 2, 2 * count) / 2 if count else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return float(low / exposure), float(high / exposure)


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> list[float] | None:
    """Exact binomial interval of ``successes`` in ``trials``, or None without trials."""
    if trials == 0:
        return None
    alpha = 1 - confidence
    low = stats.beta.ppf(alpha / 2, successes, trials - successes + 1) if successes else 0.0
    high = stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes) if successes < trials else 1.0
    return [float(low), float(high)]
