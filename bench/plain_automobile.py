"""The automobile tutorial as one plain pandas + scikit-learn script: the benchmark's baseline.

Does the same work as designer/samples/automobile-price-regression.yaml and prints R².
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CSV = Path(__file__).resolve().parents[1] / "modules" / "builtin" / "samples" / "automobile-price-raw.csv"


def main() -> float:
    df = pd.read_csv(CSV, na_values=["?"], skipinitialspace=True)
    df = df.drop(columns=["normalized-losses"]).dropna()
    train, test = train_test_split(df, train_size=0.7, random_state=0, shuffle=True)
    features = [c for c in df.columns if c != "price"]
    text = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    numeric = [c for c in features if c not in text]
    model = make_pipeline(
        ColumnTransformer([
            ("text", OneHotEncoder(handle_unknown="ignore"), text),
            ("numeric", StandardScaler(), numeric),
        ]),
        Ridge(alpha=0.001),
    )
    model.fit(train[features], train["price"])
    predicted = model.predict(test[features])
    return float(r2_score(test["price"], predicted)), float(np.mean(np.abs(test["price"] - predicted)))


if __name__ == "__main__":
    r2, mae = main()
    print(f"coefficient_of_determination={r2:.6f} mean_absolute_error={mae:.3f}")
    sys.exit(0)
