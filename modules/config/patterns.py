"""Patterns of the configuration with the words that describe them, written once.

``described(regex, hint)`` is the constraint a field carries; its hint is what a refusal
says (``must be <hint>``), at synth (``loader``) and in the Terraform variables'
validation messages (``terraform``).
"""

from __future__ import annotations

from pydantic import StringConstraints

_HINTS: dict[str, str] = {}


def described(regex: str, hint: str, **lengths: int) -> StringConstraints:
    _describe(regex, hint)
    return StringConstraints(pattern=regex, **lengths)


def remember(regex: str, hint: str) -> None:
    """Describe a pattern that comes from elsewhere (a published schema)."""
    _describe(regex, hint)


def _describe(regex: str, hint: str) -> None:
    # One description per pattern: a second, different one would make the message depend
    # on import order. Give the pattern a name and import it instead.
    if _HINTS.get(regex, hint) != hint:
        raise ValueError(f"pattern {regex!r} is described twice: {_HINTS[regex]!r} and {hint!r}")
    _HINTS[regex] = hint


def hint(regex: str) -> str | None:
    return _HINTS.get(regex)
