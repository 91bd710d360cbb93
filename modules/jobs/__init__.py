"""Jobs: people's own training code run as a step (the Run Script module's side of it).

`launch.py` starts the job's entry script, with the run API (modules/sdk/script_api:
`from atelier import run`, `from azureml.core import Run`) on its `sys.path`.
"""
from pathlib import Path

# The file the launcher leaves for the step when the script fails, in the job's working folder.
ERROR_ENV = "ATELIER_JOB_ERROR"
LAUNCHER = Path(__file__).resolve().parent / "launch.py"
