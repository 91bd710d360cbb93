"""Execute Python Script: the Azure designer's `azureml_main` contract, run in the step."""
from __future__ import annotations

import contextlib
import importlib
import inspect
import linecache
import shutil
import sys
import traceback
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Iterator, Mapping

import pandas as pd
import pyarrow as pa

from modules.sdk import Code, Input, Module, ModuleError, Output, ParamValues, PortType, StepContext, register
from modules.sdk.headless_plots import headless_plots
from modules.sdk.run_log import record_run_log, script_api

SCRIPT_NAME = "script.py"
ENTRY_POINT = "azureml_main"
# Where a bundle is unpacked, next to the script, as in the designer.
BUNDLE_FOLDER = "Script Bundle"
BUNDLE_LIMITS_KEY = "bundle_limits"


@dataclass(frozen=True)
class BundleLimits:
    """What a bundle may unpack to (the operator may set `bundle_limits` in the resources)."""

    max_mb: int = 1024
    max_files: int = 10_000

    @classmethod
    def from_resources(cls, resources: Mapping[str, Any]) -> "BundleLimits":
        return cls(**{k: int(v) for k, v in (resources.get(BUNDLE_LIMITS_KEY) or {}).items() if k in ("max_mb", "max_files")})


BUNDLE_LIMITS = BundleLimits()


# Azure's default template, so that people coming from the designer recognize it.
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
    # it is unzipped under "./Script Bundle". This directory is added
    # to sys.path. Therefore, if your zip file contains a Python file
    # mymodule.py you can import it using:
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
    keywords = ("custom code", "pandas", "script", "transform")
    category = "Python Language"
    runs_user_code = True
    help = (
        "Runs a Python script that defines `azureml_main(dataframe1=None, dataframe2=None)`, "
        "the same contract as the Azure ML designer, so existing scripts paste in unchanged.\n\n"
        "- The connected tables arrive as pandas DataFrames (None when a port is not connected); "
        "`azureml_main` gets as many as it declares (none, one or two).\n"
        "- Return a DataFrame, or a tuple of up to two; a missing output is an empty table. "
        "A named index (e.g. from `groupby`) is kept as columns. A column that cannot be stored "
        "(e.g. mixed numbers and text, or Python objects) is the script's error, naming it.\n"
        "- A Script Bundle (a zip, e.g. a file dataset imported with Import File Dataset, or a "
        "folder of files) is unpacked under `./Script Bundle/`, which is on `sys.path`: "
        "`import mymodule` just works and `./Script Bundle/data.csv` reads a bundled file. "
        f"Bundles larger than {BUNDLE_LIMITS.max_mb:,} MB unpacked or of more than "
        f"{BUNDLE_LIMITS.max_files:,} files, or with paths leading outside their folder, are refused "
        "before anything is unpacked.\n"
        "- `print()` output is the step's log; an error reports the script's line number.\n"
        "- `from azureml.core import Run` works offline: `Run.get_context()` logs into the step "
        "(`log` of a number is a step metric; `log_list`, `log_row`, `log_table`, `tag` are kept "
        "in the step's run log; `log_image` and `upload_file` of a PNG are step images). "
        "`Dataset.get_by_name` is refused: connect an Import Data module instead.\n"
        "- Plots are drawn headless: matplotlib figures left open when the script ends are "
        "saved as images, and a request for an interactive backend (`matplotlib.use(\"TkAgg\")`) "
        "keeps the headless one.\n\n"
        "Like the Azure designer, Atelier assumes the script is deterministic: a step whose "
        "script, inputs and bundle are unchanged reuses its earlier outputs. Tick force rerun "
        "on the node when the script reads something that changes (a clock, the network)."
    )

    # Version 2 unpacks the bundle under ./Script Bundle/, as the designer does; version 1
    # unpacked it next to the script.
    version = 2

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
        bundle_dir = script_dir / BUNDLE_FOLDER
        if bundle is not None:
            unpack_bundle(bundle, bundle_dir, BundleLimits.from_resources(ctx.resources))
        run_log = ctx.work_dir / "run_log"
        (run_log / "uploads").mkdir(parents=True, exist_ok=True)
        with _script_environment(script_dir, bundle_dir), script_api(run_log, run_log / "uploads"), headless_plots():
            with _recording_run_log(ctx, run_log), user_code_errors(script_dir):
                module = load_script(params.script, script_dir)
                main = getattr(module, ENTRY_POINT, None)
                if not callable(main):
                    raise ModuleError(
                        f"the script must define a function {ENTRY_POINT}(dataframe1=None, dataframe2=None)",
                        code="script_error",
                        param="script",
                    )
                returned = main(*(dataset1, dataset2)[:_declared_tables(main)])
            # Only a script that drew something has imported pyplot; importing it here would
            # cost every other script a second.
            if "matplotlib.pyplot" in sys.modules:
                _save_figures(ctx, sys.modules["matplotlib.pyplot"])
        first, second = _outputs(returned)
        return {"dataset1": first, "dataset2": second}


def load_script(source: str, script_dir: Path) -> types.ModuleType:
    """Run a user's script as the module `script`, its file in `script_dir` (call it within
    `user_code_errors`, so that a failure is reported as the script's, at its line)."""
    script_path = script_dir / SCRIPT_NAME
    script_path.write_text(source)
    # Tracebacks show the script's source lines although it is compiled under a short name.
    linecache.cache[SCRIPT_NAME] = (len(source), None, source.splitlines(True), SCRIPT_NAME)
    module = types.ModuleType("script")
    module.__file__ = str(script_path)
    exec(compile(source, SCRIPT_NAME, "exec"), module.__dict__)  # noqa: S102 (the user's own code)
    return module


@contextlib.contextmanager
def user_code_errors(script_dir: Path, *, param: str = "script") -> Iterator[None]:
    """A failure of the user's code in the block is theirs: a ModuleError naming the script's
    line, with a traceback of the script's frames only in the step's log."""
    try:
        yield
    except (ModuleError, MemoryError):  # a memory error is the step's limit (the runner says so)
        raise
    except (Exception, SystemExit) as exc:
        print(_user_traceback(exc, script_dir), file=sys.stderr, end="")
        raise _script_error(exc, param=param) from None


def _declared_tables(main: Any) -> int:
    """How many tables `azureml_main` takes: the designer passes as many as it declares."""
    try:
        parameters = list(inspect.signature(main).parameters.values())
    except (TypeError, ValueError):  # a builtin or C function: give it both
        return 2
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return 2
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in parameters if p.default is p.empty and p.kind is not p.VAR_KEYWORD]
    if len(required) > 2 or len(required) > len(positional):
        raise ModuleError(
            f"{ENTRY_POINT} must take at most two tables (dataframe1, dataframe2); it requires "
            + ", ".join(p.name for p in required),
            code="script_error",
            param="script",
        )
    return min(len(positional), 2)


@contextlib.contextmanager
def _recording_run_log(ctx: StepContext, folder: Path) -> Iterator[None]:
    """What the script logged is the step's, whether it returned or failed."""
    try:
        yield
    finally:
        record_run_log(ctx, folder, folder / "uploads")


@contextlib.contextmanager
def _script_environment(script_dir: Path, bundle_dir: Path) -> Iterator[None]:
    """Run in the script's folder with the bundle and it first on sys.path; forget bundled
    modules after, so a warm worker's next script can't import a stale copy."""
    before = set(sys.modules)
    added = [str(bundle_dir), str(script_dir)]
    sys.path[:0] = added
    importlib.invalidate_caches()  # the folders' files are new to the import system
    try:
        with contextlib.chdir(script_dir):
            yield
    finally:
        for entry in added:
            if entry in sys.path:  # unless the script took it off itself
                sys.path.remove(entry)
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if Path(origin).is_relative_to(script_dir):
                del sys.modules[name]


def unpack_bundle(bundle: Path, into: Path, limits: BundleLimits) -> None:
    """Copy the bundle's files under `into`, extracting any zip among them; all its zips
    together unpack within `limits`."""
    into.mkdir()
    unpacked = (0, 0)
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        if path.suffix.lower() == ".zip":
            unpacked = _extract_zip(path, into, limits, unpacked)
        else:
            target = into / path.relative_to(bundle)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _extract_zip(archive: Path, into: Path, limits: BundleLimits, unpacked: tuple[int, int]) -> tuple[int, int]:
    try:
        with zipfile.ZipFile(archive) as zf:
            unpacked = check_bundle_zip(zf, archive.name, limits, unpacked=unpacked)
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise ModuleError(f"the bundle {archive.name} is not a readable zip file: {exc}", port="bundle") from None
    return unpacked


def check_bundle_zip(
    zf: zipfile.ZipFile, name: str, limits: BundleLimits = BUNDLE_LIMITS, *, unpacked: tuple[int, int] = (0, 0)
) -> tuple[int, int]:
    """Refuse a bundle before anything of it is unpacked: a member leading outside its folder,
    or more files or bytes unpacked than `limits` allow (a zip bomb), counting the files and
    bytes `unpacked` already from the bundle's other zips. Returns those counts with this one's."""
    members = zf.infolist()
    for member in members:
        # zipfile would quietly rewrite such names; a bundle holding them is refused
        # outright, since it was built to write outside the folder.
        posix = PurePosixPath(member.filename.replace("\\", "/"))
        if posix.is_absolute() or ".." in posix.parts or PureWindowsPath(member.filename).drive:
            raise ModuleError(
                f"the bundle {name} has a member outside its folder: {member.filename!r}",
                code="unsafe_bundle",
                port="bundle",
            )
    # Sizes as the archive declares them: extracting never writes more than a member
    # declares, so their sum bounds the disk a bundle takes.
    files = unpacked[0] + len(members)
    size = unpacked[1] + sum(member.file_size for member in members)
    if files > limits.max_files or size > limits.max_mb << 20:
        with_others = " with the bundle's other zips" if unpacked != (0, 0) else ""
        raise ModuleError(
            f"the bundle {name} unpacks{with_others} to {files:,} files and {size / (1 << 20):,.1f} MB; "
            f"a bundle may hold at most {limits.max_files:,} files and {limits.max_mb:,} MB",
            code="bundle_too_large",
            port="bundle",
        )
    return files, size


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


def _script_error(exc: BaseException, *, param: str = "script") -> ModuleError:
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
        param=param,
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
        _refuse_unstorable_columns(value, position)
        tables.append(value)
    while len(tables) < 2:
        tables.append(pd.DataFrame())
    return tables[0], tables[1]


def _refuse_unstorable_columns(df: pd.DataFrame, position: int) -> None:
    """A column Parquet cannot store is the script's to fix: say which, rather than fail
    later as an internal error where the table is written."""
    for name in df.columns:
        column = df[name]
        if column.dtype != object:  # numbers, booleans, dates and categories always store
            continue
        try:
            pa.array(column, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            kinds = sorted({type(v).__name__ for v in column.dropna()})
            raise ModuleError(
                f"column {name!r} of table {position} returned by {ENTRY_POINT} cannot be stored: it holds "
                f"{', '.join(kinds[:5])} values ({str(exc).splitlines()[0]}); convert it, "
                f"e.g. with .astype(str)",
                code="script_error",
                param="script",
                details={"column": str(name), "table": position},
            ) from None


def _type_of(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} of {len(value)} values"
    return type(value).__name__


def _save_figures(ctx: StepContext, pyplot: Any) -> None:
    for number in pyplot.get_fignums():
        ctx.image(f"figure_{number}", pyplot.figure(number))
    pyplot.close("all")
