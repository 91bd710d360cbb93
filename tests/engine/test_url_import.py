"""Import Data from a URL: the host downloads it (steps have no network) with its address
checks, and the step reads the file."""
from __future__ import annotations

import functools
import http.server
import ipaddress
import threading
from collections.abc import Iterator

import pytest

from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from designer.engine.url_fetch import url_fetch

from .test_executor import plan_of, store  # noqa: F401 (a fixture)

CSV = b"x,y\n1,2\n3,4\n5,6\n"


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(CSV)))
            self.end_headers()
            self.wfile.write(CSV)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/cars.csv"
    httpd.shutdown()


def url_plan(url: str):
    return plan_of({"web": {"module": "import_data", "params": {"source": "url", "url": url}}})


def test_the_host_downloads_the_url_and_the_sandboxed_step_reads_it(store, server):
    fetch = functools.partial(url_fetch, max_bytes=1 << 20, allowed_networks=[ipaddress.ip_network("127.0.0.1/32")])
    result = Executor(store=store, backends={"local": LocalBackend(capacity=1)}, fetch=fetch).run(url_plan(server))
    step = result.steps["web"]
    assert step.status is Status.COMPLETED, step.error
    assert step.outputs["dataset"]["rows"] == 3


def test_a_private_address_is_refused_as_the_users_error(store, server):
    result = Executor(store=store, backends={"local": LocalBackend(capacity=1)}).run(url_plan(server))
    error = result.steps["web"].error
    assert result.steps["web"].status is Status.FAILED
    assert (error["code"], error["origin"]) == ("url_unreachable", "module")
    assert server in error["message"]
