"""A stand-in churn model for the baseline examples: a logistic score over three numeric features.

`rollouts baseline explainability churn.csv --model examples/baselines/churn_model.py:predict ...` imports `predict`:
it takes a 2-D array of rows (age, tenure_months, monthly_charges) and returns one churn probability a row.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FEATURES = ("age", "tenure_months", "monthly_charges")
WEIGHTS = np.array([-0.03, -0.06, 0.04])
INTERCEPT = 0.2


def predict(rows: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The churn probability of each row of (age, tenure_months, monthly_charges)."""
    x = np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))
    scores: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(x @ WEIGHTS + INTERCEPT)))
    return scores
