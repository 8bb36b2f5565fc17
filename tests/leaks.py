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


# Characters that decide how a connection string parses (and so which message a run prints):
# kept in the stand-in, so the neutral run takes the same path ("a space in the URL" names
# MIGRATION_ROLLBACK_DATABASE_URL, whose "DATA" is no leak of a password "000 DATA").
HEX = frozenset("0123456789abcdefABCDEF")
SYNTAX = frozenset(" \t\n\r\f\v@:/?#[]%\\'\"=&+;,")


def neutral(secret: str) -> str:
    """A stand-in of the same length and syntax that shares no other piece with ordinary text
    (a percent escape's hex digits are syntax too: "%4" + filler would not decode)."""
    filler = "Qz" * len(secret)
    kept = {i for i, ch in enumerate(secret) if ch in SYNTAX}
    for i in [i for i in kept if secret[i] == "%"]:
        kept |= {j for j in (i + 1, i + 2) if j < len(secret) and secret[j] in HEX}
    return "".join(ch if i in kept else filler[i] for i, ch in enumerate(secret))
