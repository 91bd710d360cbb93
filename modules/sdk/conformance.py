"""The conformance check every registered module passes (see tests/modules/test_conformance.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def example_table(rows: int = 40, seed: int = 0) -> pd.DataFrame:
    """The small mixed table every module must run on.

    Columns: `x1` float, `x2` int, `color` text (red/green/blue), `flag` bool,
    `target` float (a noisy linear function of x1, x2: for regression), `klass` text
    (yes/no, from x1: for two-class classification), `grade` text (a/b/c: multiclass).
    """
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=rows)
    x2 = rng.integers(0, 10, size=rows)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "color": rng.choice(["red", "green", "blue"], size=rows),
            "flag": rng.random(rows) > 0.5,
            "target": 3 * x1 + 0.5 * x2 + rng.normal(scale=0.1, size=rows),
            "klass": np.where(x1 + rng.normal(scale=0.3, size=rows) > 0, "yes", "no"),
            "grade": np.array(["a", "b", "c"])[np.digitize(x1, [-0.5, 0.5])],
        }
    )
