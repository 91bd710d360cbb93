"""Execute R Script: the designer's `azureml_main` contract in R.

R is not part of Atelier's Python: it comes from Debian's packages (r-base-core) in a
docker environment built with R (`Environment.with_r`). The module declares that it needs
R (`runtimes`), so validation refuses the node on a compute target without it, saying so;
the step checks again (a worker's image may lack it) before it starts R.

The step runs `Rscript` on a small driver: the input tables go to R as CSV files (base R
reads no Parquet), the driver sources the user's script, calls `azureml_main(dataframe1,
dataframe2)` and writes each data frame of the returned list back as CSV.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from modules.sdk import Code, Input, Module, ModuleError, Output, ParamValues, PortType, StepContext, register

from modules.sdk.errors import RUNTIME_UNAVAILABLE

from .python_script import BUNDLE_FOLDER, BundleLimits, unpack_bundle

R = "R"
SCRIPT_NAME = "script.R"
_OUTPUTS = ("dataset1", "dataset2")
# What the step tells R to write when the script fails: the R message, without the driver's calls.
_ERROR_FILE = "error.txt"

DEFAULT_SCRIPT = """\
# R version: 4.2
# The script MUST contain a function named azureml_main,
# which is the entry point for this module.

# Please note that functions dependent on X11 library,
# such as "View", are not supported because X11 library
# is not pre-installed.

# The entry point function MUST have two input arguments.
# If the input port is not connected, the corresponding
# dataframe argument will be null.
#   Param<dataframe1>: a R DataFrame
#   Param<dataframe2>: a R DataFrame
azureml_main <- function(dataframe1, dataframe2){
  print("R script run.")

  # If a zip file is connected to the third input port, it is
  # unzipped under "./Script Bundle". This directory is added
  # to sys.path.

  # Return datasets as a Named List
  return(list(dataset1=dataframe1, dataset2=dataframe2))
}
"""

# The driver: R's own error handling reports the user's message; the tables are CSV.
_DRIVER = """\
options(warn = 1, show.error.locations = TRUE)
read_input <- function(path) {
  if (file.exists(path)) read.csv(path, check.names = FALSE, stringsAsFactors = FALSE) else NULL
}
dataframe1 <- read_input("dataframe1.csv")
dataframe2 <- read_input("dataframe2.csv")
result <- tryCatch({
  source("script.R", local = globalenv(), keep.source = TRUE)
  if (!exists("azureml_main", mode = "function")) {
    stop("the script must define a function azureml_main(dataframe1, dataframe2)", call. = FALSE)
  }
  azureml_main(dataframe1, dataframe2)
}, error = function(e) {
  writeLines(conditionMessage(e), "error.txt")
  quit(status = 3)
})
if (is.data.frame(result)) result <- list(dataset1 = result)
if (!is.list(result)) {
  writeLines(paste0("azureml_main must return a data frame or a named list of data frames ",
                    "(dataset1, dataset2), got ", class(result)[1]), "error.txt")
  quit(status = 3)
}
for (name in c("dataset1", "dataset2")) {
  value <- result[[name]]
  if (!is.null(value)) write.csv(as.data.frame(value), paste0(name, ".csv"), row.names = FALSE)
}
"""


@register
class ExecuteRScript(Module):
    """Run your own R code on up to two tables."""

    id = "execute_r_script"
    name = "Execute R Script"
    keywords = ("custom code", "script", "r")
    category = "R Language"
    runs_user_code = True
    runtimes = (R,)
    help = (
        "Runs an R script that defines `azureml_main(dataframe1, dataframe2)`, the same contract as "
        "the Azure ML designer: the connected tables arrive as R data frames (NULL when a port is not "
        "connected), and the function returns a named list (`dataset1`, `dataset2`) of data frames, "
        "or one data frame.\n\n"
        "- R runs on a docker compute target whose environment includes R (an environment with "
        "`with_r`, built with Debian's r-base-core): elsewhere the node is refused before the run, "
        "saying so.\n"
        "- Tables travel to and from R as CSV: numbers, text and logicals keep their kind; "
        "dates arrive as text.\n"
        f"- A Script Bundle (a zip) is unpacked under `./{BUNDLE_FOLDER}/`: "
        f"`source(\"./{BUNDLE_FOLDER}/helpers.R\")` reads a bundled file.\n"
        "- `print()` output is the step's log; an error reports R's message."
    )

    class Inputs:
        dataset1 = Input(type=PortType.DATAFRAME, optional=True, help="Passed as dataframe1")
        dataset2 = Input(type=PortType.DATAFRAME, optional=True, help="Passed as dataframe2")
        bundle = Input(type=PortType.FILES, optional=True, help="A zip of R files and data the script uses")

    class Outputs:
        dataset1 = Output(type=PortType.DATAFRAME, help="The returned list's dataset1")
        dataset2 = Output(type=PortType.DATAFRAME, help="The returned list's dataset2")

    class Params:
        script = Code(language="r", default=DEFAULT_SCRIPT, help="Must define azureml_main(dataframe1, dataframe2)")

    def run(
        self,
        ctx: StepContext,
        params: ParamValues,
        dataset1: pd.DataFrame | None = None,
        dataset2: pd.DataFrame | None = None,
        bundle: Path | None = None,
    ) -> dict[str, Any]:
        rscript = shutil.which("Rscript")
        if rscript is None:
            raise ModuleError(
                "R is not installed where this step runs: run Execute R Script on a docker compute target "
                "whose environment includes R",
                code=RUNTIME_UNAVAILABLE,
            )
        folder = (ctx.work_dir / "r").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        if bundle is not None:
            unpack_bundle(bundle, folder / BUNDLE_FOLDER, BundleLimits.from_resources(ctx.resources))
        (folder / SCRIPT_NAME).write_text(params.script)
        (folder / "driver.R").write_text(_DRIVER)
        for name, table in (("dataframe1", dataset1), ("dataframe2", dataset2)):
            if table is not None:
                table.to_csv(folder / f"{name}.csv", index=False)
        done = subprocess.run([rscript, "--vanilla", "driver.R"], cwd=folder, check=False)
        if done.returncode != 0:
            message = (folder / _ERROR_FILE).read_text().strip() if (folder / _ERROR_FILE).is_file() else ""
            raise ModuleError(
                f"the R script failed: {message}" if message else f"R stopped with exit code {done.returncode}",
                code="script_error",
                param="script",
            )
        return {name: _read_output(folder / f"{name}.csv") for name in _OUTPUTS}


def _read_output(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:  # a data frame without columns
        return pd.DataFrame()
