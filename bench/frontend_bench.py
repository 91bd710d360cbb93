"""Front-end benchmark: bundle size, the canvas's time to interactive, panning frame rate.

    python bench/frontend_bench.py [--skip-build] [--repeat N]

Not a test: it prints a table.
- Bundle: the production build of frontend/ (`npm run build`, skipped with --skip-build)
  in static/atelier/, each file raw and gzipped (level 9, as a server would send it),
  split into what the page loads first and what it loads lazily.
- Time to interactive: a live Atelier (daphne on 127.0.0.1, a temporary SQLite database
  and data folder) serves the real page and API; headless Chromium signs in through the
  sign-in page and opens a pipeline. From navigation start, "rendered" is when every
  module node of the pipeline is on the canvas, measured and showing all its ports;
  "interactive" is when a click on a node, sent as soon as one can be clicked (the canvas
  has fitted the pipeline into view), has selected it. Each run uses a new browser context
  and an emptied cache, as a first visit. Median of N.
- Panning: a generated 300-node pipeline is opened, then dragged across the empty canvas
  with the mouse for a few seconds while requestAnimationFrame counts frames. Median of N.

Chromium is Debian's (/usr/bin/chromium), headless, without a GPU: absolute numbers are
those of software rendering on this machine; compare runs on one machine.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "static" / "atelier"
SAMPLE = ROOT / "designer" / "samples" / "automobile-price-regression.yaml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
USERNAME = "bench"
LANES, LANE_NODES = 50, 6  # the generated pipeline: 50 lanes of 6 modules, 300 nodes
PAN_SECONDS = 3.0
MOUSE_HZ = 120  # pointer moves per second while panning, as an ordinary mouse reports them
PAGE_TIMEOUT_MS = 60_000


class BenchError(RuntimeError):
    """Something the benchmark needs is missing or did not behave; the message says what."""


# -- the bundle ---------------------------------------------------------------------------

def build_bundle() -> None:
    if shutil.which("npm") is None:
        raise BenchError("npm is not installed; install Node.js 20.19+ or pass --skip-build to measure the existing build")
    if not (ROOT / "frontend" / "node_modules").is_dir():
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT / "frontend")
    _run(["npm", "run", "build", "--silent"], cwd=ROOT / "frontend")


def bundle_rows() -> list[tuple[str, str, str]]:
    entry = BUNDLE / "atelier.js"
    if not entry.is_file():
        raise BenchError(f"no production build at {entry.relative_to(ROOT)}; run without --skip-build")
    first, lazy = [entry, BUNDLE / "atelier.css"], []
    for path in sorted(BUNDLE.rglob("*")):
        if path.is_file() and path not in first:
            lazy.append(path)
    rows = []
    totals = [0, 0]
    for label, paths in (("loaded first", [p for p in first if p.is_file()]), ("loaded lazily", lazy)):
        raw = sum(p.stat().st_size for p in paths)
        packed = sum(len(gzip.compress(p.read_bytes(), compresslevel=9)) for p in paths)
        totals[0] += raw
        totals[1] += packed
        names = ", ".join(p.name for p in paths) if len(paths) <= 2 else f"{len(paths)} files"
        rows.append((f"bundle, {label} (gzip)", _kib(packed), f"{_kib(raw)} raw; {names or 'none'}"))
    rows.append(("bundle, total (gzip)", _kib(totals[1]), f"{_kib(totals[0])} raw"))
    return rows


def _kib(size: int) -> str:
    return f"{size / 1024:,.1f} KiB"


# -- a live server ------------------------------------------------------------------------

def _run(args: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"`{' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_server(folder: Path, password: str) -> Iterator[str]:
    """Atelier as `make run` serves it (daphne, collected static files, DEBUG off), on a
    temporary SQLite database and data folder, with one user; yields its base URL."""
    env = {
        **os.environ,
        "ATELIER_DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        # One key for every process started here, so sessions outlive the process that signed them.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "BENCH_USERNAME": USERNAME,
        "BENCH_PASSWORD": password,
    }
    manage = [sys.executable, "manage.py"]
    _run([*manage, "migrate", "--verbosity", "0"], env=env)
    _run([*manage, "collectstatic", "--no-input", "--verbosity", "0"], env=env)
    _run([*manage, "shell", "-c", (
        "import os; from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_user(os.environ['BENCH_USERNAME'], password=os.environ['BENCH_PASSWORD'])"
    )], env=env)
    port = _free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "designer.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise BenchError(f"the server stopped at start-up:\n{(folder / 'server.log').read_text()}")
            try:
                urllib.request.urlopen(f"{url}/login/", timeout=2).close()
                break
            except OSError:  # refused, reset or timed out: not up yet
                if time.monotonic() > deadline:
                    raise BenchError("the server did not answer within 60 s") from None
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


class Api:
    """The few REST calls the benchmark makes, with a token as a script would."""

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.token = self._call("POST", "/api/auth/token/", {"username": USERNAME, "password": password})["token"]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Token {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise BenchError(f"{method} {path} answered {exc.code}: {exc.read()[:2000].decode(errors='replace')}") from None

    def create_pipeline(self, document: dict[str, Any]) -> int:
        return self._call("POST", "/api/pipelines/", {"name": document["name"], "document": document})["id"]

    def port_counts(self) -> dict[str, int]:
        """Input plus output ports of every module: the handles its node shows."""
        return {m["id"]: len(m["inputs"]) + len(m["outputs"]) for m in self._call("GET", "/api/modules/")}


def generated_pipeline() -> dict[str, Any]:
    """LANES lanes of import → select → clean → split → train, with a learner feeding each
    train: a valid pipeline of LANES × LANE_NODES nodes laid out in five blocks of lanes."""
    nodes: dict[str, Any] = {}
    layout: dict[str, dict[str, int]] = {}
    for lane in range(LANES):
        block, row = divmod(lane, LANES // 5)
        x0, y0 = block * 1500, row * 260

        def node(name: str, column: int, rise: int, spec: dict[str, Any]) -> None:
            nodes[f"{name}{lane}"] = spec
            layout[f"{name}{lane}"] = {"x": x0 + column * 240, "y": y0 + rise}

        node("cars", 0, 0, {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}})
        node("select", 1, 0, {"module": "select_columns", "inputs": {"dataset": f"cars{lane}.dataset"},
                              "params": {"columns": {"include": "all", "exclude": ["normalized-losses"]}}})
        node("clean", 2, 0, {"module": "clean_missing_data", "inputs": {"dataset": f"select{lane}.dataset"},
                             "params": {"columns": {"include": "all"}, "mode": "remove_row"}})
        node("split", 3, 0, {"module": "split_data", "inputs": {"dataset": f"clean{lane}.dataset"},
                             "params": {"fraction": 0.7, "seed": lane}})
        node("learner", 4, -110, {"module": "linear_regression"})
        node("train", 5, 0, {"module": "train_model", "inputs": {"model": f"learner{lane}.model", "dataset": f"split{lane}.first"},
                             "params": {"label_column": "price"}})
    assert len(nodes) == LANES * LANE_NODES
    return {"format": "atelier/pipeline@1", "name": f"bench-{len(nodes)}-nodes", "nodes": nodes, "layout": layout}


# -- the browser --------------------------------------------------------------------------

# Runs in the page before its own scripts: records, on the page's clock (ms from navigation
# start), when the canvas shows every node with all its ports, and when a node is selected.
# EXPECT ({nodes, handles}) is prepended by watch_canvas().
WATCH_CANVAS = """
(() => {
  const bench = (window.__bench = { rendered: null, selected: null });
  const check = () => {
    if (bench.rendered === null) {
      const nodes = document.querySelectorAll('.react-flow__node');
      const handles = document.querySelectorAll('.react-flow__node .react-flow__handle');
      const measured = [...nodes].every((n) => n.style.visibility !== 'hidden');
      if (nodes.length === EXPECT.nodes && handles.length === EXPECT.handles && measured) {
        bench.rendered = performance.now();
      }
    }
    if (bench.rendered !== null && bench.selected === null && document.querySelector('.react-flow__node.selected')) {
      bench.selected = performance.now();
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['class', 'style'],
  });
})();
"""

# Counts animation frames until stopped; what the browser could paint while panning.
COUNT_FRAMES = """
() => {
  const frames = (window.__frames = { times: [], running: true });
  const tick = (t) => { frames.times.push(t); if (frames.running) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}
"""


def launch(playwright: Any) -> Any:
    if not CHROMIUM.exists():
        raise BenchError(f"{CHROMIUM} is missing; install Debian's Chromium: apt-get install -y chromium")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def signed_in_page(browser: Any, url: str, password: str, expect_nodes: int, expect_handles: int) -> Any:
    """A page of a new browser context, signed in through the sign-in page."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    expect = json.dumps({"nodes": expect_nodes, "handles": expect_handles})
    context.add_init_script(f"const EXPECT = {expect};\n{WATCH_CANVAS}")
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    return page


def open_canvas(page: Any, url: str, pipeline_id: int) -> tuple[float, float]:
    """Open a pipeline with an empty cache; (rendered, interactive) in ms from navigation start."""
    # Signing in landed on the home page, which loaded the bundle: forget it, so the canvas
    # is timed as a first visit.
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    page.goto(f"{url}/pipelines/{pipeline_id}/", wait_until="commit")
    try:
        page.wait_for_function("window.__bench && window.__bench.rendered !== null", polling="raf")
    except Exception as exc:  # Playwright's TimeoutError: say what was on the page instead
        found = page.evaluate("document.querySelectorAll('.react-flow__node').length")
        raise BenchError(
            f"the canvas did not show the pipeline's nodes within {PAGE_TIMEOUT_MS / 1000:.0f} s "
            f"({found} nodes on the page): {exc}"
        ) from None
    try:
        x, y = page.wait_for_function(NODE_SPOT, polling="raf").json_value()
    except Exception as exc:  # Playwright's TimeoutError
        raise BenchError(f"no node of the canvas could be clicked: every one stayed covered or off screen ({exc})") from None
    page.mouse.click(x, y)
    page.wait_for_function("window.__bench.selected !== null", polling="raf")
    bench = page.evaluate("window.__bench")
    return bench["rendered"], bench["selected"]


# The middle of a node that nothing (minimap, controls, a panel) covers, or null; the canvas
# fits the pipeline into view only once its nodes are measured, so this can lag "rendered".
NODE_SPOT = """
() => {
  for (const node of document.querySelectorAll('.react-flow__node')) {
    const box = node.getBoundingClientRect();
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (node.contains(document.elementFromPoint(x, y))) return [x, y];
  }
  return null;
}
"""


def empty_spot(page: Any) -> tuple[float, float]:
    """A point of the canvas's pane with no node, edge or overlay on it, to drag from."""
    spot = page.evaluate("""
    () => {
      const pane = document.querySelector('.react-flow__pane');
      if (!pane) return null;
      const box = pane.getBoundingClientRect();
      // Left of the middle: the drag circles up to 240 px right and 120 px up and down from here.
      for (let fy = 0.3; fy < 0.7; fy += 0.05) {
        for (let fx = 0.2; fx < 0.6; fx += 0.05) {
          const x = box.left + box.width * fx, y = box.top + box.height * fy;
          if (document.elementFromPoint(x, y) === pane) return [x, y];
        }
      }
      return null;
    }""")
    if spot is None:
        raise BenchError("found no empty spot of the canvas to drag from")
    return spot[0], spot[1]


def viewport_transform(page: Any) -> str:
    return page.evaluate("document.querySelector('.react-flow__viewport').style.transform")


def pan_fps(page: Any) -> tuple[float, float]:
    """Drag the canvas around for PAN_SECONDS; (frames per second, 95th percentile frame
    time in ms) over the drag."""
    x, y = empty_spot(page)
    before = viewport_transform(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate(COUNT_FRAMES)
    started = time.monotonic()
    # Round and round a circle of 120 px radius, one small move per mouse report, as a hand pans.
    for step in range(int(PAN_SECONDS * MOUSE_HZ)):
        angle = step / 30
        page.mouse.move(x + 120 * (1 - math.cos(angle)), y + 120 * math.sin(angle))
        time.sleep(max(0.0, started + (step + 1) / MOUSE_HZ - time.monotonic()))
    page.mouse.up()
    times = page.evaluate("(() => { window.__frames.running = false; return window.__frames.times; })()")
    if viewport_transform(page) == before:
        raise BenchError("dragging the canvas did not pan it (the viewport did not move)")
    if len(times) < 2:
        raise BenchError("no animation frames while panning")
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    fps = (len(times) - 1) / ((times[-1] - times[0]) / 1000)
    return fps, gaps[min(len(gaps) - 1, int(len(gaps) * 0.95))]


# -- the table ----------------------------------------------------------------------------

def spread(values: list[float], unit: str, digits: int = 0) -> tuple[str, str]:
    return (f"{statistics.median(values):,.{digits}f} {unit}", f"min {min(values):,.{digits}f}, max {max(values):,.{digits}f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-build", action="store_true", help="measure the build already in static/atelier/")
    parser.add_argument("--repeat", type=int, default=5, help="page loads and pans to take the median of")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    from playwright.sync_api import sync_playwright  # after --help, which needs no browser

    if not args.skip_build:
        build_bundle()
    rows = bundle_rows()
    password = secrets.token_urlsafe(16)
    sample = yaml.safe_load(SAMPLE.read_text())
    big = generated_pipeline()
    with tempfile.TemporaryDirectory(prefix="atelier-frontend-bench-") as tmp, live_server(Path(tmp), password) as url:
        api = Api(url, password)
        ports = api.port_counts()
        pipelines = []
        for document in (sample, big):
            handles = sum(ports[node["module"]] for node in document["nodes"].values())
            pipelines.append((document, api.create_pipeline(document), len(document["nodes"]), handles))
        with sync_playwright() as playwright:
            browser = launch(playwright)
            version = browser.version
            for document, pipeline_id, count, handles in pipelines:
                rendered, interactive, fps, frame_p95 = [], [], [], []
                for _ in range(args.repeat):
                    page = signed_in_page(browser, url, password, count, handles)
                    shown, selected = open_canvas(page, url, pipeline_id)
                    rendered.append(shown)
                    interactive.append(selected)
                    if document is big:
                        rate, p95 = pan_fps(page)
                        fps.append(rate)
                        frame_p95.append(p95)
                    page.context.close()
                what = f"{document['name']} ({count} nodes)"
                rows.append((f"canvas rendered, {what}", *spread(rendered, "ms")))
                rows.append((f"time to interactive, {what}", *spread(interactive, "ms")))
                if fps:
                    value, note = spread(fps, "fps", 1)
                    rows.append((f"panning, {what}", value, f"{note}; 95th pct frame {statistics.median(frame_p95):.0f} ms"))
            browser.close()

    width = max(len(r[0]) for r in rows)
    print(f"\nAtelier front end: Chromium {version} headless, software rendering, {VIEWPORT['width']}x{VIEWPORT['height']}, "
          f"median of {args.repeat}\n")
    print(f"{'measurement':<{width}}  {'value':>12}  notes")
    print(f"{'-' * width}  {'-' * 12}  {'-' * 40}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")
    print("\nrendered: every node on the canvas with its ports; interactive: a click on a node sent then has selected it"
          " (both from navigation start, first visit: new browser context, empty cache)")


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        raise SystemExit(f"frontend_bench: {exc}") from None
