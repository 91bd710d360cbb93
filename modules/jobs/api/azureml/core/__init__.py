"""`from azureml.core import Run`; `Run.get_context()` is Atelier's run of the job, with the
same logging methods (log, log_list, log_row, log_table, log_image, tag, upload_file…)."""
from atelier.run import Run

__all__ = ["Run"]
