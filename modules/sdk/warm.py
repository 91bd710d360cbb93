"""Imported once by the warm process that steps are forked from.

Starting Python and importing pandas/scikit-learn costs about a second; a forked child
inherits these imports, so each step pays only for its own work.
"""
import duckdb  # noqa: F401
import pandas  # noqa: F401
import pyarrow.parquet  # noqa: F401
import skops.io  # noqa: F401
import sklearn.ensemble  # noqa: F401
import sklearn.linear_model  # noqa: F401
import sklearn.metrics  # noqa: F401
import sklearn.model_selection  # noqa: F401
import sklearn.pipeline  # noqa: F401

from .registry import default_registry

default_registry()
