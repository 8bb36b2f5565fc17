"""Archive names: readable, traceable, unique, and never longer than PostgreSQL's 63 bytes."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from migration_rollback.runner.naming import (
    NAMEDATALEN,
    archived_column_name,
    archived_table_name,
    collision_free_name,
    fit_identifier,
    run_stamp,
)

WHEN = datetime(2026, 11, 24, 3, 15, 0, tzinfo=UTC)


def test_short_names_are_readable() -> None:
    assert run_stamp(WHEN) == "20261124t031500z"
    assert archived_table_name("likes", "20251113000001", WHEN) == (
        "likes__20251113000001__20261124t031500z"
    )
    assert (
        archived_column_name("profiles", "bio", "1", WHEN) == "profiles__bio__1__20261124t031500z"
    )


def test_long_names_are_cut_with_a_hash_and_keep_the_suffix() -> None:
    long_a = "a" * 60 + "_one"
    long_b = "a" * 60 + "_two"
    name_a = archived_table_name(long_a, "20251113000001", WHEN)
    name_b = archived_table_name(long_b, "20251113000001", WHEN)
    assert len(name_a.encode()) <= NAMEDATALEN
    assert name_a.endswith("__20251113000001__20261124t031500z")
    assert name_a != name_b  # the hash keeps truncated names apart


def test_collision_free_name_differs_by_owner() -> None:
    assert collision_free_name("items_pkey", "x") != collision_free_name("items_pkey", "y")
    assert collision_free_name("items_pkey", "x").startswith("items_pkey_")


@given(st.text(min_size=1, max_size=200), st.text(max_size=80))
def test_fit_identifier_always_fits(base: str, suffix: str) -> None:
    name = fit_identifier(base, suffix)
    assert len(name.encode()) <= NAMEDATALEN
    assert name


@given(st.text(alphabet="éü漢字ab_", min_size=1, max_size=80))
def test_multibyte_names_are_cut_on_character_boundaries(table: str) -> None:
    name = archived_table_name(table, "20251113000001", WHEN)
    assert len(name.encode()) <= NAMEDATALEN
    name.encode().decode()  # valid UTF-8
