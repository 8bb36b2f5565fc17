"""Benchmark: the CPU time of masking texts on which a masking rule once backtracked.

`sql_excerpt` masks credentials in whatever SQL the tool shows (a step's SQL, a server's error
message), so a rule that backtracks quadratically turns one long line into seconds of CPU
(0.6 to 8 s each for these texts before stop 35). Prints each text's size and CPU time, at 1x
and 4x its size: a linear rule takes some 4x as long at 4x, a quadratic one 16x. Asserts
nothing (figures, not a test).

Run: `.venv/bin/python bench/bench_redact.py`
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from migration_rollback.redact_sql import sql_excerpt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))

from test_redact_sql import QUADRATIC_BEFORE


def cpu_seconds(text: str) -> float:
    start = time.process_time()
    sql_excerpt.__wrapped__(text)  # not the memo: each run masks anew
    return time.process_time() - start


def main() -> None:
    print(f"{'text':40} {'size':>9} {'CPU 1x':>8} {'CPU 4x':>8} {'4x/1x':>6}")
    for name, text in QUADRATIC_BEFORE.items():
        once, four = cpu_seconds(text), cpu_seconds(text * 4)
        ratio = four / once if once else float("nan")
        print(f"{name:40} {len(text):9,} {once:8.3f} {four:8.3f} {ratio:6.1f}")


if __name__ == "__main__":
    main()
