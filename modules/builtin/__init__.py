"""Built-in modules. Importing this package registers them all."""
from . import (  # noqa: F401
    data_input,
    data_output,
    evaluation,
    feature_selection,
    format_conversions,
    learners,
    manipulation,
    model_selection,
    numeric_columns,
    python_model,
    python_script,
    sampling,
    sql,
    statistics,
    training,
    transformation,
)
