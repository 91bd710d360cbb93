"""A pack's own tests: every module passes Atelier's conformance check, and does its job."""
from __future__ import annotations

import pandas as pd

from atelier_example.modules import AddRowNumbers
from modules.sdk.conformance import check_module
from modules.sdk.testing import call_module


def test_the_modules_pass_the_conformance_check():
    assert check_module(AddRowNumbers) == []


def test_rows_are_numbered_in_order():
    table = pd.DataFrame({"x": [3, 1, 2]})
    numbered = call_module("example.add_row_numbers", {"start": 0}, dataset=table).outputs["dataset"]
    assert numbered["row_number"].tolist() == [0, 1, 2]
