"""The code type-checks: mypy.ini says what is checked and how."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_code_type_checks():
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini"], cwd=ROOT, capture_output=True, text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
