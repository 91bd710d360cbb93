"""Create Python Model: a user's model class, trained by Train Model and scored by Score Model.

The designer's contract: the script defines `class AzureMLModel` with `train(df_train,
df_label)` and `predict(df)`. The class is instantiated once, here (`__init__` runs in this
module only); Train Model and Score Model carry on with that instance's attributes.

The model artifact holds the script's source and the instance's attributes, never a
pickle: attributes are stored with skops, so they may hold what a model file may hold
anywhere in Atelier (scikit-learn estimators, NumPy, SciPy and pandas values, Python's
built-in types), and an attribute holding anything else is refused when it is saved,
named. Train Model and Score Model run the script again (in their own sandboxed step) to
get the class back, and then set the saved attributes on a fresh instance.
"""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from modules.sdk import Code, Estimator, Module, ModuleError, Output, ParamValues, PortType, StepContext, register
from modules.sdk.artifacts import TRUSTED_TYPE_PREFIXES

from .python_script import load_script, user_code_errors

# The task a Python model's meta records: Train Model and Score Model hand it to this module.
PYTHON_MODEL = "python"
CLASS_NAME = "AzureMLModel"
PARAM = "script"

# The designer's template, so that people coming from it recognize it.
DEFAULT_SCRIPT = """\
import pandas as pd
from sklearn.linear_model import LogisticRegression


class AzureMLModel:
    # The __init__ method is only invoked in module "Create Python Model",
    # and will not be invoked again in the following modules "Train Model" and "Score Model".
    # The attributes defined in the __init__ method are preserved and usable in the following two modules.
    def __init__(self):
        self.model = LogisticRegression()
        self.feature_column_names = list()

    # Train model
    #   Param<df_train>: a pandas.DataFrame
    #   Param<df_label>: a pandas.Series
    def train(self, df_train, df_label):
        # self.feature_column_names record the column names used for training.
        # It is recommended to set this attribute before training so that the
        # feature columns used in predict method can be consistent with training.
        self.feature_column_names = df_train.columns.tolist()
        self.model.fit(df_train, df_label)

    # Predict results
    #   Param<df>: a pandas.DataFrame
    #   Must return a pandas.DataFrame
    def predict(self, df):
        # The feature columns used for prediction MUST be the same as those used for training.
        # Here we use self.feature_column_names to filter the columns for prediction.
        return pd.DataFrame({'Scored Labels': self.model.predict(df[self.feature_column_names])})
"""


@register
class CreatePythonModel(Module):
    """Your own model class, trained by Train Model and scored by Score Model."""

    id = "create_python_model"
    name = "Create Python Model"
    category = "Python Language"
    runs_user_code = True
    help = (
        f"Defines a model in Python, with the designer's contract: the script defines `class {CLASS_NAME}` "
        "with `train(self, df_train, df_label)` and `predict(self, df)`.\n\n"
        "- `__init__` runs here, once; Train Model calls `train` with the feature columns (every "
        "column but the label) as a DataFrame and the label as a Series (rows without a label "
        "are left out, as for every learner); Score Model calls `predict`, which returns a DataFrame "
        "with one row per input row (e.g. a `Scored Labels` column, which Evaluate Model reads); "
        "its columns are added to the table as scores.\n"
        "- The instance's attributes travel from one module to the next in the model file, which "
        "holds scikit-learn estimators, NumPy, SciPy and pandas values and Python's built-in types "
        "(never pickles): an attribute holding anything else is refused, named.\n"
        "- The script runs in each of the three steps, sandboxed like Execute Python Script; a "
        "failure reports the script's line."
    )

    class Outputs:
        model = Output(type=PortType.UNTRAINED_MODEL, help="The model, for Train Model")

    class Params:
        script = Code(language="python", default=DEFAULT_SCRIPT, help=f"Must define class {CLASS_NAME}")

    def run(self, ctx: StepContext, params: ParamValues) -> dict[str, Any]:
        with _script_folder() as folder, user_code_errors(folder, param=PARAM):
            instance = _model_class(params.script, folder)()
        return {"model": Estimator(
            {"source": params.script, "state": _state(instance)},
            {"task": PYTHON_MODEL, "algorithm": "Python Model"},
        )}


def fit_python_model(ctx: StepContext, model: Estimator, df: pd.DataFrame, label: str, features: list[str]) -> Estimator:
    """Train Model for a Python model: `train(df_train, df_label)` on the labelled rows."""
    if df.empty:
        raise ModuleError("the table has no rows with a label to train on", code="empty_table", port="dataset")
    with _script_folder() as folder, user_code_errors(folder, param=PARAM):
        instance = _instance(model, folder)
        instance.train(df[features].copy(), df[label].copy())
    meta = {**model.meta, "label": label, "features": features}
    return Estimator({"source": model.obj["source"], "state": _state(instance)}, meta)


def predict_python_model(model: Estimator, df: pd.DataFrame) -> pd.DataFrame:
    """Score Model for a Python model: what `predict(df)` returns, one row per row of `df`."""
    if "label" not in model.meta:
        raise ModuleError("the Python model has not been trained: connect it through Train Model first",
                          code="model_type", port="model")
    with _script_folder() as folder, user_code_errors(folder, param=PARAM):
        scores = _instance(model, folder).predict(df.copy())
    if isinstance(scores, pd.Series):
        scores = scores.to_frame()
    if not isinstance(scores, pd.DataFrame):
        raise ModuleError(f"{CLASS_NAME}.predict must return a pandas DataFrame, got {type(scores).__name__}",
                          code="script_error", param=PARAM)
    if len(scores) != len(df):
        raise ModuleError(
            f"{CLASS_NAME}.predict returned {len(scores)} rows for a table of {len(df)}: it must return one per row",
            code="script_error", param=PARAM,
        )
    return scores.set_axis(df.index)


@contextlib.contextmanager
def _script_folder() -> Iterator[Path]:
    """A scratch folder for the script's file (Train and Score Model have no say in the
    step's work folder)."""
    with tempfile.TemporaryDirectory(prefix="python-model-") as name:
        yield Path(name).resolve()


def _model_class(source: str, folder: Path) -> Any:  # the user's class: nothing is known of it
    cls = getattr(load_script(source, folder), CLASS_NAME, None)
    if not isinstance(cls, type) or not all(callable(getattr(cls, m, None)) for m in ("train", "predict")):
        raise ModuleError(f"the script must define class {CLASS_NAME} with methods train(df_train, df_label) "
                          "and predict(df)", code="script_error", param=PARAM)
    return cls


def _instance(model: Estimator, folder: Path) -> Any:
    """The saved instance: its class from the script, its attributes from the model file
    (`__init__` does not run again, as in the designer)."""
    cls = _model_class(model.obj["source"], folder)
    instance = cls.__new__(cls)
    instance.__dict__.update(model.obj["state"])
    return instance


def _state(instance: Any) -> dict[str, Any]:
    """The instance's attributes, each checked to be storable in a model file."""
    import skops.io as sio

    state = dict(getattr(instance, "__dict__", {}))
    for name, value in state.items():
        try:
            untrusted = sio.get_untrusted_types(data=sio.dumps(value))
        except Exception as exc:  # skops cannot store it at all (a lambda, an open file…)
            untrusted = [f"{type(value).__module__}.{type(value).__qualname__} ({type(exc).__name__}: {exc})"]
        refused = [t for t in untrusted if not t.startswith(tuple(TRUSTED_TYPE_PREFIXES))]
        if refused:
            raise ModuleError(
                f"attribute self.{name} of {CLASS_NAME} holds {', '.join(refused)}, which a model file may not "
                "store: keep the model's state in scikit-learn, NumPy, SciPy, pandas or built-in Python values",
                code="script_error", param=PARAM, details={"attribute": name, "types": refused},
            )
    return state
