"""Built-in modules. Importing this package registers them all."""
from . import data_input  # noqa: F401
