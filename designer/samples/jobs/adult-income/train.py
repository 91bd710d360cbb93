"""Train a classifier on the adult census income data: an Azure ML v1 style training script.

Runs unchanged in Azure ML, in an Atelier job, and on a laptop (Run.get_context() then only
prints what it would log):

    python train.py --data adult.csv --n-estimators 50
"""
import argparse
import os

import joblib
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from azureml.core import Run  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder  # noqa: E402

from features import LABEL, split_columns  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="the adult census income CSV")
parser.add_argument("--n-estimators", type=int, default=50)
parser.add_argument("--max-depth", type=int, default=12)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

run = Run.get_context()
run.tag("algorithm", "random_forest")
run.log("n_estimators", args.n_estimators)

data = pd.read_csv(args.data, na_values=["?"]).dropna()
y = (data[LABEL].str.strip() == ">50K").astype(int)
X = data.drop(columns=[LABEL])
numeric, categorical = split_columns(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=args.seed, stratify=y)
print(f"training on {len(X_train)} rows, testing on {len(X_test)}")

model = make_pipeline(
    make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical), remainder="passthrough"),
    RandomForestClassifier(n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=args.seed, n_jobs=1),
)
# Trained in a few stages so that the accuracy is a series (a line chart on the job's page).
for trees in range(10, args.n_estimators + 1, 10):
    model.set_params(randomforestclassifier__n_estimators=trees)
    model.fit(X_train, y_train)
    run.log("accuracy_by_trees", accuracy_score(y_test, model.predict(X_test)))

probabilities = model.predict_proba(X_test)[:, 1]
accuracy = accuracy_score(y_test, probabilities > 0.5)
auc = roc_auc_score(y_test, probabilities)
run.log("accuracy", accuracy)
run.log("auc", auc)
print(f"accuracy {accuracy:.3f}, AUC {auc:.3f}")

importances = pd.Series(model[-1].feature_importances_).nlargest(10)
figure, axes = plt.subplots(figsize=(6, 4))
importances.plot.barh(ax=axes)
axes.set_title("Top feature importances")
run.log_image("feature_importances", plot=figure)

os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.joblib")
print("saved outputs/model.joblib")
