"""The module SDK: declare modules, run steps, read and write artifacts. No Django here."""
from .artifacts import Estimator
from .columns import resolve_columns
from .context import StepContext
from .errors import ModuleError
from .module import Module, ModuleSpec, ParamValues
from .params import Bool, Choice, Code, Columns, Float, Int, Param, String, Struct
from .ports import Input, Output
from .registry import Registry, default_registry, register
from .schema import Column, Schema, roles_of, schema_of, set_roles
from .types import ColumnKind, ColumnRole, PortType

__all__ = [
    "Bool", "Choice", "Code", "Column", "ColumnKind", "ColumnRole", "Columns", "Estimator",
    "Float", "Input", "Int", "Module", "ModuleError", "ModuleSpec", "Output", "Param", "ParamValues",
    "PortType", "Registry", "Schema", "StepContext", "String", "Struct", "default_registry",
    "register", "resolve_columns", "roles_of", "schema_of", "set_roles",
]
