"""Execute Python Script: the Azure designer's `azureml_main` contract, run in the step."""
from __future__ import annotations

import contextlib
import importlib
import linecache
import shutil
import sys
import traceback
import types
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Iterator

import pandas as pd

from modules.sdk import Code, Input, Module, ModuleError, Output, ParamValues, PortType, StepContext, register

SCRIPT_NAME = "script.py"
ENTRY_POINT = "azureml_main"

# Azure's default template, with the bundle comment adapted to where Atelier puts it, so
# that people coming from the designer recognize it and existing scripts paste in unchanged.
DEFAULT_SCRIPT = """\
# The script MUST contain a function named azureml_main,
# which is the entry point for this module.

# Imports up here can be used to
import pandas as pd

# The entry point function MUST have two input arguments.
# If the input port is not connected, the corresponding
# dataframe argument will be None.
#   Param<dataframe1>: a pandas.DataFrame
#   Param<dataframe2>: a pandas.DataFrame
def azureml_main(dataframe1 = None, dataframe2 = None):

    # Execution logic goes here
    print(f'Input pandas.DataFrame #1: {dataframe1}')

    # If a zip file is connected to the third input port,
    # it is unzipped next to this script, in a folder that is
    # on sys.path. Therefore, if your zip file contains a Python
    # file mymodule.py you can import it using:
    # import mymodule

    # Return value must be of a sequence of pandas.DataFrame
    # E.g.
    #   -  Single return value: return dataframe1,
    #   -  Two return values: return dataframe1, dataframe2
    return dataframe1,
"""


@register
class ExecutePythonScript(Module):
    """Run your own Python code on up to two tables."""

    id = "execute_python_script"
    name = "Execute Python Script"
    category = "Python Language"
    runs_user_code = True
    help = (
        "Runs a Python script that defines `azureml_main(dataframe1=None, dataframe2=None)`, "
        "the same contract as the Azure ML designer, so existing scripts paste in unchanged.\n\n"
        "- The connected tables arrive as pandas DataFrames (None when a port is not connected).\n"
        "- Return a DataFrame, or a tuple of up to two; a missing output is an empty table. "
        "A named index (e.g. from `groupby`) is kept as columns.\n"
        "- A bundle (a zip, or a folder of files) is unpacked next to the script, in the "
        "folder the script runs in, and put on `sys.path`: `import mymodule` just works.\n"
        "- `print()` output is the step's log; an error reports the script's line number.\n"
        "- Matplotlib figures left open when the script ends are saved as images.\n\n"
        "Like the Azure designer, Atelier assumes the script is deterministic: a step whose "
        "script, inputs and bundle are unchanged reuses its earlier outputs. Tick force rerun "
        "on the node when the script reads something that changes (a clock, the network)."
    )

    class Inputs:
        dataset1 = Input(type=PortType.DATAFRAME, optional=True, help="Passed as dataframe1")
        dataset2 = Input(type=PortType.DATAFRAME, optional=True, help="Passed as dataframe2")
        bundle = Input(
            type=PortType.FILES, optional=True, help="A zip (or files) of Python modules and data the script uses"
        )

    class Outputs:
        dataset1 = Output(type=PortType.DATAFRAME, help="The first DataFrame the script returned")
        dataset2 = Output(type=PortType.DATAFRAME, help="The second DataFrame the script returned")

    class Params:
        script = Code(
            language="python", default=DEFAULT_SCRIPT, help="Must define azureml_main(dataframe1, dataframe2)"
        )

    def run(
        self,
        ctx: StepContext,
        params: ParamValues,
        dataset1: pd.DataFrame | None = None,
        dataset2: pd.DataFrame | None = None,
        bundle: Path | None = None,
    ) -> dict[str, Any]:
        script_dir = (ctx.work_dir / "script").resolve()
        script_dir.mkdir(parents=True, exist_ok=True)
        if bundle is not None:
            _unpack_bundle(bundle, script_dir)
        script_path = script_dir / SCRIPT_NAME
        script_path.write_text(params.script)
        # Tracebacks show the script's source lines although it is compiled under a short name.
        linecache.cache[SCRIPT_NAME] = (len(params.script), None, params.script.splitlines(True), SCRIPT_NAME)

        module = types.ModuleType("script")
        module.__file__ = str(script_path)
        with _script_environment(script_dir):
            try:
                exec(compile(params.script, SCRIPT_NAME, "exec"), module.__dict__)  # noqa: S102 (the user's own code)
                main = getattr(module, ENTRY_POINT, None)
                if not callable(main):
                    raise ModuleError(
                        f"the script must define a function {ENTRY_POINT}(dataframe1=None, dataframe2=None)",
                        code="script_error",
                        param="script",
                    )
                returned = main(dataset1, dataset2)
            except (ModuleError, MemoryError):  # a memory error is the step's limit (the runner says so)
                raise
            except (Exception, SystemExit) as exc:  # the user's code failed: report it as theirs
                print(_user_traceback(exc, script_dir), file=sys.stderr, end="")
                raise _script_error(exc) from None
        # Only a script that drew something has imported pyplot; importing it here would
        # cost every other script a second.
        if "matplotlib.pyplot" in sys.modules:
            _save_figures(ctx, sys.modules["matplotlib.pyplot"])
        first, second = _outputs(returned)
        return {"dataset1": first, "dataset2": second}


@contextlib.contextmanager
def _script_environment(script_dir: Path) -> Iterator[None]:
    """Run in the script's folder with it first on sys.path; forget bundled modules after,
    so a warm worker's next script can't import a stale copy."""
    before = set(sys.modules)
    sys.path.insert(0, str(script_dir))
    importlib.invalidate_caches()  # the folder's files are new to the import system
    try:
        with contextlib.chdir(script_dir):
            yield
    finally:
        if str(script_dir) in sys.path:  # unless the script took it off itself
            sys.path.remove(str(script_dir))
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if Path(origin).is_relative_to(script_dir):
                del sys.modules[name]


def _unpack_bundle(bundle: Path, into: Path) -> None:
    """Copy the bundle's files next to the script, extracting any zip among them."""
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        if path.suffix.lower() == ".zip":
            _extract_zip(path, into)
        else:
            target = into / path.relative_to(bundle)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _extract_zip(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                # zipfile would quietly rewrite such names; a bundle holding them is refused
                # outright, since it was built to write outside the folder.
                posix = PurePosixPath(member.replace("\\", "/"))
                if posix.is_absolute() or ".." in posix.parts or PureWindowsPath(member).drive:
                    raise ModuleError(
                        f"the bundle {archive.name} has a member outside its folder: {member!r}",
                        code="unsafe_bundle",
                        port="bundle",
                    )
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise ModuleError(f"the bundle {archive.name} is not a readable zip file: {exc}", port="bundle") from None


def _is_user_file(filename: str, script_dir: Path) -> bool:
    return filename == SCRIPT_NAME or Path(filename).is_relative_to(script_dir)


def _user_traceback(exc: BaseException, script_dir: Path) -> str:
    """The traceback with only the frames of the script and its bundle: the runner's and
    this module's frames would only bury the user's line."""
    summary = traceback.TracebackException.from_exception(exc)
    pending = [summary]
    while pending:
        current = pending.pop()
        current.stack = traceback.StackSummary.from_list(
            [frame for frame in current.stack if _is_user_file(frame.filename, script_dir)]
        )
        pending += [chained for chained in (current.__cause__, current.__context__) if chained is not None]
    return "".join(summary.format())


def _script_error(exc: BaseException) -> ModuleError:
    if isinstance(exc, SyntaxError) and exc.filename == SCRIPT_NAME:
        line, text = exc.lineno, exc.msg
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SCRIPT_NAME]
        line = frames[-1].lineno if frames else None
        text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return ModuleError(
        f"line {line}: {message}" if line else message,
        code="script_error",
        param="script",
        details={"line": line, "exception": type(exc).__name__},
    )


def _outputs(returned: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    if isinstance(returned, pd.DataFrame):
        returned = (returned,)
    elif returned is None:
        returned = ()
    if not isinstance(returned, (tuple, list)) or len(returned) > 2:
        raise ModuleError(
            f"{ENTRY_POINT} must return a DataFrame or a tuple of up to two DataFrames, got {_type_of(returned)}",
            code="script_error",
            param="script",
        )
    tables = []
    for position, value in enumerate(returned, start=1):
        if value is None:
            value = pd.DataFrame()
        if not isinstance(value, pd.DataFrame):
            raise ModuleError(
                f"value {position} returned by {ENTRY_POINT} has type {_type_of(value)}, not pandas DataFrame",
                code="script_error",
                param="script",
            )
        if any(name is not None for name in value.index.names):
            value = value.reset_index()
        tables.append(value)
    while len(tables) < 2:
        tables.append(pd.DataFrame())
    return tables[0], tables[1]


def _type_of(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} of {len(value)} values"
    return type(value).__name__


def _save_figures(ctx: StepContext, pyplot: Any) -> None:
    for number in pyplot.get_fignums():
        ctx.image(f"figure_{number}", pyplot.figure(number))
    pyplot.close("all")
