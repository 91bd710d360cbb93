"""What an ordinary user's code cannot do, on local compute (the sandbox) and docker compute:
read the database, the secret key, the server's environment, another user's datasets or
artifacts; write into the store; make herself an administrator; reach any network; escape
its memory, process and time limits; stop the server or other users' steps; leave
processes behind; make the host take a forged result."""
from __future__ import annotations

import hashlib
import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from designer.datasets.models import Dataset
from modules.sdk.registry import PACKS_ENV
from tests.conftest import client_for
from tests.engine.test_executor import processes_with

from .conftest import CANARY, IRIS, finished, logs, probe_results, probes, script, submit

pytestmark = pytest.mark.django_db(transaction=True)


# All a step's environment may hold: what the sandbox, the container or its image sets,
# nothing of the server's (and scikit-learn's KMP_* settings, which it sets when imported).
STEP_ENVIRONMENT = {
    "PYTHONPATH", "HOME", "TMPDIR", "MPLBACKEND", "LANG", "PATH", "PWD", "HOSTNAME", PACKS_ENV,
    "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "VIRTUAL_ENV",
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def blocked(results: dict[str, str]) -> dict[str, str]:
    """The probes that were not blocked (should be none)."""
    return {name: outcome for name, outcome in results.items() if not outcome.startswith("blocked")}


def test_no_read_of_the_database_secrets_environment_or_others_data(mallory, victims_things, compute):
    db = settings.DATABASES["default"]
    attempts = {
        "the database file": f"open({str(settings.DATA_DIR / 'atelier.sqlite3')!r}, 'rb').read(16)",
        "the data folder": f"os.listdir({str(settings.DATA_DIR)!r})",
        "the project's settings": f"open({str(Path(settings.BASE_DIR) / 'designer' / 'settings' / 'base.py')!r}).read()",
        "the server's environment": (
            f"{{k: v for k, v in os.environ.items() if k not in {sorted(STEP_ENVIRONMENT)!r} and not k.startswith('KMP_')}}"
        ),
        "other processes' environments": f"environments_with({CANARY.encode()!r})",
        "victor's dataset": f"open({str(victims_things['table'])!r}, 'rb').read(16)",
        "the datasets folder": f"os.listdir({str(victims_things['datasets'])!r})",
        "the artifact store": f"os.listdir({str(victims_things['store'])!r})",
        "victor's artifact": f"open({str(victims_things['artifact'])!r}, 'rb').read(16)",
    }
    if db["ENGINE"].endswith("sqlite3") and not str(db["NAME"]).startswith(("file:", ":memory:")):
        attempts["the test database"] = f"open({str(db['NAME'])!r}, 'rb').read(16)"
    run = finished(submit(mallory, {"iris": IRIS, "hostile": probes(attempts)}, default_compute=compute))
    results = probe_results(run)
    assert set(results) == set(attempts), logs(run, "hostile")
    assert blocked(results) == {}
    everything = json.dumps(list(run.events.values_list("payload", flat=True)))
    assert settings.SECRET_KEY not in everything and CANARY not in everything


def test_no_write_into_the_store_or_a_step_input(mallory, victims_things, compute):
    before = digest(victims_things["artifact"])
    attempts = {
        "overwrite victor's artifact": f"open({str(victims_things['artifact'])!r}, 'wb').write(b'poisoned')",
        "add to the store": f"open({str(victims_things['store'] / 'objects' / 'evil')!r}, 'wb').write(b'x')",
        "change its own input": "open('/atelier/in/dataset1/table.parquet', 'r+b').write(b'poisoned')",
    }
    run = finished(submit(mallory, {"iris": IRIS, "hostile": probes(attempts)}, default_compute=compute))
    assert blocked(probe_results(run)) == {}, logs(run, "hostile")
    assert digest(victims_things["artifact"]) == before
    assert not (victims_things["store"] / "objects" / "evil").exists()
    # Victor's next run of the same step reuses his untouched output.
    assert run.steps.get(node="iris").outputs["dataset"]["artifact"]


def test_no_privilege_change_and_no_network(mallory, compute):
    redis_key = f"atelier-hostile-{os.getpid()}"
    db = connection.settings_dict
    attempts = {
        "make herself superuser": (
            "__import__('psycopg').connect(host='127.0.0.1', port=5432, user='postgres', "
            f"dbname={db['NAME']!r}, connect_timeout=3).execute("
            "\"UPDATE auth_user SET is_superuser = true, is_staff = true WHERE username = 'mallory'\")"
        ),
        "write into the broker": (
            "__import__('socket').create_connection(('127.0.0.1', 6379), timeout=3).sendall("
            f"b'SET {redis_key} owned\\r\\n')"
        ),
        "reach the internet": "__import__('socket').create_connection(('1.1.1.1', 80), timeout=3)",
        "resolve a name": "__import__('socket').getaddrinfo('example.com', 80)",
    }
    run = finished(submit(mallory, {"iris": IRIS, "hostile": probes(attempts)}, default_compute=compute))
    assert blocked(probe_results(run)) == {}, logs(run, "hostile")
    mallory.refresh_from_db()
    assert not mallory.is_superuser and not mallory.is_staff
    import redis

    assert redis.Redis(host="127.0.0.1", port=6379, socket_timeout=3).get(redis_key) is None


def test_memory_process_and_time_limits_hold_and_others_go_on(mallory, victor, compute):
    nodes = {
        "iris": IRIS,
        "hog": script("hog = bytearray(64 * 2**30)\nreturn dataframe1,"),
        "forkbomb": script("""
            children = 0
            while True:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        """, timeout=120),
        "spin": script("while True:\n    pass", timeout=5),
    }
    hostile = submit(mallory, nodes, default_compute=compute, continue_on_step_failure=True)
    bystander = submit(victor, {"iris": IRIS, "sum": script("return dataframe1.describe(),")}, default_compute=compute)
    run = finished(hostile)
    steps = {s.node: s for s in run.steps.all()}
    assert steps["hog"].status == "failed" and steps["hog"].error["origin"] == "memory_limit", steps["hog"].error
    assert steps["forkbomb"].status == "failed"
    assert any(reason in steps["forkbomb"].error["message"] for reason in (
        "Resource temporarily unavailable", "memory limit exceeded",
    )), steps["forkbomb"].error
    assert (steps["spin"].error["code"], steps["spin"].error["origin"]) == ("timeout", "time_limit")
    assert finished(bystander).status == "completed"


def test_no_stopping_the_server_or_another_users_step(mallory, victor, compute):
    slow = submit(victor, {"iris": IRIS, "nap": script("time.sleep(4)\nreturn dataframe1,")}, default_compute=compute)
    run = finished(submit(mallory, {"iris": IRIS, "hostile": script("""
        import signal
        mine = {os.getpid(), os.getppid(), *map(int, os.listdir("/proc/self/task"))}  # its own threads too
        seen = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
        print("SEEN", seen, flush=True)
        for pid in list(seen) + list(range(1, 5000)):
            if pid not in mine:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return dataframe1,
    """)}, default_compute=compute))
    assert run.status == "completed", run.steps.get(node="hostile").error
    assert finished(slow).status == "completed"
    os.kill(os.getpid(), 0)  # the server (this process) is alive, and runs the next run
    assert finished(submit(victor, {"iris": IRIS}, default_compute=compute)).status == "completed"


def test_nothing_is_left_running_after_a_step(mallory, compute):
    token = f"atelier-daemon-{os.getpid()}-{compute}"
    run = finished(submit(mallory, {"iris": IRIS, "hostile": script(f"""
        import subprocess
        # Detached twice over: its own session, its parent gone.
        subprocess.Popen([sys.executable, "-c",
            "import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {token!r}], start_new_session=True)"])
        time.sleep(1)
        return dataframe1,
    """)}, default_compute=compute))
    assert run.status == "completed", run.steps.get(node="hostile").error
    assert processes_with(token) == []


FORGERIES = {
    # An output port that is a link to Victor's dataset on the host.
    "a linked output": """
        import modules.sdk.runner as runner
        def write_value(port_type, value, folder, *limits):
            folder.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(VICTIM, folder)
            return {"type": "DataFrame", "rows": 1, "schema": []}
        runner.write_value = write_value
        return dataframe1,
    """,
    # Export Data's request to register a folder outside its output.
    "an export path leaving the output": """
        import modules.sdk.runner as runner
        forged = {"status": "completed", "outputs": {}, "error": None,
                  "exports": [{"name": "stolen", "format": "parquet", "path": "_exports/../../../.." + VICTIM}]}
        runner.ResultManifest = type("Forged", (), {"model_validate": staticmethod(lambda data: type("M", (), {"to_json": lambda self: forged})())})
        return dataframe1,
    """,
    "an absolute export path": """
        import modules.sdk.runner as runner
        forged = {"status": "completed", "outputs": {}, "error": None,
                  "exports": [{"name": "stolen", "format": "parquet", "path": VICTIM}]}
        runner.ResultManifest = type("Forged", (), {"model_validate": staticmethod(lambda data: type("M", (), {"to_json": lambda self: forged})())})
        return dataframe1,
    """,
    # An exports folder that is itself a link to Victor's datasets.
    "a linked exports folder": """
        import modules.sdk.runner as runner
        os.makedirs("/atelier/out/_exports", exist_ok=True)
        os.symlink(VICTIM, "/atelier/out/_exports/stolen")
        forged = {"status": "completed", "outputs": {}, "error": None,
                  "exports": [{"name": "stolen", "format": "parquet", "path": "_exports/stolen"}]}
        runner.ResultManifest = type("Forged", (), {"model_validate": staticmethod(lambda data: type("M", (), {"to_json": lambda self: forged})())})
        return dataframe1,
    """,
    "a port its module does not have": """
        import modules.sdk.runner as runner
        forged = {"status": "completed", "error": None,
                  "outputs": {"../../escape": {"type": "DataFrame", "rows": 1, "schema": []}}}
        runner.ResultManifest = type("Forged", (), {"model_validate": staticmethod(lambda data: type("M", (), {"to_json": lambda self: forged})())})
        return dataframe1,
    """,
    "a manifest of 20 MB": """
        import modules.sdk.runner as runner
        forged = {"status": "completed", "outputs": {}, "error": None, "warnings": ["x" * 10_000] * 2_000}
        runner.ResultManifest = type("Forged", (), {"model_validate": staticmethod(lambda data: type("M", (), {"to_json": lambda self: forged})())})
        return dataframe1,
    """,
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_result_is_refused_with_a_clear_step_error(mallory, victims_things, compute, forgery):
    victim = str(victims_things["table"].parent)
    body = f"VICTIM = {victim!r}\n" + textwrap.dedent(FORGERIES[forgery]).strip()
    run = finished(submit(mallory, {"iris": IRIS, "hostile": script(body)}, default_compute=compute))
    step = run.steps.get(node="hostile")
    assert step.status == "failed"
    assert step.error["code"] == "result_refused", step.error
    assert step.error["message"].startswith("the step's result was refused: ")
    assert not Dataset.objects.filter(owner=mallory).exists()
    store = victims_things["store"]
    assert not [p for p in store.rglob("*") if p.is_symlink()], "a link entered the store"
    victim_bytes = victims_things["table"].read_bytes()
    assert not [p for p in store.rglob("*") if p.is_file() and p.read_bytes() == victim_bytes]


def test_without_a_sandbox_only_staff_run_code_on_local_compute(settings, store_dirs, mallory, django_user_model):
    settings.ATELIER = {**settings.ATELIER, "LOCAL_SANDBOX": "off"}
    document = {"format": "atelier/pipeline@1", "name": "p",
                "nodes": {"iris": IRIS, "mine": script("return dataframe1,")}}
    refused = client_for(mallory).post("/api/runs/", {"pipeline": document}, format="json")
    assert refused.status_code == 400
    error = next(e for e in refused.json()["errors"] if e.get("node") == "mine")
    assert error["code"] == "code_not_allowed"
    assert "only staff may run code there" in error["message"]
    # Built-in modules still run for her; a staff member's code runs.
    assert finished(submit(mallory, {"iris": IRIS})).status == "completed"
    staff = django_user_model.objects.create_user("sam", password="not-used", is_staff=True)
    run = finished(submit(staff, document["nodes"]))
    assert run.status == "completed"
    assert run.steps.get(node="mine").placement["sandbox"] == "none"


def test_the_sandbox_holds_no_privilege(mallory, compute):
    run = finished(submit(mallory, {"iris": IRIS, "hostile": probes({
        "capabilities": (
            "[line for line in open('/proc/self/status') "
            "if line.startswith(('CapEff', 'CapPrm', 'CapBnd')) and line.split()[1].strip('0')]"
        ),
        "a new user namespace": "worked(libc.unshare(0x10000000))",
        "mounting": "worked(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))",
        "being root": "os.getuid() == 0",
    })}, default_compute=compute))
    assert blocked(probe_results(run)) == {}, logs(run, "hostile")


def test_killing_its_own_server_fails_only_its_own_step(mallory, victor, compute):
    """A step that kills what runs it ends at worst its own step: the next steps, hers or
    anyone's, run."""
    run = finished(submit(mallory, {"iris": IRIS, "hostile": script("""
        import signal
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(5)
        return dataframe1,
    """)}, default_compute=compute))
    assert run.status in ("completed", "failed")
    again = {"iris": IRIS, "again": script("return dataframe1,")}
    assert finished(submit(mallory, again, default_compute=compute, force_rerun=True)).status == "completed"
    assert finished(submit(victor, {"iris": IRIS}, default_compute=compute, force_rerun=True)).status == "completed"
