"""Read the configuration: embedded defaults, overridden by the YAML file that
``HYPERPOD_EKS_CONFIG`` names. Every problem is collected and reported with its key path.

The file is read defensively, since a configuration file is input like any other: a
regular file only (a named pipe would block, ``/dev/zero`` never ends), at most
``MAX_FILE_BYTES``, YAML without anchors and aliases (a few hundred bytes of aliases
expand into gigabytes), keys that are scalars, nesting at most ``MAX_DEPTH`` deep. Every
refusal is a ``ConfigError``: one line per problem, values shortened, at most
``MAX_PROBLEMS`` lines.
"""

from __future__ import annotations

import datetime as _dt
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .patterns import hint
from .platform import PlatformConfig

CONFIG_ENV_VAR = "HYPERPOD_EKS_CONFIG"
# A platform configuration is a few KB; this leaves room for long instance-group lists.
MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 24
MAX_PROBLEMS = 20
MAX_VALUE_CHARS = 80


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` says why, one entry per problem
    (at most ``MAX_PROBLEMS``, the rest counted in a last line)."""

    def __init__(self, problems: list[ConfigProblem]):
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS + 1
            problems = [*problems[: MAX_PROBLEMS - 1], ConfigProblem("", f"... and {more} more problem(s)")]
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def shortened(value: Any) -> str:
    """``repr`` of a value, cut to ``MAX_VALUE_CHARS`` for messages."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else f"{text[: MAX_VALUE_CHARS - 15]}... ({len(text)} chars)"


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses what a configuration file never needs and an attacker
    could use: duplicate keys (the last one would win silently), keys that are not
    scalars, anchors and aliases, and deep nesting."""

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 - PyYAML's protocol
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted: write the values out", event.start_mark
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "YAML anchors (&name) are not accepted: write the values out", event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain name, not a list or mapping", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shortened(key)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(
    environ: dict[str, str] | None = None, today: _dt.date | None = None
) -> PlatformConfig:
    """The validated configuration; raises ``ConfigError`` listing every problem."""
    environ = os.environ if environ is None else environ
    path = environ.get(CONFIG_ENV_VAR, "").strip()
    data = read_yaml(Path(path)) if path else {}
    return parse_config(data, today=today, source=path or "defaults")


def read_text(path: Path) -> str:
    """The file's text: a regular file of at most ``MAX_FILE_BYTES``, UTF-8."""
    where = f"{CONFIG_ENV_VAR}={path}"
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise ConfigError([ConfigProblem("", f"{where}: not a regular file; point it at a YAML file")])
        if status.st_size > MAX_FILE_BYTES:
            raise ConfigError(
                [ConfigProblem("", f"{where}: {status.st_size} bytes, more than the {MAX_FILE_BYTES} a configuration may have")]
            )
        # O_NONBLOCK: if the path became a pipe after the check, opening it does not hang.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ConfigError([ConfigProblem("", f"{where}: more than {MAX_FILE_BYTES} bytes")])
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem("", f"{where}: no such file; point it at a YAML file")]) from None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ConfigError([ConfigProblem("", f"{where}: cannot read the file ({shortened(reason)[1:-1]})")]) from None


def read_yaml(path: Path) -> dict[str, Any]:
    where = f"{CONFIG_ENV_VAR}={path}"
    text = read_text(path)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise ConfigError([ConfigProblem("", f"{where}: nested too deeply")]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = getattr(err, "problem", None) or str(err)
        raise ConfigError([ConfigProblem("", f"{where}: invalid YAML{at}: {shortened(detail)[1:-1]}")]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigProblem("", f"{where}: the top level must be a mapping of keys, got {type(data).__name__}")]
        )
    return data


def parse_config(
    data: dict[str, Any], today: _dt.date | None = None, source: str = "defaults"
) -> PlatformConfig:
    padded = list(_padded_strings(data, ()))
    try:
        config = PlatformConfig.model_validate(data, context={"today": today})
    except ValidationError as err:
        raise ConfigError([*padded, *(_problem(e, data) for e in err.errors())]) from None
    except RecursionError:
        raise ConfigError([ConfigProblem("", "nested too deeply")]) from None
    if padded:
        raise ConfigError(padded)
    return config


def _padded_strings(value: Any, loc: tuple) -> Any:
    """Problems for every key or value that starts or ends with whitespace (a YAML ``|``
    block ends with a newline): nothing in the configuration means that, and Helm, the
    Kubernetes API and IAM refuse such names at apply."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key != key.strip():
                yield ConfigProblem(_dotted(loc) or "(top level)", f"the key {shortened(key)} has leading or trailing whitespace")
            yield from _padded_strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _padded_strings(item, (*loc, index))
    elif isinstance(value, str) and value != value.strip():
        yield ConfigProblem(_dotted(loc), f"has leading or trailing whitespace or a newline; remove it (got {shortened(value)})")


def _problem(error: dict[str, Any], data: dict[str, Any]) -> ConfigProblem:
    loc = error["loc"]
    path = _dotted(loc)
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(_section_fields(loc[:-1])))
        return ConfigProblem(path, f"unknown key; allowed here: {allowed}")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return ConfigProblem(path, "is required")
    if error["type"] == "string_pattern_mismatch":
        described = hint(error["ctx"]["pattern"])
        message = f"must be {described}" if described else f"must match {error['ctx']['pattern']}"
    value = error.get("input")
    if isinstance(value, (dict, list)) and error["type"].startswith("value_error"):
        return ConfigProblem(path, message)
    return ConfigProblem(path, f"{message} (got {shortened(value)})")


def _dotted(loc: tuple) -> str:
    """``hyperpod.instance_groups[0].labels``; a map key pydantic refuses is shown quoted,
    as ``labels['bad key'] (the key)``."""
    text = ""
    for index, part in enumerate(loc):
        if part == "[key]":
            text += " (the key)"
        elif isinstance(part, int):
            text += f"[{part}]"
        elif index + 1 < len(loc) and loc[index + 1] == "[key]":
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _section_fields(loc: tuple) -> list[str]:
    """Keys allowed at ``loc``: walk the model along the path to the section it names."""
    model: type[BaseModel] = PlatformConfig
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = _model_in(annotation)
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None
