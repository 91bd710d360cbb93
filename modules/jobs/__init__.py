"""Jobs: people's own training code run as a step (the Run Script module's side of it).

`launch.py` starts the job's entry script; `api/` is put on the script's `sys.path`, so that
`from atelier import run` and `from azureml.core import Run` work in a job unchanged.
"""
from pathlib import Path

# Files the launcher and the run API exchange with the step, in the job's working folder.
RUN_LOG_ENV = "ATELIER_RUN_LOG"
ERROR_ENV = "ATELIER_JOB_ERROR"
API_DIR = Path(__file__).resolve().parent / "api"
LAUNCHER = Path(__file__).resolve().parent / "launch.py"
