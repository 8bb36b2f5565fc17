"""The resource's duration fields and the parsers that read them agree.

The CRD (crds/, the single source) checks a duration with a pattern; the operator reads it with
lifecycle/durations.py and hands it to the Job's `execute` flags, read with
runner/options.py. Whatever the pattern lets through, both parsers read as the same length;
junk the pattern stops (Unicode digits, a unit twice) neither parser reads either.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from migration_rollback.lifecycle.durations import parse_millis
from migration_rollback.runner.options import parse_duration

CRDS = Path(__file__).resolve().parents[2] / "crds"
CRD = CRDS / "rollback.migrations.dev_migrationrollbacks.yaml"
# Each is handed to the Job as --max-age, --lock-timeout, --statement-timeout.
FIELDS = [("backup", "maxAge"), ("job", "lockTimeout"), ("job", "statementTimeout")]
GOOD = ["1s", "250ms", "10m", "2h", "007s"]
JUNK = ["\u0661\u0660s", "\uff11\uff10s", "1\u0660m", "1s1s", "1m30m", "1h30m", "0s", " 5s", "5s\n"]


def _spec() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]


def _pattern(path: tuple[str, str]) -> re.Pattern[str]:
    """The field's pattern as the API server reads it (Go's RE2: `$` is the end of the text,
    where Python's also matches before a final newline)."""
    field = _spec()[path[0]]["properties"][path[1]]
    return re.compile(field["pattern"].removesuffix("$") + r"\Z")


@pytest.mark.parametrize("path", FIELDS)
def test_every_duration_the_resource_accepts_reads_the_same_in_both_parsers(
    path: tuple[str, str],
) -> None:
    pattern = _pattern(path)
    accepted = [text for text in GOOD if pattern.search(text)]
    assert accepted  # the samples reach each field
    for text in accepted:
        assert parse_duration(text) == timedelta(milliseconds=parse_millis(text)), text


@pytest.mark.parametrize("path", FIELDS)
@pytest.mark.parametrize("text", JUNK)
def test_junk_is_stopped_by_the_pattern(path: tuple[str, str], text: str) -> None:
    assert _pattern(path).search(text) is None


@pytest.mark.parametrize("text", [t for t in JUNK if t not in ("1h30m", "0s", " 5s", "5s\n")])
def test_junk_is_refused_by_both_parsers(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
    with pytest.raises(ValueError, match="not a duration"):
        parse_millis(text)
