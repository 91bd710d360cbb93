"""What a user's Python script cannot do with the designer's conveniences, on local compute
(the sandbox) and docker compute: write outside its own folders (above its work folder, into
its Script Bundle input, into the module code that holds the azureml stand-in), or leave
anything for the next user's script to import."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from designer.datasets.services import dataset_upload

from .conftest import IRIS, ROOT, finished, logs, probe_results, probes, submit

pytestmark = pytest.mark.django_db(transaction=True)

STAND_IN = ROOT / "modules" / "sdk" / "script_api" / "azureml" / "core" / "__init__.py"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_zip(files: dict[str, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    return buffer


def test_a_script_cannot_write_outside_its_folders(mallory, compute):
    dataset_upload(user=mallory, file=a_zip({"helper.py": "VALUE = 1\n"}), filename="bundle.zip")
    before = digest(STAND_IN)
    attempts = {
        "above its work folder": "open('../../escaped.py', 'w').write('x')",
        "into its Script Bundle input": "open('/atelier/in/bundle/files.zip', 'r+b').write(b'poisoned')",
        "into the azureml stand-in": (
            "open('/opt/atelier/modules/sdk/script_api/azureml/core/__init__.py', 'a').write('POISON = 1')"
        ),
        "into the project's stand-in": f"open({str(STAND_IN)!r}, 'a').write('POISON = 1')",
    }
    hostile = probes(attempts)
    hostile["inputs"]["bundle"] = "bundle.files"
    nodes = {"iris": IRIS, "bundle": {"module": "import_file_dataset", "params": {"name": "bundle"}}, "hostile": hostile}
    run = finished(submit(mallory, nodes, default_compute=compute))
    results = probe_results(run)
    assert set(results) == set(attempts), logs(run, "hostile")
    assert {name: outcome for name, outcome in results.items() if not outcome.startswith("blocked")} == {}
    assert digest(STAND_IN) == before

    # The next script imports the stand-in as shipped, and its own bundle as uploaded.
    check = probes({
        "a poisoned stand-in": "getattr(__import__('azureml.core').core, 'POISON', None)",
        "a changed bundle": "open('./Script Bundle/helper.py').read() != 'VALUE = 1\\n'",
    })
    check["inputs"]["bundle"] = "bundle.files"
    again = finished(submit(mallory, {**nodes, "hostile": check}, default_compute=compute))
    assert again.status == "completed", logs(again, "hostile")
    assert probe_results(again) == {
        "a poisoned stand-in": "blocked (nothing)", "a changed bundle": "blocked (nothing)",
    }
