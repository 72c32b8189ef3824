"""Read the configuration: embedded defaults, overridden by the YAML file that
``HYPERPOD_EKS_CONFIG`` names. Every problem is collected and reported with its key path."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .patterns import hint
from .platform import PlatformConfig

CONFIG_ENV_VAR = "HYPERPOD_EKS_CONFIG"


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` says why, one entry per problem."""

    def __init__(self, problems: list[ConfigProblem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
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


def read_yaml(path: Path) -> dict[str, Any]:
    where = f"{CONFIG_ENV_VAR}={path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem("", f"{where}: no such file; point it at a YAML file")]) from None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ConfigError([ConfigProblem("", f"{where}: cannot read the file ({reason})")]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = getattr(err, "problem", None) or str(err)
        raise ConfigError([ConfigProblem("", f"{where}: invalid YAML{at}: {detail}")]) from None
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
    try:
        return PlatformConfig.model_validate(data, context={"today": today})
    except ValidationError as err:
        raise ConfigError([_problem(e, data) for e in err.errors()]) from None


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
    return ConfigProblem(path, f"{message} (got {value!r})")


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
