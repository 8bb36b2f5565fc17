"""Generate docs/reference.md, the MigrationRollback resource reference, from the CRD.

The CRD in crds/ is the single source of the resource; this script turns its openAPIV3Schema
into a Markdown reference (every field path with its type, whether it is required, its
default, allowed values, limits and description), plus the CEL validation rules with their
messages, the printer columns and the names. A test keeps the committed file equal to what
this script writes, so the reference cannot drift from the CRD.

    python scripts/crd_reference.py           # rewrite docs/reference.md
    python scripts/crd_reference.py --check   # exit 1 if docs/reference.md is stale
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
CRD_PATH = REPO / "crds" / "rollback.migrations.dev_migrationrollbacks.yaml"
OUTPUT_PATH = REPO / "docs" / "reference.md"
REGENERATE = "python scripts/crd_reference.py"

Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Field:
    """One node of the schema, named by its path from the resource root."""

    path: str
    schema: Schema
    required: bool

    @property
    def leaf(self) -> bool:
        return is_leaf(self.schema)


@dataclass(frozen=True, slots=True)
class Rule:
    """An x-kubernetes-validations entry and where it applies."""

    path: str
    rule: str
    message: str


def load_crd(path: Path = CRD_PATH) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
        raise ValueError(f"{path} is not a CustomResourceDefinition")
    return doc


def is_leaf(schema: Schema) -> bool:
    """No named children: a scalar, a map, a free-form object, or an array of those."""
    if schema.get("properties"):
        return False
    items = schema.get("items")
    return not (isinstance(items, Mapping) and items.get("properties"))


def walk(schema: Schema, prefix: str) -> Iterator[Field]:
    """Every named field under `schema`, depth first, in the CRD's own order.

    Children of an array's items are named `parent[].child`.
    """
    container = schema
    base = prefix
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, Mapping):
        container = items
        base = f"{prefix}[]"
    required = set(container.get("required") or ())
    for name, child in (container.get("properties") or {}).items():
        path = f"{base}.{name}" if base else str(name)
        yield Field(path=path, schema=child, required=name in required)
        yield from walk(child, path)


def leaf_paths(schema: Schema, prefix: str) -> list[str]:
    return [f.path for f in walk(schema, prefix) if f.leaf]


def rules(schema: Schema, path: str) -> Iterator[Rule]:
    """Every CEL rule, with the path of the node it is attached to (array items: `[]`)."""
    for entry in schema.get("x-kubernetes-validations") or ():
        yield Rule(path=path, rule=_one_line(entry["rule"]), message=str(entry.get("message", "")))
    items = schema.get("items")
    if isinstance(items, Mapping):
        yield from rules(items, f"{path}[]")
    for name, child in (schema.get("properties") or {}).items():
        yield from rules(child, f"{path}.{name}" if path else str(name))


# --- rendering ---------------------------------------------------------------------------


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _cell(text: str) -> str:
    """Table-safe text: one line, pipes escaped (also inside code spans, as GFM requires)."""
    return _one_line(text).replace("|", "\\|")


def _code(text: object) -> str:
    value = str(text)
    fence = "``" if "`" in value else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def type_name(schema: Schema) -> str:
    kind = str(schema.get("type", "any"))
    free = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    additional = schema.get("additionalProperties")
    if kind == "array":
        items = schema.get("items")
        inner = type_name(items) if isinstance(items, Mapping) else "any"
        return f"[]{inner}"
    if kind == "object" and isinstance(additional, Mapping):
        return f"map[string]{type_name(additional)}"
    if kind == "object" and free and not schema.get("properties"):
        return "object (free-form)"
    if kind == "string" and schema.get("format"):
        return f"string ({schema['format']})"
    return kind


def default_text(schema: Schema) -> str:
    if "default" not in schema:
        return ""
    value = schema["default"]
    return _code(value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def limits_text(schema: Schema) -> str:
    parts: list[str] = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(_code(v) for v in schema["enum"]))
    if "pattern" in schema:
        parts.append("pattern " + _code(schema["pattern"]))
    if "minLength" in schema:
        parts.append(f"at least {schema['minLength']} characters")
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']} characters")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        parts.append(f"{low} to {high}")
    elif low is not None:
        parts.append(f"at least {low}")
    elif high is not None:
        parts.append(f"at most {high}")
    if "minItems" in schema:
        parts.append(f"at least {schema['minItems']} items")
    if "maxItems" in schema:
        parts.append(f"at most {schema['maxItems']} items")
    if schema.get("x-kubernetes-list-type") == "map":
        keys = ", ".join(_code(k) for k in schema.get("x-kubernetes-list-map-keys") or ())
        parts.append(f"list keyed by {keys}")
    items = schema.get("items")
    if isinstance(items, Mapping) and items.get("x-kubernetes-preserve-unknown-fields"):
        parts.append("items keep unknown fields")
    return "; ".join(parts)


def field_table(schema: Schema, prefix: str) -> list[str]:
    lines = [
        "| Field | Type | Required | Default | Allowed values and limits | Description |",
        "|---|---|---|---|---|---|",
    ]
    for field in walk(schema, prefix):
        s = field.schema
        lines.append(
            "| "
            + " | ".join(
                [
                    _cell(_code(field.path)),
                    _cell(_code(type_name(s))),
                    "yes" if field.required else "",
                    _cell(default_text(s)),
                    _cell(limits_text(s)),
                    _cell(str(s.get("description", ""))),
                ]
            )
            + " |"
        )
    return lines


def _names_section(crd: Mapping[str, Any]) -> list[str]:
    spec = crd["spec"]
    names = spec["names"]
    versions = spec["versions"]
    served = ", ".join(
        f"{_code(v['name'])} ({', '.join(k for k in ('served', 'storage') if v.get(k))})"
        for v in versions
    )
    subresources = sorted({k for v in versions for k in (v.get("subresources") or {})})
    short = names.get("shortNames") or []
    categories = names.get("categories") or []
    rows = [
        ("API group", _code(spec["group"])),
        ("Kind", f"{_code(names['kind'])} (list: {_code(names.get('listKind', ''))})"),
        ("Plural, singular", f"{_code(names['plural'])}, {_code(names.get('singular', ''))}"),
        ("Short names", ", ".join(_code(s) for s in short) or "none"),
        ("Categories", ", ".join(_code(c) for c in categories) or "none"),
        ("Scope", str(spec.get("scope", ""))),
        ("Versions", served),
        ("Subresources", ", ".join(_code(s) for s in subresources) or "none"),
        ("CRD name", _code(crd["metadata"]["name"])),
    ]
    lines = ["## Names", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    lines.append("")
    if short or categories:
        listing = [f"`kubectl get {names['plural']}`"]
        listing += [f"`kubectl get {s}`" for s in short]
        listing += [f"`kubectl get {c}` (with other kinds of the category)" for c in categories]
        lines += ["List them with " + ", ".join(listing) + ".", ""]
    return lines


def _columns_section(version: Mapping[str, Any]) -> list[str]:
    columns = version.get("additionalPrinterColumns") or []
    lines = [
        f"## Printer columns ({version['name']})",
        "",
        "What `kubectl get` shows. Columns with a priority above 0 appear only with `-o wide`.",
        "",
        "| Column | Type | JSONPath | Shown |",
        "|---|---|---|---|",
    ]
    for column in columns:
        priority = int(column.get("priority", 0))
        shown = "always" if priority == 0 else f"with `-o wide` (priority {priority})"
        lines.append(
            f"| {_cell(column['name'])} | {_cell(column['type'])} | "
            f"{_cell(_code(column['jsonPath']))} | {shown} |"
        )
    lines.append("")
    return lines


def _rules_section(schema: Schema, kind: str, version: str) -> list[str]:
    lines = [
        f"## Validation rules ({version})",
        "",
        "CEL rules the API server checks on every create and update; a request that breaks one "
        "is refused with the message shown. Rules that use `oldSelf` compare an update with "
        "the stored object.",
        "",
        "| Applies to | Rule | Message |",
        "|---|---|---|",
    ]
    for rule in rules(schema, ""):
        where = _code(rule.path) if rule.path else f"the whole {kind}"
        lines.append(f"| {_cell(where)} | {_cell(_code(rule.rule))} | {_cell(rule.message)} |")
    lines.append("")
    return lines


def render(crd: Mapping[str, Any], source: str = "crds/" + CRD_PATH.name) -> str:
    kind = str(crd["spec"]["names"]["kind"])
    group = str(crd["spec"]["group"])
    lines = [
        f"# {kind} reference",
        "",
        f"<!-- Generated by scripts/crd_reference.py from {source}. Do not edit by hand: "
        f"change the CRD, then run `{REGENERATE}`. -->",
        "",
        f"The `{kind}` resource ({_code(group)}) as its CRD defines it, field by field. "
        "The CRD in `crds/` is the single source; this page is generated from it. For what "
        "to do with the resource, see [the runbook](runbook.md) and "
        "[the GitOps guide](gitops.md).",
        "",
        "In the tables, a field is *required* when its parent object is present; a child of an "
        "array element is written `parent[].child`; defaults are filled in by the API server.",
        "",
    ]
    lines += _names_section(crd)
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        name = str(version["name"])
        if schema.get("description"):
            lines += [f"## {kind} ({name})", "", _one_line(schema["description"]), ""]
        lines += _columns_section(version)
        lines += _rules_section(schema, kind, name)
        for top in ("spec", "status"):
            node = (schema.get("properties") or {}).get(top)
            if not isinstance(node, Mapping):
                continue
            required = top in (schema.get("required") or ())
            lines += [f"## {top} ({name})", ""]
            intro = _one_line(node.get("description", ""))
            if top == "status":
                intro = (intro + " " if intro else "") + (
                    "Written by the operator through the status subresource; never set it in "
                    "a manifest."
                )
            elif required:
                intro = (intro + " " if intro else "") + "Required."
            if intro:
                lines += [intro, ""]
            lines += field_table(node, top)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- command line ------------------------------------------------------------------------


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the output file differs from what the CRD gives",
    )
    parser.add_argument("--crd", type=Path, default=CRD_PATH, help="the CRD YAML to read")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH, help="the Markdown to write")
    args = parser.parse_args(argv)
    crd_path: Path = args.crd
    output: Path = args.output
    text = render(load_crd(crd_path), _relative(crd_path))
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current == text:
            print(f"{_relative(output)} is up to date with {_relative(crd_path)}")
            return 0
        diff = list(
            difflib.unified_diff(
                current.splitlines(),
                text.splitlines(),
                fromfile=f"{_relative(output)} (committed)",
                tofile="generated from the CRD",
                lineterm="",
                n=1,
            )
        )
        shown = "\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else "")
        print(
            f"{_relative(output)} is stale: it does not match {_relative(crd_path)}.\n"
            f"Regenerate it with `{REGENERATE}` and commit the result.\n{shown}",
            file=sys.stderr,
        )
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {_relative(output)} from {_relative(crd_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
