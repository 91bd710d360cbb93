"""Create Python Model: the designer's AzureMLModel contract, through Train and Score Model."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.naive_bayes import GaussianNB

from modules.builtin.python_model import DEFAULT_SCRIPT
from modules.sdk import ModuleError, roles_of
from modules.sdk.testing import call_module, run_through_runner

NAIVE_BAYES = """\
import pandas as pd
from sklearn.naive_bayes import GaussianNB


class AzureMLModel:
    def __init__(self):
        self.model = GaussianNB()
        self.feature_column_names = list()

    def train(self, df_train, df_label):
        self.feature_column_names = df_train.columns.tolist()
        self.model.fit(df_train, df_label)

    def predict(self, df):
        return pd.DataFrame(
            {'Scored Labels': self.model.predict(df[self.feature_column_names]),
             'probabilities': self.model.predict_proba(df[self.feature_column_names])[:, 1]}
        )
"""


def cancer() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    return data.iloc[::2].reset_index(drop=True), data.iloc[1::2].reset_index(drop=True)


def through_the_runner(tmp_path: Path, script: str, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    manifests = {}
    manifest, created = run_through_runner("create_python_model", {"script": script}, tmp_path / "create")
    manifests["create"] = manifest
    if manifest["status"] != "completed":
        return manifests
    manifest, trained = run_through_runner(
        "train_model", {"label_column": ["target"]}, tmp_path / "train", model=created["model"], dataset=train
    )
    manifests["train"] = manifest
    if manifest["status"] != "completed":
        return manifests
    manifests["score"], scored = run_through_runner(
        "score_model", {}, tmp_path / "score", model=trained["model"], dataset=test
    )
    manifests["scored"] = scored.get("dataset")
    return manifests


def test_a_users_model_class_trains_and_scores_like_plain_scikit_learn(tmp_path: Path) -> None:
    train, test = cancer()
    result = through_the_runner(tmp_path, NAIVE_BAYES, train, test)
    assert result["score"]["status"] == "completed", result["score"]["error"]
    scored: pd.DataFrame = result["scored"]
    features = [c for c in train.columns if c != "target"]
    expected = GaussianNB().fit(train[features], train["target"])
    np.testing.assert_array_equal(scored["Scored Labels"], expected.predict(test[features]))
    np.testing.assert_allclose(scored["probabilities"], expected.predict_proba(test[features])[:, 1])
    assert list(scored.columns[:-2]) == list(test.columns)
    assert roles_of(scored) == {"target": "label", "Scored Labels": "score", "probabilities": "score"}


def test_the_designers_default_script_runs(tmp_path: Path) -> None:
    train, test = cancer()
    features = ["mean_radius", "mean_texture", "target"]
    result = through_the_runner(tmp_path, DEFAULT_SCRIPT, train[features], test[features])
    assert result["score"]["status"] == "completed", result["score"]["error"]
    accuracy = (result["scored"]["Scored Labels"] == test["target"]).mean()
    assert accuracy > 0.8


def test_init_runs_once_and_attributes_travel_between_the_steps(tmp_path: Path) -> None:
    script = """\
        import pandas as pd

        class AzureMLModel:
            def __init__(self):
                self.history = ["init"]
                self.threshold = 10.5

            def train(self, df_train, df_label):
                self.history.append("train")
                self.label_mean = float(df_label.mean())
                self.columns = list(df_train.columns)

            def predict(self, df):
                self.history.append("predict")
                return pd.DataFrame({"Scored Labels": [self.label_mean] * len(df), "trace": ["/".join(self.history)] * len(df),
                                     "columns": [",".join(self.columns)] * len(df)})
        """
    train = pd.DataFrame({"a": [1, 2, 3, 4], "b": list("wxyz"), "target": [1.0, None, 3.0, 5.0]})
    result = through_the_runner(tmp_path, textwrap.dedent(script), train, train.drop(columns="target"))
    assert result["score"]["status"] == "completed", result["score"]["error"]
    scored = result["scored"]
    # The row without a label is left out of training, as for every learner.
    assert scored["Scored Labels"].tolist() == [3.0] * 4
    assert scored["trace"].tolist() == ["init/train/predict"] * 4
    assert scored["columns"].tolist() == ["a,b"] * 4


def test_an_attribute_a_model_file_cannot_hold_is_refused_named() -> None:
    script = """\
        class Helper:
            pass

        class AzureMLModel:
            def __init__(self):
                self.fine = [1, 2]
                self.helper = Helper()

            def train(self, df_train, df_label):
                pass

            def predict(self, df):
                return df
        """
    with pytest.raises(ModuleError) as caught:
        call_module("create_python_model", {"script": textwrap.dedent(script)})
    assert caught.value.message.startswith("attribute self.helper of AzureMLModel holds script.Helper")
    assert caught.value.details == {"attribute": "helper", "types": ["script.Helper"]}


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("x = 1\n", "the script must define class AzureMLModel with methods train(df_train, df_label) and predict(df)"),
        ("class AzureMLModel:\n    def train(self, a, b):\n        pass\n", "must define class AzureMLModel"),
        (
            "class AzureMLModel:\n    def __init__(self):\n        raise ValueError('bad init')\n\n"
            "    def train(self, a, b):\n        pass\n\n    def predict(self, df):\n        return df\n",
            "line 3: ValueError: bad init",
        ),
    ],
)
def test_a_broken_script_is_the_users_error(script: str, message: str) -> None:
    with pytest.raises(ModuleError) as caught:
        call_module("create_python_model", {"script": script})
    assert message in caught.value.message
    assert (caught.value.code, caught.value.param) == ("script_error", "script")


def test_errors_in_train_and_predict_name_the_script_line(tmp_path: Path) -> None:
    script = textwrap.dedent("""\
        import pandas as pd

        class AzureMLModel:
            def train(self, df_train, df_label):
                self.n = len(df_train)

            def predict(self, df):
                return pd.DataFrame({"Scored Labels": [1] * (len(df) + self.n)})
        """)
    train = pd.DataFrame({"a": [1.0, 2.0], "target": [0, 1]})
    result = through_the_runner(tmp_path, script, train, train)
    assert result["score"]["status"] == "failed"
    assert result["score"]["error"]["message"] == "AzureMLModel.predict returned 4 rows for a table of 2: it must return one per row"
    failing = script.replace("self.n = len(df_train)", "self.n = df_train['nope']")
    result = through_the_runner(tmp_path / "again", failing, train, train)
    assert result["train"]["status"] == "failed"
    assert result["train"]["error"]["message"] == "line 5: KeyError: 'nope'"


def test_an_untrained_python_model_cannot_be_scored() -> None:
    model = call_module("create_python_model", {"script": NAIVE_BAYES}).outputs["model"]
    with pytest.raises(ModuleError, match="has not been trained: connect it through Train Model"):
        call_module("score_model", {}, model=model, dataset=cancer()[1])


def test_evaluate_model_reads_a_python_models_scores_like_a_learners() -> None:
    """A predict returning the designer's `Scored Labels` and `Scored Probabilities` is
    evaluated as a two-class model: the metrics are scikit-learn's on the same predictions."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    train, test = cancer()
    script = NAIVE_BAYES.replace("'probabilities'", "'Scored Probabilities'")
    model = call_module("create_python_model", {"script": script}).outputs["model"]
    trained = call_module("train_model", {"label_column": ["target"]}, model=model, dataset=train).outputs["model"]
    scored = call_module("score_model", {}, model=trained, dataset=test).outputs["dataset"]
    metrics = call_module("evaluate_model", {}, scored=scored).ctx.metrics
    features = [c for c in train.columns if c != "target"]
    expected = GaussianNB().fit(train[features], train["target"])
    assert metrics["accuracy"] == pytest.approx(accuracy_score(test["target"], expected.predict(test[features])))
    assert metrics["auc"] == pytest.approx(roc_auc_score(test["target"], expected.predict_proba(test[features])[:, 1]))
