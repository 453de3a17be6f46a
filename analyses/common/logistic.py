"""L2-regularised logistic regression, small enough to fit here and to ship as plain numbers.

The synthesis analysis's back-end is one of these: fitted by ``make validate`` on the tuning
families, stored as JSON (feature names, standardisation, weights) and applied at run time as a
dot product, so the product needs no learning library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize


@dataclass(frozen=True)
class Logistic:
    """A fitted model: ``score(x) = ((x - mean) / scale) @ weights + intercept`` (log-odds).

    Attributes
    ----------
    mean, scale : np.ndarray [shape=(d,)]
        Standardisation of each feature, from the fitting set.
    weights : np.ndarray [shape=(d,)]
    intercept : float
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        """Log-odds of the positive class for each row of ``x`` [shape=(n, d)]."""
        return ((np.atleast_2d(x) - self.mean) / self.scale) @ self.weights + self.intercept

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "weights": self.weights.tolist(),
                "intercept": float(self.intercept)}

    @classmethod
    def from_dict(cls, data: dict) -> "Logistic":
        return cls(np.asarray(data["mean"], float), np.asarray(data["scale"], float),
                   np.asarray(data["weights"], float), float(data["intercept"]))


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float, sample_weight: np.ndarray | None = None,
                 nonnegative: bool = False) -> Logistic:
    """Fit by L-BFGS on standardised features.

    Parameters
    ----------
    x : np.ndarray [shape=(n, d)]
    y : np.ndarray [shape=(n,)]
        1 for the positive class (synthetic), 0 for the other.
    l2 : float > 0
        Penalty on the squared weights, per unit of total sample weight.
    sample_weight : np.ndarray [shape=(n,)], optional
        Weight of each row (e.g. to balance the classes or the families); they are normalised to
        a mean of 1.
    nonnegative : bool
        Hold every weight at zero or above: each feature can only raise the score (a larger
        change is never less like an edit), which keeps correlated features from cancelling.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    z = (x - mean) / scale
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    w = w / w.mean()

    def loss(theta):
        margin = z @ theta[:-1] + theta[-1]
        # log(1 + exp(-s m)) with s = +-1, and its gradient, without overflow
        signed = np.where(y > 0, margin, -margin)
        value = np.sum(w * np.logaddexp(0, -signed)) / len(y) + l2 * theta[:-1] @ theta[:-1]
        p = 1 / (1 + np.exp(-margin))
        g = w * (p - y) / len(y)
        return value, np.concatenate([z.T @ g + 2 * l2 * theta[:-1], [g.sum()]])

    bounds = [(0.0, None)] * z.shape[1] + [(None, None)] if nonnegative else None
    theta = optimize.minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": 2000}).x
    return Logistic(mean, scale, theta[:-1], float(theta[-1]))
