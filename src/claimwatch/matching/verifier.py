"""The verifier: a second look at each candidate suggestion, over its evidence.

A logistic regression (scikit-learn) over the features of evidence.py gives the
probability that a sentence restates a claim. Its default weights ship in
verifier.json, fitted on the candidates of the "tune" half of
tests/data/articles.jsonl (`python -m claimwatch.matching.verifier_fit`), with those
candidates themselves, so that a pass needs no training step. Where reviewers have
decided suggestions, a pass re-fits it on those rows plus the decisions (each
weighing REVIEW_WEIGHT rows): a few hundred rows, a few milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from claimwatch.matching.evidence import FEATURES

DEFAULT_FILE = Path(__file__).with_name("verifier.json")
# The evidence the regression weighs (of evidence.FEATURES). Left out, as they lowered
# what the tune half found at precision 0.5 (14/23 with this set): token overlap (its
# restatements are reworded, so overlap taught "a topic neighbour", and near-quotes are
# the fuzzy matcher's), numbers agreeing, unknown names and negation (a handful of rows
# each: they stay in the reason text).
MODEL_FEATURES = (
    "cosine",
    "lift",
    "margin",
    "best",
    "chars",
    "numbers_differ",
    "names",
    "foreign",
    "cross_language",
    "foreign_cosine",
    "words",
    "title",
)
COLUMNS = [FEATURES.index(f) for f in MODEL_FEATURES]
# A reviewer's decision counts as this many labelled candidates: it is about this
# catalog's claims and this archive's sentences, where the labelled articles are not.
REVIEW_WEIGHT = 4.0
# Inverse regularisation strength of the regression (scikit-learn's C).
STRENGTH = 1.0


@dataclass(frozen=True)
class Verifier:
    """Weights over standardised features; `threshold` the probability to suggest at."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    # The labelled candidates it was fitted on (MODEL_FEATURES, label), for a re-fit.
    rows: np.ndarray
    labels: np.ndarray

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        """P(restates the claim) for each row of evidence (evidence.FEATURES order)."""
        chosen = np.atleast_2d(values)[:, COLUMNS]
        z = ((chosen - self.mean) / self.scale) @ self.coef + self.intercept
        return np.asarray(1 / (1 + np.exp(-z)))

    def refit(self, values: np.ndarray, labels: Sequence[bool]) -> Verifier:
        """This verifier fitted again with reviewers' decisions (features, confirmed?)."""
        if not len(labels):
            return self
        rows = np.vstack([self.rows, np.atleast_2d(values)[:, COLUMNS]])
        every = np.concatenate([self.labels, np.asarray(labels, dtype=np.float64)])
        weights = np.concatenate([np.ones(len(self.labels)), np.full(len(labels), REVIEW_WEIGHT)])
        fitted = fit(rows, every, weights, self.threshold, chosen=True)
        return replace(fitted, rows=self.rows, labels=self.labels)

    def as_json(self, how: str) -> str:
        """The weights and the rows they were fitted on, a row a line."""
        head = {
            "trained": how,
            "features": list(MODEL_FEATURES),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "coef": self.coef.round(6).tolist(),
            "intercept": round(self.intercept, 6),
            "threshold": self.threshold,
            "labels": self.labels.astype(int).tolist(),
        }
        rows = ",\n".join(json.dumps(r) for r in self.rows.round(4).tolist())
        return json.dumps(head)[:-1] + ',\n"rows": [\n' + rows + "\n]}"


def fit(
    values: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    threshold: float = 0.5,
    *,
    chosen: bool = False,
) -> Verifier:
    """A logistic regression over standardised evidence (rows in evidence.FEATURES order,
    or already MODEL_FEATURES alone when `chosen`)."""
    from sklearn.linear_model import LogisticRegression  # only a re-fit pays its import

    values = values if chosen else values[:, COLUMNS]
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=STRENGTH, max_iter=1000)
    model.fit((values - mean) / scale, labels, sample_weight=weights)
    return Verifier(
        mean,
        scale,
        model.coef_[0].astype(np.float64),
        float(model.intercept_[0]),
        threshold,
        values,
        np.asarray(labels, dtype=np.float64),
    )


@cache
def default_verifier() -> Verifier:
    """The shipped verifier (verifier.json beside this module)."""
    try:
        data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"{DEFAULT_FILE}: cannot read the verifier's weights ({exc})") from None
    if data["features"] != list(MODEL_FEATURES):
        raise RuntimeError(f"{DEFAULT_FILE}: weights for other features; re-fit it")
    return Verifier(
        np.array(data["mean"]),
        np.array(data["scale"]),
        np.array(data["coef"]),
        float(data["intercept"]),
        float(data["threshold"]),
        np.array(data["rows"], dtype=np.float64).reshape(-1, len(MODEL_FEATURES)),
        np.array(data["labels"], dtype=np.float64),
    )
