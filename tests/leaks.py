"""How the tests look for a secret in an output: any 4-character piece of it.

A piece may also occur in the output for reasons of its own ("tgre" in "postgresql"), so a check
compares with the same output produced for a neutral secret of the same length: a piece counts
as leaked only when the real run shows it and the neutral run does not.
"""

from __future__ import annotations

PIECE = 4


def pieces(secret: str, size: int = PIECE) -> set[str]:
    return {secret[i : i + size] for i in range(max(len(secret) - size + 1, 0))}


def leaked(secret: str, text: str, baseline: str = "") -> set[str]:
    """The pieces of `secret` in `text` that the `baseline` output does not hold anyway."""
    return {piece for piece in pieces(secret) if piece in text and piece not in baseline}


def neutral(secret: str) -> str:
    """A stand-in of the same length that shares no piece with ordinary text."""
    return ("Qz" * len(secret))[: len(secret)]
