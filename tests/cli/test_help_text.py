"""`--help` reads as prose: a docstring's wrapped source lines never show as broken fragments.

Every command's help is rendered at a fixed width (COLUMNS=100). In the description and the
epilog, a paragraph may only break where the next word would not fit; each source paragraph
appears whole (whitespace aside); option help has no hard line break left.
"""

from __future__ import annotations

import inspect
import itertools
import re

import pytest
import typer
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.cli.app import prose

WIDTH = 100
USABLE = WIDTH - 2  # rich pads the help text by one column on each side
GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)  # type: ignore[attr-defined]
BOX = re.compile(r"[│╭╮╰╯─]")


def render(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    return result.output


def flat(text: str) -> str:
    return " ".join(BOX.sub(" ", text).split())


def prose_blocks(output: str) -> list[list[str]]:
    """Runs of text lines outside the option panels (the description and the epilog)."""
    blocks: list[list[str]] = [[]]
    in_panel = False
    for line in output.splitlines():
        if line.startswith("╭"):
            in_panel = True
        if not in_panel and line.strip() and not line.lstrip().startswith("Usage:"):
            blocks[-1].append(line.rstrip())
        else:
            blocks.append([])
        if line.startswith("╰"):
            in_panel = False
    return [b for b in blocks if b]


def source_paragraphs(name: str | None) -> list[str]:
    command = GROUP if name is None else GROUP.commands[name]  # type: ignore[attr-defined]
    callback = command.callback
    doc = (callback.__doc__ if callback else None) or command.help or ""
    texts = [inspect.cleandoc(doc), command.epilog or ""]
    return [p for text in texts for p in re.split(r"\n\s*\n", text) if p.strip()]


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_description_lines_break_only_where_the_width_is_reached(name: str | None) -> None:
    output = render(*([name] if name else []))
    for block in prose_blocks(output):
        for line, following in itertools.pairwise(block):
            if re.match(r"\s*\d+\s+[A-Z_]+:", following):
                continue  # the next exit code starts its own line on purpose
            next_word = following.split()[0]
            used = len(line.rstrip()) - 1  # the text, with its indent, after the pad
            assert used + 1 + len(next_word) > USABLE, (
                f"hard line break in `{name} --help`:\n{line}\n{following}"
            )


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_every_source_paragraph_is_rendered_whole(name: str | None) -> None:
    rendered = flat(render(*([name] if name else [])))
    for paragraph in source_paragraphs(name):
        if name is None and paragraph.startswith("Generate"):
            continue  # the root shows the app's help, which says the same
        for item in (prose(paragraph) or "").split("\n"):
            assert flat(item) in rendered, f"`{name} --help` lost: {item}"


@pytest.mark.parametrize("name", COMMANDS)
def test_option_help_has_no_hard_line_break(name: str) -> None:
    render(name)
    for param in GROUP.commands[name].params:  # type: ignore[attr-defined]
        text = getattr(param, "help", None) or ""
        assert "\n" not in text, f"{name} {param.name}: {text!r}"


def test_prose_joins_wrapped_lines_and_keeps_paragraphs_and_items() -> None:
    source = """First line
        continues here.

        Second paragraph
        wraps too:
        - an item
          with more
        - another

          4  LOCK_TIMEOUT: a code
             wrapped"""
    assert prose(source) == (
        "First line continues here.\n\n"
        "Second paragraph wraps too:\n- an item with more\n- another\n\n"
        "  4  LOCK_TIMEOUT: a code wrapped"
    )
