"""Run a pipeline file on a running Atelier server: submit it over the API, follow the run
live over its WebSocket, print the summary (as `run_pipeline --json` does with --json).

Needs neither the local database nor the engine: only HTTP and a WebSocket to the server.
Exit codes: 0 the run completed; 1 it failed or was cancelled, or the pipeline is invalid;
2 the server could not be used (bad URL, unreachable, wrong token, unexpected answer).
"""
from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from ._pipeline_args import parse_params, read_pipeline_file

_TERMINAL = {"completed", "reused", "failed", "cancelled", "skipped"}
# Close codes of designer.realtime.consumers.
_CLOSE_UNAUTHENTICATED = 4401
_CLOSE_NOT_FOUND = 4404
_HTTP_TIMEOUT = 60
# How long a lost WebSocket is retried before falling back to polling the API.
_RECONNECT_FOR_S = 30.0
_POLL_EVERY_S = 1.0


class ServerError(Exception):
    """The server could not be used; `errors` are its structured errors, when it sent any."""

    def __init__(self, message: str, *, status: int | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.errors = errors or []


class Api:
    """The few runs-API calls the command needs, over urllib, with the token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url
        self.token = token

    def request(self, method: str, path: str, *, body: bytes | None = None, content_type: str | None = None) -> Any:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                errors = json.loads(raw).get("errors") or []
            except (ValueError, AttributeError):
                errors = []
            messages = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
            raise ServerError(
                f"{method} {self.base + path}: HTTP {exc.code} {exc.reason}" + (f": {messages}" if messages else ""),
                status=exc.code, errors=[e for e in errors if isinstance(e, dict)],
            ) from None
        except urllib.error.URLError as exc:
            raise ServerError(f"cannot reach {self.base}: {exc.reason}") from None
        except (OSError, ValueError) as exc:  # timeouts, resets, a non-JSON answer
            raise ServerError(f"{method} {self.base + path}: {exc}") from None

    def submit(self, *, text: bytes, filename: str, parameters: dict[str, Any], compute: str | None,
               force_rerun: bool) -> dict[str, Any]:
        fields = {"parameters": json.dumps(parameters), "force_rerun": "true" if force_rerun else "false"}
        if compute:
            fields["compute"] = compute
        body, content_type = _multipart(fields, {"file": (filename, text)})
        return self.request("POST", "/api/runs/", body=body, content_type=content_type)

    def run(self, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/runs/{run_id}/")

    def cancel(self, run_id: str) -> None:
        try:
            self.request("POST", f"/api/runs/{run_id}/cancel/")
        except ServerError as exc:
            if exc.status != 409:  # 409: it has finished already
                raise

    def log_tail(self, run_id: str, node: str, lines: int = 15) -> list[str]:
        try:
            return self.request("GET", f"/api/runs/{run_id}/steps/{urllib.parse.quote(node)}/logs/?tail={lines}")["lines"]
        except (ServerError, KeyError, TypeError):
            return []


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _base_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CommandError(f"--url must be the server's http:// or https:// address, got {url!r}")
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))


class Follower:
    """Follows one run to its end: WebSocket events (resuming after a blip with `?after=`),
    else polling the API, and shows each step's state changes through LiveConsole."""

    def __init__(self, api: Api, run_id: str, console: Any, live: TextIO, steps: dict[str, str]) -> None:
        self.api = api
        self.run_id = run_id
        self.console = console
        self.live = live
        self.seq = 0
        self.steps = dict(steps)  # node -> the status last shown
        self.finished = False
        self.use_websocket = True

    # -- showing states ------------------------------------------------------------------

    def _step_event(self, node: str, state: dict[str, Any]) -> None:
        from designer.engine.events import Status, StepStatusEvent

        status = state.get("status")
        if status is None or self.steps.get(node) == status:
            return
        self.steps[node] = status
        self.console(StepStatusEvent(
            node=node, status=Status(status), reused=bool(state.get("reused")),
            started_at=_seconds(state.get("started_at")), finished_at=_seconds(state.get("finished_at")),
            duration_s=state.get("duration_s"), error=state.get("error"),
            cache_key=state.get("cache_key"), reused_from=state.get("reused_from"),
        ))

    def _message(self, message: dict[str, Any]) -> None:
        from designer.engine.events import StepLogEvent, StepMetricEvent

        kind = message.get("type")
        if kind == "snapshot":
            self.seq = max(self.seq, message.get("seq", 0))
            for node, state in message.get("steps", {}).items():
                self._step_event(node, state)
            if message.get("run", {}).get("status") in _TERMINAL:
                self.finished = True
            return
        seq = message.get("seq", 0)
        if seq <= self.seq:
            return  # a duplicate
        self.seq = seq
        if kind == "step_status":
            self._step_event(message["node"], message)
        elif kind == "step_log":
            self.console(StepLogEvent(node=message["node"], lines=list(message.get("lines", []))))
        elif kind == "step_metric":
            self.console(StepMetricEvent(node=message["node"], name=message["name"], value=message.get("value")))
        elif kind == "run_status" and message.get("status") in _TERMINAL:
            self.finished = True

    # -- following -------------------------------------------------------------------------

    def follow(self) -> None:
        """Returns once the run has ended."""
        while not self.finished:
            if self.use_websocket:
                self._follow_websocket()
            else:
                self._poll()

    def _ws_url(self) -> str:
        parsed = urllib.parse.urlsplit(self.api.base)
        scheme = "wss" if parsed.scheme == "https" else "ws"
        query = f"after={self.seq}" if self.seq else ""
        return urllib.parse.urlunsplit((scheme, parsed.netloc, f"{parsed.path}/ws/runs/{self.run_id}/", query, ""))

    def _follow_websocket(self) -> None:
        from websockets.exceptions import (
            ConnectionClosed,
            InvalidStatus,
            WebSocketException,
        )
        from websockets.sync.client import connect
        from websockets.typing import Origin

        origin = urllib.parse.urlunsplit(urllib.parse.urlsplit(self.api.base)[:2] + ("", "", ""))
        failing_since: float | None = None
        while not self.finished:
            try:
                with connect(
                    self._ws_url(), additional_headers={"Authorization": f"Token {self.api.token}"},
                    origin=Origin(origin), open_timeout=10, max_size=None,
                ) as socket:
                    failing_since = None
                    for raw in socket:
                        self._message(json.loads(raw))
                        if self.finished:
                            return
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code in (_CLOSE_UNAUTHENTICATED, _CLOSE_NOT_FOUND):
                    # This server does not take tokens on its WebSocket (or refuses this
                    # one): the API still answers, so follow the run by asking it.
                    self.live.write("(the server's WebSocket refused the token; following the run by polling)\n")
                    self.use_websocket = False
                    return
            except InvalidStatus as exc:
                self.live.write(f"(the server refused the WebSocket: HTTP {exc.response.status_code}; "
                                "following the run by polling)\n")
                self.use_websocket = False
                return
            except (OSError, TimeoutError, WebSocketException, ValueError):
                pass
            if self.finished:
                return
            # A blip: the socket dropped or cannot open right now. Retry, resuming after
            # the last event seen; after a while, fall back to the API.
            now = time.monotonic()
            failing_since = failing_since or now
            if now - failing_since > _RECONNECT_FOR_S:
                self.live.write("(lost the WebSocket; following the run by polling)\n")
                self.use_websocket = False
                return
            time.sleep(min(2.0, 0.2 + (now - failing_since) / 5))

    def _poll(self) -> None:
        detail = self.api.run(self.run_id)
        for step in detail.get("steps", []):
            self._step_event(step["node"], step)
        self.seq = max(self.seq, detail.get("last_seq") or 0)
        if detail.get("status") in _TERMINAL:
            self.finished = True
        else:
            time.sleep(_POLL_EVERY_S)


def _seconds(value: Any) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def summary(detail: dict[str, Any]) -> dict[str, Any]:
    """The run's final state, as `run_pipeline --json` prints it."""
    steps: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for step in detail.get("steps", []):
        entry: dict[str, Any] = {
            "status": step["status"], "reused": step["reused"], "duration_s": step.get("duration_s") or 0.0,
        }
        if step.get("error"):
            entry["error"] = step["error"]
        steps[step["node"]] = entry
        if step.get("metrics"):
            metrics[step["node"]] = dict(step["metrics"])
    return {"run_id": detail["id"], "status": detail["status"], "steps": steps, "metrics": metrics}


def _run_result(detail: dict[str, Any], api: Api) -> Any:
    """The run's final state as the engine's RunResult, for console.print_summary."""
    from designer.engine.events import Status
    from designer.engine.executor import RunResult, StepResult

    steps = {}
    for step in detail.get("steps", []):
        result = StepResult(
            node=step["node"], status=Status(step["status"]), reused=step["reused"], error=step.get("error"),
            # print_summary shows the duration; the server's is what counts.
            started_at=0.0, finished_at=float(step.get("duration_s") or 0.0),
            metrics=dict(step.get("metrics") or {}),
        )
        if result.error:
            result.log_tail.extend(api.log_tail(detail["id"], step["node"]))
        steps[step["node"]] = result
    return RunResult(run_id=detail["id"], status=Status(detail["status"]), steps=steps)


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = ("Run a pipeline file on an Atelier server, showing each step live; "
            "exit code 0 only if it completed (1: failed, cancelled or invalid; 2: the server could not be used).")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--url", required=True, help="the server, e.g. https://atelier.example.com")
        parser.add_argument("--token", help="an API token (POST /api/auth/token/); default: $ATELIER_TOKEN")
        parser.add_argument("--param", action="append", metavar="NAME=VALUE", help="a pipeline parameter value")
        parser.add_argument("--compute", help="the compute target for nodes that don't name one (default: the file's)")
        parser.add_argument("--force-rerun", action="store_true", help="run every step, reusing no earlier output")
        parser.add_argument("--json", action="store_true", help="print one JSON document with the run's outcome")

    def handle(self, *args, **options):
        as_json = options["json"]
        # With --json, stdout carries the JSON document alone; the live view goes to stderr.
        live = sys.stderr if as_json else self.stdout
        try:
            base = _base_url(options["url"])
            token = options["token"] or os.environ.get("ATELIER_TOKEN", "")
            if not token:
                raise CommandError("an API token is needed: --token, or the ATELIER_TOKEN environment variable")
            text = read_pipeline_file(options["file"])
            parameters = parse_params(options["param"])
        except CommandError as exc:
            self._fail(f"Error: {exc}", 2)
        api = Api(base, token)
        try:
            self._submit_and_follow(api, text, parameters, options, live, as_json)
        except ServerError as exc:
            if exc.status in (401, 403):
                self._fail(f"Error: the server refused the token ({exc})", 2)
            self._fail(f"Error: {exc}", 2)

    def _fail(self, message: str, code: int) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
        sys.exit(code)

    def _submit_and_follow(self, api: Api, text: bytes, parameters: dict[str, Any], options: dict[str, Any],
                           live: TextIO, as_json: bool) -> None:
        from designer.runs.console import print_summary

        try:
            detail = api.submit(
                text=text, filename=os.path.basename(options["file"]), parameters=parameters,
                compute=options["compute"], force_rerun=options["force_rerun"],
            )
        except ServerError as exc:
            if exc.status != 400:
                raise
            self._invalid(exc.errors, live, as_json)
        run_id = str(detail["id"])
        steps = {step["node"]: step["status"] for step in detail.get("steps", [])}
        live.write(f"Run {run_id}: {detail.get('pipeline_name')}, {len(steps)} steps ({api.base})\n")
        live.flush()
        follower = Follower(api, run_id, self._console(live, options), live, steps)
        try:
            follower.follow()
        except KeyboardInterrupt:
            live.write("Cancelling the run (Ctrl-C again to stop waiting)...\n")
            live.flush()
            try:
                api.cancel(run_id)
                follower.follow()
            except KeyboardInterrupt:
                self._fail(f"Stopped waiting; run {run_id} is being cancelled on the server.", 130)
        final = api.run(run_id)
        if as_json:
            self.stdout.write(json.dumps(summary(final)))
        else:
            print_summary(_run_result(final, api), self.stdout)
        sys.stdout.flush()
        sys.exit(0 if final["status"] == "completed" else 1)

    def _console(self, live: TextIO, options: dict[str, Any]) -> Any:
        """What shows the run as it goes: step states; their log lines with -v 2."""
        from designer.runs.console import LiveConsole

        return LiveConsole(live, verbose=options["verbosity"] > 1)

    def _invalid(self, errors: list[dict[str, Any]], live: TextIO, as_json: bool) -> None:
        """The server refused the pipeline (400): its errors, as run_pipeline shows them."""
        from designer.engine.errors import GraphError
        from designer.runs.console import print_errors

        if as_json:
            self.stdout.write(json.dumps({"run_id": None, "status": "failed", "steps": {}, "metrics": {}, "errors": errors}))
        else:
            graph_errors = [
                GraphError(
                    code=str(e.get("code", "invalid")),
                    message=str(e.get("message", "")) if not e.get("field") else f"{e['field']}: {e.get('message', '')}",
                    node=e.get("node"), port=e.get("port"), param=e.get("param"), details=e.get("details") or {},
                )
                for e in errors
            ] or [GraphError(code="invalid", message="the server refused the pipeline")]
            print_errors(graph_errors, live)
        sys.stdout.flush()
        sys.exit(1)
