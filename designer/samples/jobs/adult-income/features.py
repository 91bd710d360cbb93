"""The columns of the adult census income data (a module of the job's code: it is in the snapshot)."""
import pandas as pd

LABEL = "income"


def split_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical feature columns."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    return numeric, [c for c in frame.columns if c not in numeric]
