"""The URL environment variables are named in one module: the CLI read, the Job set, the help
and the generated plans spelled them in five places, and a second spelling would let one side
read a variable the other never sets."""

from __future__ import annotations

from pathlib import Path

import migration_rollback
from migration_rollback.url_env import URL_ENVS

PACKAGE = Path(migration_rollback.__file__).parent


def test_each_url_variable_is_spelled_only_in_url_env() -> None:
    spelled = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name in path.read_text(encoding="utf-8") for name in URL_ENVS)
    }
    assert spelled == {"url_env.py"}
