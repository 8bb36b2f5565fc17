"""The instruction-count bench reads valgrind's total and subtracts the shared setup."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.bench.bench_support import load_script

BENCH = load_script(
    Path(__file__).resolve().parents[3] / "bench" / "engine_instructions.py", "engine_instructions"
)

REPORT = """==1== Cachegrind, a high-precision tracing profiler
==1== Command: python bench/engine_instructions.py 150 --mode none
==1==
==1== I   refs:      3,741,217,901
"""


def test_the_total_is_read_from_the_report() -> None:
    assert BENCH.instructions(REPORT) == 3_741_217_901


def test_a_report_without_a_total_says_so() -> None:
    with pytest.raises(ValueError, match="no 'I refs' line"):
        BENCH.instructions("==1== valgrind: failed to start tool")


def test_the_ratio_leaves_out_the_setup() -> None:
    counts = {"none": 1_000, "parse": 1_400, "engine": 1_600}
    assert BENCH.ratio(counts) == pytest.approx(1.5)


def test_a_parse_costing_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="parsing cost no instructions"):
        BENCH.ratio({"none": 5, "parse": 5, "engine": 9})
