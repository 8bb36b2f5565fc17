"""docs/reference.md is exactly what scripts/crd_reference.py makes of the CRD in crds/."""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "crd_reference.py"
CRD = REPO / "crds" / "rollback.migrations.dev_migrationrollbacks.yaml"
REFERENCE = REPO / "docs" / "reference.md"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crd_reference", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gen = load_script()


def crd() -> dict[str, Any]:
    doc = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def schema_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    return doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


def leaves(node: Mapping[str, Any], path: str) -> Iterator[str]:
    """Leaf field paths, walked here independently of the generator's own walk."""
    if node.get("type") == "array" and isinstance(node.get("items"), Mapping):
        items = node["items"]
        if items.get("properties"):
            for name, child in items["properties"].items():
                yield from leaves(child, f"{path}[].{name}")
            return
        yield path
        return
    if node.get("properties"):
        for name, child in node["properties"].items():
            yield from leaves(child, f"{path}.{name}")
        return
    yield path


def test_the_committed_reference_is_what_the_crd_gives() -> None:
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert committed == gen.render(gen.load_crd(CRD)), (
        "docs/reference.md is stale: it no longer matches "
        "crds/rollback.migrations.dev_migrationrollbacks.yaml. Regenerate it with "
        "`python scripts/crd_reference.py` (from the repository root) and commit the result."
    )


@pytest.mark.parametrize("top", ["spec", "status"])
def test_every_leaf_field_of_the_crd_is_in_the_reference(top: str) -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    paths = list(leaves(schema_of(crd())["properties"][top], top))
    assert len(paths) > 10
    missing = [p for p in paths if f"| `{p}` |" not in text]
    assert not missing, f"not documented in docs/reference.md: {missing}"


def test_the_generator_finds_the_same_leaves_as_an_independent_walk() -> None:
    spec = schema_of(crd())["properties"]["spec"]
    assert gen.leaf_paths(spec, "spec") == list(leaves(spec, "spec"))
    assert "spec.maintenance.http.url" in gen.leaf_paths(spec, "spec")
    assert "spec.workloads[].selector.matchLabels" in gen.leaf_paths(spec, "spec")


def test_every_rule_message_printer_column_and_short_name_is_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    doc = crd()
    version = doc["spec"]["versions"][0]
    messages = [r.message for r in gen.rules(schema_of(doc), "")]
    assert len(messages) >= 5
    assert "spec is immutable once the rollback has started; create a new resource" in messages
    for message in messages:
        assert f"| {message} |" in text
    for column in version["additionalPrinterColumns"]:
        assert f"| {column['name']} | {column['type']} |" in text
    for short in doc["spec"]["names"]["shortNames"]:
        assert f"`kubectl get {short}`" in text
    assert "with `-o wide` (priority 1)" in text


def test_defaults_enums_and_limits_are_rendered() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    assert "| `spec.onFailure` | `string` |  | `restore` | one of `restore`, `hold` |" in text
    assert "| `spec.maintenance.http.timeoutSeconds` | `integer` |  | `5` | 1 to 60 |" in text
    assert "pattern `^0*[1-9][0-9]*(s\\|m\\|h)$`" in text  # a pipe inside a table cell is escaped
    assert "| `spec.database.urlSecretRef.name` | `string` | yes |" in text


def test_a_changed_crd_gives_a_different_document() -> None:
    original = crd()
    changed = copy.deepcopy(original)
    spec = schema_of(changed)["properties"]["spec"]
    spec["properties"]["onFailure"]["enum"].append("page")
    spec["properties"]["job"]["properties"]["priorityClassName"] = {
        "type": "string",
        "description": "A new field.",
    }
    before, after = gen.render(original), gen.render(changed)
    assert before != after
    assert "`spec.job.priorityClassName`" in after
    assert "`spec.job.priorityClassName`" not in before
    assert "one of `restore`, `hold`, `page`" in after


def test_check_fails_on_a_stale_file_and_passes_on_a_fresh_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "reference.md"
    output.write_text("# an old reference\n", encoding="utf-8")
    assert gen.main(["--check", "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert "is stale" in err
    assert "python scripts/crd_reference.py" in err
    assert output.read_text(encoding="utf-8") == "# an old reference\n"  # --check never writes
    assert gen.main(["--output", str(output)]) == 0
    assert gen.main(["--check", "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == REFERENCE.read_text(encoding="utf-8")


def test_check_notices_a_crd_change(tmp_path: Path) -> None:
    changed = crd()
    schema_of(changed)["properties"]["spec"]["properties"]["purge"]["description"] = "Changed."
    crd_copy = tmp_path / "crd.yaml"
    crd_copy.write_text(yaml.safe_dump(changed), encoding="utf-8")
    output = tmp_path / "reference.md"
    assert gen.main(["--crd", str(crd_copy), "--output", str(output)]) == 0
    assert gen.main(["--crd", str(crd_copy), "--check", "--output", str(output)]) == 0
    assert gen.main(["--check", "--output", str(output)]) == 1  # the real CRD says otherwise
