"""The corpus run's independent check (bench/corpus/run.py): a rollback that fails on an object
the check's server never got, because it lacks an extension the tool replays with a stand-in, is
inconclusive, not a false `verified`; any other failing rollback stays one."""

from __future__ import annotations

from types import ModuleType

import pytest
from bench_support import CORPUS, load_script

RUN = CORPUS / "run.py"
FILE = "psql:/tmp/corpus-run-x/supabase/migrations/{}.sql:{}: ERROR:  {}"
PGVECTOR = [
    FILE.format("20250101_add_pgvector", 8, 'extension "vector" is not available'),
    FILE.format("20250101_add_pgvector", 12, 'type "vector" does not exist'),
    FILE.format("20250101_add_pgvector", 40, 'type "vector" does not exist'),
]


@pytest.fixture(scope="module")
def run() -> ModuleType:
    return load_script(RUN, "corpus_run_independent")


def _failed(run: ModuleType, message: str) -> object:
    line = FILE.format("20260206_security_hardening_rollback", 1784, message)
    return run.Check("20260206_security_hardening", "rollback_error", [line])


def test_missing_extension_object_is_inconclusive(run: ModuleType) -> None:
    ind = run.Independent()
    ind.learn("20250101_add_pgvector", PGVECTOR)
    check = ind.gap(_failed(run, 'type "vector" does not exist'))
    assert check.verdict == "inconclusive"
    assert 'type "vector" does not exist in the replay of 20250101_add_pgvector' in check.detail[0]
    assert "vector (20250101_add_pgvector)" in check.detail[0]
    assert check.detail[1].endswith('type "vector" does not exist')  # the error itself kept


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        # another missing object than the replay's: the rollback's own fault
        (PGVECTOR, 'relation "public.questions_backup" does not exist'),
        # not a missing object at all
        (PGVECTOR, "cannot drop column embedding because other objects depend on it"),
        # the same missing object, but every extension was there: nothing to excuse it
        (
            [FILE.format("20250102_q", 3, 'type "vector" does not exist')],
            'type "vector" does not exist',
        ),
    ],
)
def test_other_rollback_failures_stay_false(
    run: ModuleType, errors: list[str], message: str
) -> None:
    ind = run.Independent()
    ind.learn("20250101_add_pgvector", errors)
    assert ind.gap(_failed(run, message)).verdict == "rollback_error"


def test_older_servers_wording_of_a_missing_extension(run: ModuleType) -> None:
    ind = run.Independent()
    control = (
        'could not open extension control file "/usr/share/postgresql/14/extension/vector.control"'
        ": No such file or directory"
    )
    ind.learn("m1", [f"psql:/x/m1.sql:1: ERROR:  {control}"])
    assert ind.lacking == {"vector": "m1"}
