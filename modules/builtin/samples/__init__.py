"""Sample datasets shipped inside the product, by name."""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Callable

import pandas as pd
from sklearn import datasets

from modules.sdk.schema import Schema, schema_of, set_roles

_HERE = Path(__file__).parent
_CSV = {
    "automobile-price-raw": ("automobile-price-raw.csv", "price"),
    "adult-census-income": ("adult-census-income.csv", "income"),
    # Generated for Atelier by generate.py (see README.md).
    "product-reviews": ("product-reviews.csv", "sentiment"),
    "movie-ratings": ("movie-ratings.csv", "rating"),
}


def _sklearn(loader: Callable[..., object], label: str, names: bool) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        bunch = loader(as_frame=True)
        df = bunch.frame.copy()  # type: ignore[attr-defined]
        if names:
            # Class names read better than 0/1/2 in a confusion matrix.
            df["target"] = pd.Categorical.from_codes(df["target"], bunch.target_names).astype(str)  # type: ignore[attr-defined]
        return df.rename(columns={"target": label})

    return load


_SKLEARN: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "iris": (_sklearn(datasets.load_iris, "class", True), "class"),
    "wine": (_sklearn(datasets.load_wine, "class", True), "class"),
    "breast-cancer": (_sklearn(datasets.load_breast_cancer, "diagnosis", True), "diagnosis"),
    "diabetes": (_sklearn(datasets.load_diabetes, "progression", False), "progression"),
    "digits": (_sklearn(datasets.load_digits, "digit", False), "digit"),
}

SAMPLE_NAMES: tuple[str, ...] = tuple(_CSV) + tuple(_SKLEARN)


def sample_label(name: str) -> str:
    return _CSV[name][1] if name in _CSV else _SKLEARN[name][1]


def sample_path(name: str) -> Path | None:
    """The shipped file of a CSV sample (None for samples built from scikit-learn)."""
    return _HERE / _CSV[name][0] if name in _CSV else None


@cache
def sample_fingerprint(name: str) -> str:
    path = sample_path(name)
    if path is None:
        import sklearn

        return f"sklearn-{sklearn.__version__}-{name}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_sample(name: str) -> pd.DataFrame:
    """The sample as a table; the label column is not marked (Train Model is told it)."""
    if name in _SKLEARN:
        return set_roles(_SKLEARN[name][0](), {})
    path = sample_path(name)
    assert path is not None
    return pd.read_csv(path)


@cache
def sample_schema(name: str) -> Schema:
    """The sample's columns, for schema propagation before anything runs."""
    return schema_of(load_sample(name))
