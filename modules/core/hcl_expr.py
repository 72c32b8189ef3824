"""A small Terraform expression tree that renders HCL text and evaluates in Python.

Where a value becomes driven by a Terraform variable (the HyperPod instance groups, the
variables' validation rules), the expression is built once from these nodes: ``hcl()``
gives the text written into the Terraform JSON, ``evaluate()`` gives what Terraform computes
from the same text for given inputs. The Python rendering of a configuration and the
tests use ``evaluate``, so the Terraform expression and the Python literal come from one
definition and cannot drift apart.

Only the subset of the language the platform needs is covered; the evaluator follows
Terraform's semantics for it (conditionals evaluate one branch, ``&&`` and ``||`` need
booleans, ``regex`` searches anywhere unless anchored, ``can`` turns an error into false).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


class EvaluationError(ValueError):
    """Terraform would report an error evaluating the expression."""


@dataclass
class Env:
    variables: Mapping[str, Any] = field(default_factory=dict)
    symbols: dict[str, Any] = field(default_factory=dict)
    references: Mapping[str, Any] = field(default_factory=dict)
    """Value of each ``Ref`` by its HCL text (resource attributes known only at apply)."""
    now: _dt.datetime = field(default_factory=lambda: _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc))
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    """Overrides of built-in functions (e.g. one that returns a cdktf token)."""

    def bind(self, **symbols: Any) -> "Env":
        return Env(self.variables, {**self.symbols, **symbols}, self.references, self.now, self.functions)


class Expr:
    def hcl(self) -> str:
        raise NotImplementedError

    def evaluate(self, env: Env) -> Any:
        raise NotImplementedError

    # Operators read like the HCL they render.
    def attr(self, name: str) -> "Expr":
        return Attr(self, name)

    def __str__(self) -> str:
        return self.hcl()


def literal_hcl(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        # A literal never interpolates: Terraform reads "$${" and "%%{" as the characters.
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal_hcl(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {literal_hcl(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no HCL literal for {value!r}")


@dataclass(frozen=True)
class Lit(Expr):
    value: Any

    def hcl(self) -> str:
        return literal_hcl(self.value)

    def evaluate(self, env: Env) -> Any:
        return self.value


@dataclass(frozen=True)
class Var(Expr):
    name: str

    def hcl(self) -> str:
        return f"var.{self.name}"

    def evaluate(self, env: Env) -> Any:
        try:
            return env.variables[self.name]
        except KeyError:
            raise EvaluationError(f"undeclared variable {self.name}") from None


@dataclass(frozen=True)
class Sym(Expr):
    """A symbol bound by a ``for`` expression."""

    name: str

    def hcl(self) -> str:
        return self.name

    def evaluate(self, env: Env) -> Any:
        return env.symbols[self.name]


@dataclass(frozen=True)
class Ref(Expr):
    """A reference to something Terraform knows only at apply (a resource attribute)."""

    text: str

    def hcl(self) -> str:
        return self.text

    def evaluate(self, env: Env) -> Any:
        try:
            return env.references[self.text]
        except KeyError:
            raise EvaluationError(f"no value given for {self.text}") from None


@dataclass(frozen=True)
class Attr(Expr):
    target: Expr
    name: str

    def hcl(self) -> str:
        return f"{self.target.hcl()}.{self.name}"

    def evaluate(self, env: Env) -> Any:
        value = self.target.evaluate(env)
        if not isinstance(value, dict) or self.name not in value:
            raise EvaluationError(f"{self.hcl()}: no attribute {self.name}")
        return value[self.name]


@dataclass(frozen=True)
class Obj(Expr):
    items: tuple[tuple[str, Expr], ...]

    @staticmethod
    def of(**items: Expr) -> "Obj":
        return Obj(tuple(items.items()))

    def hcl(self) -> str:
        return "{" + ", ".join(f"{key} = {value.hcl()}" for key, value in self.items) + "}"

    def evaluate(self, env: Env) -> Any:
        return {key: value.evaluate(env) for key, value in self.items}


@dataclass(frozen=True)
class DynamicKeyObj(Expr):
    """``{(key) = value}``: one attribute whose name is computed."""

    key: Expr
    value: Expr

    def hcl(self) -> str:
        return f"{{({self.key.hcl()}) = {self.value.hcl()}}}"

    def evaluate(self, env: Env) -> Any:
        return {self.key.evaluate(env): self.value.evaluate(env)}


@dataclass(frozen=True)
class ListOf(Expr):
    items: tuple[Expr, ...]

    def hcl(self) -> str:
        return "[" + ", ".join(item.hcl() for item in self.items) + "]"

    def evaluate(self, env: Env) -> Any:
        return [item.evaluate(env) for item in self.items]


@dataclass(frozen=True)
class Template(Expr):
    """A string template: literal text and interpolated expressions."""

    parts: tuple[str | Expr, ...]

    def hcl(self) -> str:
        text = "".join(
            "${" + part.hcl() + "}" if isinstance(part, Expr) else literal_hcl(part)[1:-1] for part in self.parts
        )
        return f'"{text}"'

    def evaluate(self, env: Env) -> Any:
        return "".join(str(part.evaluate(env)) if isinstance(part, Expr) else part for part in self.parts)


@dataclass(frozen=True)
class ForList(Expr):
    """``[for item in collection : body if condition]``."""

    item: str
    collection: Expr
    body: Expr
    condition: Expr | None = None

    def hcl(self) -> str:
        condition = f" if {self.condition.hcl()}" if self.condition else ""
        return f"[for {self.item} in {self.collection.hcl()} : {self.body.hcl()}{condition}]"

    def evaluate(self, env: Env) -> Any:
        out = []
        for value in _iterate(self.collection.evaluate(env)):
            inner = env.bind(**{self.item: value[1]})
            if self.condition is None or _boolean(self.condition.evaluate(inner), self.condition):
                out.append(self.body.evaluate(inner))
        return out


@dataclass(frozen=True)
class ForPairs(Expr):
    """``[for key, value in collection : body]`` over a map (or a list's index and item)."""

    key: str
    value: str
    collection: Expr
    body: Expr

    def hcl(self) -> str:
        return f"[for {self.key}, {self.value} in {self.collection.hcl()} : {self.body.hcl()}]"

    def evaluate(self, env: Env) -> Any:
        return [
            self.body.evaluate(env.bind(**{self.key: k, self.value: v}))
            for k, v in _iterate(self.collection.evaluate(env))
        ]


@dataclass(frozen=True)
class OmitUnless(Expr):
    """``{for k, v in {Key = value} : k => v if condition(v)}``: an object holding ``Key``
    only when the condition holds, for ``merge`` (Terraform's conditional cannot choose
    between objects of different attributes)."""

    key: str
    value: Expr
    keep: Callable[[Expr], Expr]
    """The condition on the value, built from the symbol bound to it."""
    shape: Callable[[Expr], Expr] = lambda v: v
    """What the kept value becomes (the value itself by default)."""

    def _parts(self) -> tuple[Sym, Expr, Expr]:
        symbol = Sym(f"{self.key[0].lower()}{self.key[1:]}")
        return symbol, self.keep(symbol), self.shape(symbol)

    def hcl(self) -> str:
        symbol, keep, shape = self._parts()
        return f"{{for k, {symbol.name} in {{{self.key} = {self.value.hcl()}}} : k => {shape.hcl()} if {keep.hcl()}}}"

    def evaluate(self, env: Env) -> Any:
        symbol, keep, shape = self._parts()
        inner = env.bind(**{symbol.name: self.value.evaluate(env)})
        return {self.key: shape.evaluate(inner)} if _boolean(keep.evaluate(inner), keep) else {}


@dataclass(frozen=True)
class Cond(Expr):
    condition: Expr
    if_true: Expr
    if_false: Expr

    def hcl(self) -> str:
        return f"({self.condition.hcl()} ? {self.if_true.hcl()} : {self.if_false.hcl()})"

    def evaluate(self, env: Env) -> Any:
        chosen = self.if_true if _boolean(self.condition.evaluate(env), self.condition) else self.if_false
        return chosen.evaluate(env)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


@dataclass(frozen=True)
class Op(Expr):
    operator: str
    left: Expr
    right: Expr

    def hcl(self) -> str:
        return f"({self.left.hcl()} {self.operator} {self.right.hcl()})"

    def evaluate(self, env: Env) -> Any:
        left, right = self.left.evaluate(env), self.right.evaluate(env)
        if self.operator in ("&&", "||"):
            # Terraform evaluates both operands and needs booleans on both sides.
            left, right = _boolean(left, self.left), _boolean(right, self.right)
            return (left and right) if self.operator == "&&" else (left or right)
        if self.operator in ("==", "!="):
            return _COMPARISONS[self.operator](left, right)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)):
            raise EvaluationError(f"{self.hcl()}: {self.operator} needs numbers, got {left!r} and {right!r}")
        return _COMPARISONS[self.operator](left, right)


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr

    def hcl(self) -> str:
        return f"!{self.operand.hcl()}"

    def evaluate(self, env: Env) -> Any:
        return not _boolean(self.operand.evaluate(env), self.operand)


def _timecmp(a: str, b: str) -> int:
    left, right = (_dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (a, b))
    return (left > right) - (left < right)


def _regex(pattern: str, text: Any) -> str:
    if not isinstance(text, str):
        raise EvaluationError(f"regex needs a string, got {text!r}")
    match = re.search(pattern, text)
    if match is None:
        raise EvaluationError(f"pattern {pattern!r} does not match {text!r}")
    return match.group(0)


def _merge(*objects: Any) -> dict:
    merged: dict = {}
    for item in objects:
        merged.update(item)
    return merged


def _matchkeys(values: list, keys: list, search: list) -> list:
    return [value for value, key in zip(values, keys) if key in search]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "alltrue": lambda items: all(_boolean(item, None) for item in items),
    "anytrue": lambda items: any(_boolean(item, None) for item in items),
    "contains": lambda items, value: value in items,
    "distinct": lambda items: list(dict.fromkeys(items)),
    "length": len,
    "lookup": lambda mapping, key: mapping[key],
    "matchkeys": _matchkeys,
    "merge": _merge,
    "regex": _regex,
    "startswith": lambda text, prefix: text.startswith(prefix),
    "timecmp": _timecmp,
}


@dataclass(frozen=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]

    def hcl(self) -> str:
        return f"{self.name}({', '.join(arg.hcl() for arg in self.args)})"

    def evaluate(self, env: Env) -> Any:
        if self.name == "can":
            try:
                self.args[0].evaluate(env)
            except EvaluationError:
                return False
            return True
        if self.name == "plantimestamp":
            return env.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        values = [arg.evaluate(env) for arg in self.args]
        function = env.functions.get(self.name) or FUNCTIONS[self.name]
        try:
            return function(*values)
        except (KeyError, TypeError) as err:
            raise EvaluationError(f"{self.hcl()}: {err}") from None


def call(name: str, *args: Expr) -> Call:
    return Call(name, tuple(args))


def all_of(*conditions: Expr) -> Expr:
    result = conditions[0]
    for condition in conditions[1:]:
        result = Op("&&", result, condition)
    return result


def matches(pattern: str, value: Expr) -> Expr:
    """``can(regex(pattern, value))``: the value is a string the pattern matches."""
    return call("can", call("regex", Lit(pattern), value))


def one_of(allowed: list | tuple, value: Expr) -> Expr:
    return call("contains", Lit(list(allowed)), value)


def every(item: str, collection: Expr, condition: Callable[[Sym], Expr]) -> Expr:
    """``alltrue([for item in collection : condition])``."""
    return call("alltrue", ForList(item, collection, condition(Sym(item))))


def null_or(value: Expr, condition: Expr) -> Expr:
    """True when the value is null, else the condition (evaluated only then)."""
    return Cond(Op("==", value, Lit(None)), Lit(True), condition)


def _iterate(collection: Any) -> list[tuple[Any, Any]]:
    if isinstance(collection, dict):
        return sorted(collection.items())
    if isinstance(collection, list):
        return list(enumerate(collection))
    raise EvaluationError(f"cannot iterate over {collection!r}")


def _boolean(value: Any, expr: Expr | None) -> bool:
    if not isinstance(value, bool):
        where = f" ({expr.hcl()})" if expr is not None else ""
        raise EvaluationError(f"a boolean is required{where}, got {value!r}")
    return value
