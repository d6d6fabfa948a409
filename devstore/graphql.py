"""Just enough GraphQL to answer the Admin API like Shopify: parse, pick fields, price the query.

No schema and no GraphQL server library: resolvers return plain dicts (a value may be a callable
taking the field's arguments), and the response keeps only what the query selected, so an app that
reads a field it never asked for fails here as it would against Shopify.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_TOKENS = re.compile(r'''
    (?P<ignored>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\:=@\[\]{|}])
  | (?P<block>"""(?:\\"""|(?!""").)*""")
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
''', re.VERBOSE | re.DOTALL)


class GraphQLError(Exception):
    """An error GraphQL reports in `errors` (syntax, unknown field, bad argument)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 path: list[str] | None = None, extensions: dict[str, Any] | None = None):
        """Keep the message and where it points to."""
        super().__init__(message)
        self.message = message
        self.line, self.column = line, column
        self.path = path
        self.extensions = extensions

    def as_dict(self) -> dict[str, Any]:
        """The error as Shopify puts it in the response's `errors` list."""
        out: dict[str, Any] = {"message": self.message}
        if self.line is not None:
            out["locations"] = [{"line": self.line, "column": self.column}]
        if self.path is not None:
            out["path"] = self.path
        if self.extensions is not None:
            out["extensions"] = self.extensions
        return out


@dataclass(frozen=True)
class Variable:
    """A `$name` reference inside an argument value."""

    name: str


@dataclass
class Field:
    """A selected field: `alias: name(args) @directives { selections }`."""

    name: str
    alias: str | None
    args: dict[str, Any]
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any] | None
    line: int
    column: int

    @property
    def key(self) -> str:
        """The key the field's value has in the response."""
        return self.alias or self.name


@dataclass
class FragmentSpread:
    """`...Name`"""

    name: str
    directives: list[tuple[str, dict[str, Any]]]


@dataclass
class InlineFragment:
    """`... on Type { selections }`"""

    type_condition: str | None
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any]


@dataclass
class Operation:
    """One query or mutation of a document."""

    kind: str
    name: str | None
    variable_defaults: dict[str, Any]
    selections: list[Any]


@dataclass
class Document:
    """A parsed request: its operations and named fragments."""

    operations: list[Operation]
    fragments: dict[str, InlineFragment] = field(default_factory=dict)

    def operation(self, name: str | None) -> Operation:
        """The operation to run: the named one, or the only one."""
        if name:
            for op in self.operations:
                if op.name == name:
                    return op
            raise GraphQLError(f"No operation named \"{name}\"")
        if len(self.operations) != 1:
            raise GraphQLError("An operation name is required")
        return self.operations[0]


class _Parser:
    """Recursive descent over the token list."""

    def __init__(self, text: str):
        """Tokenize the whole document up front."""
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            match = _TOKENS.match(text, pos)
            if match is None:
                line, col = self._where(pos)
                raise GraphQLError(f"Parse error on \"{text[pos]}\" ({line}:{col})",
                                   line=line, column=col)
            kind = match.lastgroup or ""
            if kind != "ignored":
                self.tokens.append((kind, match.group(), pos))
            pos = match.end()
        self.i = 0

    def _where(self, pos: int) -> tuple[int, int]:
        """Line and column (1-based) of an offset in the document."""
        line = self.text.count("\n", 0, pos) + 1
        return line, pos - (self.text.rfind("\n", 0, pos) + 1) + 1

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        """Whether the next token is this punctuator/name (or of this kind)."""
        if self.i >= len(self.tokens):
            return False
        tkind, tval, _ = self.tokens[self.i]
        return (value is None or tval == value) and (kind is None or tkind == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str, int]:
        """Consume the next token, which must match."""
        if not self.peek(value, kind):
            if self.i >= len(self.tokens):
                line, col = self._where(len(self.text))
                raise GraphQLError("Parse error on end of query", line=line, column=col)
            _, tval, pos = self.tokens[self.i]
            line, col = self._where(pos)
            raise GraphQLError(f"Parse error on \"{tval}\" ({line}:{col})", line=line, column=col)
        token = self.tokens[self.i]
        self.i += 1
        return token

    def document(self) -> Document:
        """document := (operation | fragment)+"""
        doc = Document(operations=[])
        while self.i < len(self.tokens):
            if self.peek("{"):
                doc.operations.append(Operation("query", None, {}, self.selection_set()))
            elif self.peek("fragment"):
                self.take()
                name = self.take(kind="name")[1]
                self.take("on")
                type_name = self.take(kind="name")[1]
                directives = self.directives()
                doc.fragments[name] = InlineFragment(type_name, directives, self.selection_set())
            elif self.peek("query") or self.peek("mutation") or self.peek("subscription"):
                kind = self.take()[1]
                name = self.take(kind="name")[1] if self.peek(kind="name") else None
                defaults = self.variable_definitions()
                self.directives()
                doc.operations.append(Operation(kind, name, defaults, self.selection_set()))
            else:
                self.take("{")
        if not doc.operations:
            raise GraphQLError("Parse error on end of query")
        return doc

    def variable_definitions(self) -> dict[str, Any]:
        """($a: Type = default, ...) -> defaults"""
        defaults: dict[str, Any] = {}
        if not self.peek("("):
            return defaults
        self.take("(")
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")[1]
            self.take(":")
            self.type_ref()
            if self.peek("="):
                self.take("=")
                defaults[name] = self.value()
            self.directives()
        self.take(")")
        return defaults

    def type_ref(self) -> None:
        """Type | [Type] with optional `!`; types are not checked."""
        if self.peek("["):
            self.take("[")
            self.type_ref()
            self.take("]")
        else:
            self.take(kind="name")
        if self.peek("!"):
            self.take("!")

    def directives(self) -> list[tuple[str, dict[str, Any]]]:
        """@name(args)*"""
        found = []
        while self.peek("@"):
            self.take("@")
            found.append((self.take(kind="name")[1], self.arguments()))
        return found

    def selection_set(self) -> list[Any]:
        """{ selection+ }"""
        self.take("{")
        selections: list[Any] = []
        while not self.peek("}"):
            selections.append(self.selection())
        self.take("}")
        if not selections:
            raise GraphQLError("Parse error: empty selection set")
        return selections

    def selection(self) -> Any:
        """field | ...Fragment | ... on Type { }"""
        if self.peek(kind="spread"):
            self.take()
            if self.peek("on"):
                self.take()
                type_name = self.take(kind="name")[1]
                return InlineFragment(type_name, self.directives(), self.selection_set())
            if self.peek(kind="name"):
                return FragmentSpread(self.take()[1], self.directives())
            return InlineFragment(None, self.directives(), self.selection_set())
        _, name, pos = self.take(kind="name")
        alias = None
        if self.peek(":"):
            self.take(":")
            alias, name = name, self.take(kind="name")[1]
        line, col = self._where(pos)
        args = self.arguments()
        directives = self.directives()
        selections = self.selection_set() if self.peek("{") else None
        return Field(name, alias, args, directives, selections, line, col)

    def arguments(self) -> dict[str, Any]:
        """(name: value, ...)"""
        args: dict[str, Any] = {}
        if not self.peek("("):
            return args
        self.take("(")
        while not self.peek(")"):
            name = self.take(kind="name")[1]
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        """A literal, a variable, a list or an input object."""
        if self.peek("$"):
            self.take()
            return Variable(self.take(kind="name")[1])
        if self.peek("["):
            self.take()
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.take("]")
            return items
        if self.peek("{"):
            self.take()
            obj = {}
            while not self.peek("}"):
                key = self.take(kind="name")[1]
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        kind, text, _ = self.take()
        if kind == "string":
            return json.loads(text)
        if kind == "block":
            return text[3:-3].replace('\\"""', '"""')
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, text)
        self.i -= 1
        self.take(kind="name")
        return None  # pragma: no cover - take() raised


def parse(text: str) -> Document:
    """Parse a GraphQL document or raise GraphQLError with Shopify-like wording."""
    return _Parser(text).document()


def resolve(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace variable references by their values, recursively."""
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    return value


def _included(directives: list[tuple[str, dict[str, Any]]], variables: Mapping[str, Any]) -> bool:
    """Whether @skip/@include let a selection through."""
    for name, args in directives:
        condition = bool(resolve(args.get("if"), variables))
        if (name == "skip" and condition) or (name == "include" and not condition):
            return False
    return True


def collect_fields(selections: list[Any], typename: str | None, doc: Document,
                   variables: Mapping[str, Any]) -> list[Field]:
    """Flatten fragments into fields applying to `typename`, merging repeated response keys."""
    merged: dict[str, Field] = {}

    def visit(items: list[Any]) -> None:
        """Add fields, expanding fragments whose type condition applies."""
        for item in items:
            if not _included(item.directives, variables):
                continue
            if isinstance(item, Field):
                known = merged.get(item.key)
                if known is None:
                    merged[item.key] = Field(item.name, item.alias, item.args, [],
                                             list(item.selections) if item.selections else None,
                                             item.line, item.column)
                elif item.selections and known.selections is not None:
                    known.selections.extend(item.selections)
                continue
            fragment = doc.fragments.get(item.name) if isinstance(item, FragmentSpread) else item
            if fragment is None:
                raise GraphQLError(f"Fragment {item.name} was used, but not defined")
            condition = fragment.type_condition
            if condition is None or typename is None or condition == typename:
                visit(fragment.selections)

    visit(selections)
    return list(merged.values())


class Items(list):
    """A list whose element type is known, so selections are checked even when it is empty."""

    def __init__(self, items: list[Any], typename: str, fields: frozenset[str]):
        """A list of typename elements that have these fields."""
        super().__init__(items)
        self.typename = typename
        self.fields = fields


def _check_fields(items: Items, selections: list[Any], doc: Document,
                  variables: Mapping[str, Any], path: list[str]) -> None:
    """Reject selected fields the list's element type does not have."""
    for fld in collect_fields(selections, items.typename, doc, variables):
        if fld.name != "__typename" and fld.name not in items.fields:
            raise GraphQLError(
                f"Field '{fld.name}' doesn't exist on type '{items.typename}'",
                line=fld.line, column=fld.column, path=[*path, fld.key],
                extensions={"code": "undefinedField", "typeName": items.typename,
                            "fieldName": fld.name})


def select(value: Any, selections: list[Any] | None, doc: Document,
           variables: Mapping[str, Any], path: list[str]) -> Any:
    """Keep only the selected fields of a resolved value (dicts, lists, scalars).

    Fields are checked against what the value holds, so nothing is checked below a null, or
    below an empty list unless it is an Items list.
    """
    if selections is None or value is None:
        return value
    if isinstance(value, list):
        if isinstance(value, Items):
            _check_fields(value, selections, doc, variables, path)
        return [select(v, selections, doc, variables, path) for v in value]
    typename = value.get("__typename")
    out: dict[str, Any] = {}
    for fld in collect_fields(selections, typename, doc, variables):
        if fld.name == "__typename":
            out[fld.key] = typename
            continue
        if fld.name not in value:
            raise GraphQLError(
                f"Field '{fld.name}' doesn't exist on type '{typename or 'Object'}'",
                line=fld.line, column=fld.column, path=[*path, fld.key],
                extensions={"code": "undefinedField", "typeName": typename or "Object",
                            "fieldName": fld.name})
        raw = value[fld.name]
        if callable(raw):
            raw = raw(resolve(fld.args, variables))
        out[fld.key] = select(raw, fld.selections, doc, variables, [*path, fld.key])
    return out


def requested_cost(op: Operation, doc: Document, variables: Mapping[str, Any]) -> int:
    """Calculated query cost: a mutation costs 10; each object 1; a connection 2 + first x node.

    https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits (cost calculation)
    """
    roots = collect_fields(op.selections, None, doc, variables)
    if op.kind == "mutation":
        return 10 * len(roots)

    def cost(fld: Field) -> int:
        """One field's cost: objects 1, connections 2 + size x node."""
        if fld.selections is None:
            return 0
        children = sum(cost(c) for c in collect_fields(fld.selections, None, doc, variables))
        size = resolve(fld.args.get("first", fld.args.get("last")), variables)
        if isinstance(size, int):
            return 2 + size * max(children, 1)
        return 1 + children

    return max(1, sum(cost(f) for f in roots))


Resolver = Callable[[dict[str, Any]], Any]
