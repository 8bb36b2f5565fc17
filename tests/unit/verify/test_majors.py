"""The shadow's PostgreSQL major: config.toml, flag precedence, target server, the messages."""

from __future__ import annotations

import pytest

from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.verify.majors import (
    ConfigMajor,
    MajorConfigError,
    MajorRequirement,
    ShadowMajorError,
    choose_major,
    judge,
    label_in,
    mismatch_message,
    missing_binaries_message,
    parse_config_major,
    parse_version_output,
    requirement_for_target,
    server_major,
)

WHERE = "supabase/config.toml"
CONFIG_17 = ConfigMajor(17, WHERE)

# --- supabase/config.toml --------------------------------------------------------------------


def test_the_supabase_cli_config_gives_the_major() -> None:
    text = """
project_id = "shop"

[api]
port = 54321

[db]
port = 54322
shadow_port = 54320
major_version = 17
"""
    assert parse_config_major(text, WHERE) == 17


@pytest.mark.parametrize(
    "text",
    ["", 'project_id = "shop"\n', "[db]\nport = 54322\n", "[api]\nmajor_version = 17\n"],
    ids=["empty", "no-db-table", "db-without-major", "major-in-another-table"],
)
def test_a_config_that_does_not_say_gives_none(text: str) -> None:
    assert parse_config_major(text, WHERE) is None


def test_invalid_toml_is_an_error_naming_the_file_and_the_way_out() -> None:
    with pytest.raises(MajorConfigError) as caught:
        parse_config_major("[db\nmajor_version = 17\n", WHERE)
    message = str(caught.value)
    assert message.startswith(f"{WHERE}: not valid TOML")
    assert "--pg-major" in message


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('"17"', "'17'"),
        ("17.0", "17.0"),
        ("true", "True"),
        ("[17]", "[17]"),
        ("9", "9 is not a PostgreSQL major version"),
        ("170", "170 is not a PostgreSQL major version"),
        ("-17", "-17 is not a PostgreSQL major version"),
    ],
)
def test_a_major_that_is_not_a_major_is_an_error(value: str, why: str) -> None:
    with pytest.raises(MajorConfigError) as caught:
        parse_config_major(f"[db]\nmajor_version = {value}\n", WHERE)
    message = str(caught.value)
    assert message.startswith(f"{WHERE}: [db] major_version: ")
    assert why in message


def test_db_that_is_not_a_table_is_an_error() -> None:
    with pytest.raises(MajorConfigError, match=r"\[db\] must be a table"):
        parse_config_major('db = "postgres"\n', WHERE)


# --- precedence -------------------------------------------------------------------------------


def test_the_flag_wins_over_the_target_server_and_the_config() -> None:
    req = choose_major(flag=15, target_version_num=170002, config=CONFIG_17)
    assert (req.major, req.source) == (15, "--pg-major")


def test_the_target_server_wins_over_the_config() -> None:
    req = choose_major(target_version_num=150010, config=CONFIG_17)
    assert (req.major, req.source) == (15, "the target server")


def test_the_config_when_nothing_else_says() -> None:
    req = choose_major(config=CONFIG_17)
    assert (req.major, req.source) == (17, f"{WHERE} [db] major_version")
    assert req.describe() == f"PostgreSQL 17 ({WHERE} [db] major_version)"


def test_nothing_known_means_any_major() -> None:
    req = choose_major()
    assert req.major is None
    assert req.describe() == "any PostgreSQL major"
    assert judge(req, 15, "shadow") is None


def test_a_flag_out_of_range_is_refused() -> None:
    with pytest.raises(MajorConfigError, match="--pg-major: 8 is not"):
        choose_major(flag=8)


def test_the_override_is_carried() -> None:
    assert choose_major(config=CONFIG_17, allow_other=True).allow_other


def test_execute_and_the_operator_use_the_target_servers_major() -> None:
    req = requirement_for_target(170004)
    assert req == MajorRequirement(17, "the target server", False)


@pytest.mark.parametrize(
    ("num", "major"), [(170002, 17), (150010, 15), (180000, 18), (130021, 13), (90624, 9)]
)
def test_server_major_of_server_version_num(num: int, major: int) -> None:
    assert server_major(num) == major


@pytest.mark.parametrize(
    ("text", "major"),
    [
        ("postgres (PostgreSQL) 17.11\n", 17),
        ("postgres (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)\n", 15),
        ("postgres (PostgreSQL) 18beta1\n", 18),
        ("something else", None),
    ],
)
def test_the_major_of_postgres_version_output(text: str, major: int | None) -> None:
    assert parse_version_output(text) == major


# --- the verdict on a shadow ------------------------------------------------------------------


def test_the_same_major_is_fine() -> None:
    assert judge(choose_major(config=CONFIG_17), 17, "shadow") is None


def test_another_major_is_refused_plainly() -> None:
    req = choose_major(config=CONFIG_17)
    with pytest.raises(ShadowMajorError) as caught:
        judge(req, 15, "shadow server postgresql://postgres@db:5432/postgres")
    error = caught.value
    assert isinstance(error, DatabaseUnavailableError)  # the CLI's "shadow database" exit 2
    assert not error.retryable  # the same server says the same until someone acts
    message = str(error)
    assert message.startswith("the project targets PostgreSQL 17 but the shadow is PostgreSQL 15")
    assert f"{WHERE} [db] major_version" in message
    assert "scripts/pg-binaries.sh 17" in message
    assert "--allow-other-major" in message
    assert "postgresql://postgres:postgres@127.0.0.1:54322/postgres" in message  # supabase start


def test_the_mismatch_message_names_the_flag_when_the_flag_set_the_major() -> None:
    message = mismatch_message(choose_major(flag=17), 16, "shadow")
    assert "targets PostgreSQL 17 but the shadow is PostgreSQL 16" in message
    assert "comes from --pg-major" in message


def test_allowed_another_major_labels_the_verdicts() -> None:
    req = choose_major(config=CONFIG_17, allow_other=True)
    label = judge(req, 15, "shadow")
    assert label == "ran on PostgreSQL 15, not the project's PostgreSQL 17 (--allow-other-major)"
    assert label_in(["another note", label]) == label
    assert label_in(["another note"]) is None


def test_missing_binaries_say_which_were_found_and_how_to_get_the_right_ones() -> None:
    req = choose_major(config=CONFIG_17)
    message = missing_binaries_message(req, {15: "/usr/lib/postgresql/15/bin"})
    assert message.startswith("the project targets PostgreSQL 17 but the shadow is PostgreSQL 15")
    assert "no PostgreSQL 17 server binaries were found" in message
    assert "PostgreSQL 15 in /usr/lib/postgresql/15/bin" in message
    assert "scripts/pg-binaries.sh 17" in message
    assert "--allow-other-major" in message


def test_no_binaries_at_all_still_says_how_to_get_them() -> None:
    message = missing_binaries_message(choose_major(flag=17), {})
    assert "targets PostgreSQL 17" in message
    assert "no PostgreSQL server binaries were found here at all" in message
    assert "scripts/pg-binaries.sh 17" in message


def test_publication_catalogs_of_15_are_not_read_on_14() -> None:
    from migration_rollback.verify.snapshot import kinds_for

    def sql(version: int) -> str:
        return "\n".join(kind.select() + kind.select(scoped=True) for kind in kinds_for(version))

    for name in ("prattrs", "prqual", "pg_publication_namespace"):
        assert name not in sql(140013), name
        assert name in sql(150010), name
        assert name in sql(170004), name
    assert [k.label for k in kinds_for(140013)] == [k.label for k in kinds_for(170004)]
