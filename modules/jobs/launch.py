"""Starts a job's entry script as `python <script> <args>` would, and reports its failure.

    python launch.py SCRIPT [ARGS...]

Run by path (not as `-m`), so that nothing of Atelier is imported into the script's
process. The script runs as `__main__` with its own folder first on `sys.path`, and with
the run API (`atelier`, `azureml.core`) importable. When it raises, the traceback printed
holds only the frames of the job's own files (not this launcher's), and the file, line
and message are written as JSON to $ATELIER_JOB_ERROR for the step's error.
"""
import json
import os
import runpy
import sys
import traceback

# modules/sdk/script_api (modules.sdk.run_log.SCRIPT_API_DIR, which this file cannot import).
_API_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sdk", "script_api")


def _is_own(filename: str, root: str) -> bool:
    """A file of the job's folder (not the launcher's, Python's or a library's)."""
    return not filename.startswith("<") and os.path.abspath(filename).startswith(root)


def _own_frames(exc: BaseException, root: str) -> traceback.TracebackException:
    """The traceback with only the job's frames. Execute Python Script filters its tracebacks
    the same way (modules.builtin.python_script); this file imports nothing of Atelier, so it
    does not share that code."""
    summary = traceback.TracebackException.from_exception(exc)
    pending = [summary]
    while pending:
        current = pending.pop()
        current.stack = traceback.StackSummary.from_list(
            [frame for frame in current.stack if _is_own(frame.filename, root)]
        )
        pending += [chained for chained in (current.__cause__, current.__context__) if chained is not None]
    return summary


def _where(exc: BaseException, root: str) -> tuple[str | None, int | None]:
    if isinstance(exc, SyntaxError) and exc.filename and _is_own(exc.filename, root):
        return exc.filename, exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_own(f.filename, root)]
    return (frames[-1].filename, frames[-1].lineno) if frames else (None, None)


def main() -> int:
    script = sys.argv[1]  # as given, relative to the job's folder: argv[0] as `python SCRIPT` has it
    root = os.getcwd() + os.sep
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    sys.path.append(_API_DIR)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code is None or exc.code == 0:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException as exc:  # the script's own failure, whatever it is
        sys.stderr.write("".join(_own_frames(exc, root).format()))
        filename, line = _where(exc, root)
        text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        report = {
            "file": os.path.relpath(filename, root.rstrip(os.sep)) if filename else None,
            "line": line,
            "exception": type(exc).__name__,
            "message": f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
        }
        error_file = os.environ.get("ATELIER_JOB_ERROR")
        if error_file:
            with open(error_file, "w") as handle:
                json.dump(report, handle)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
