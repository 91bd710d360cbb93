"""Built-in modules. Importing this package registers them all."""
from . import (  # noqa: F401
    data_input,
    data_output,
    evaluation,
    learners,
    python_script,
    sql,
    statistics,
    training,
    transformation,
)
