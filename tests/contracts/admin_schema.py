"""Shopify's own Admin GraphQL schema, and the checks the contract tests run against it.

The schema is the introspection result Shopify publishes, per API version, in the npm package
@shopify/dev-mcp (`dist/data/admin_<version>.json.gz`, a devDependency installed by `npm ci`).
Besides the standard introspection it carries `requiredAccess` on types and fields: the access
scopes Shopify asks of an app for them.

Every Admin GraphQL document the app sends is registered by one rule, so a new one cannot be
missed: it is a module-level string constant under `app/` (the emulator in `devstore/`
excepted) whose name ends in `_QUERY` or `_MUTATION` and whose text is one `query` or
`mutation`. `unregistered_documents` finds any GraphQL operation written another way.
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_client_schema,
    get_named_type,
    parse,
    specified_rules,
    type_from_ast,
    validate,
    visit,
)
from graphql.execution.values import get_directive_values, get_variable_values
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from graphql.validation import NoDeprecatedCustomRule

from app.config import API_VERSION

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_ROOT = REPO_ROOT / "app"
# The emulator answers Shopify's API; it never sends Admin GraphQL to Shopify.
NOT_SENDING = (APP_ROOT / "devstore",)
SCHEMA_PACKAGE = "@shopify/dev-mcp"
SCHEMA_DIR = REPO_ROOT / "node_modules" / SCHEMA_PACKAGE / "dist" / "data"
APP_TOML = REPO_ROOT / "shopify.app.toml"
DOCUMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*_(QUERY|MUTATION)$")
OPERATION_TEXT = re.compile(r"^\s*(query|mutation|subscription)\b[^{}\"]*\{", re.DOTALL)
# Coercion checks these in variables already.
SPECIFIED_SCALARS = frozenset({"String", "ID", "Int", "Float", "Boolean"})
SCOPE = re.compile(r"`((?:read|write)_[a-z0-9_]+)`")


# --- the schema -----------------------------------------------------------------------------

def schema_versions() -> list[str]:
    """The Admin API versions the installed package ships (YYYY-MM, sorted), `unstable` left out."""
    return sorted(p.name[len("admin_"):-len(".json.gz")] for p in SCHEMA_DIR.glob("admin_*.json.gz")
                  if re.fullmatch(r"admin_\d{4}-\d{2}\.json\.gz", p.name))


def schema_version(pinned: str = API_VERSION) -> str:
    """The pinned Admin API version, which the installed package must ship.

    @shopify/dev-mcp 1.16.0 ships 2025-10 to 2026-10; a pin it does not know fails here with
    the versions it has, rather than silently checking against another version's schema.
    """
    versions = schema_versions()
    if pinned not in versions:
        raise LookupError(f"{SCHEMA_PACKAGE} ships no Admin schema for {pinned} "
                          f"(it has {', '.join(versions) or 'none'}): update the package")
    return pinned


@dataclass(frozen=True)
class AdminSchema:
    """The graphql-core schema of one Admin API version and its access requirements."""

    version: str
    schema: GraphQLSchema
    # "Type" or "Type.field" -> Shopify's requiredAccess text.
    required_access: Mapping[str, str]


@cache
def admin_schema(version: str | None = None) -> AdminSchema:
    """Load Shopify's introspection for `version` (default: the pinned one)."""
    version = version or schema_version()
    raw = json.loads(gzip.decompress((SCHEMA_DIR / f"admin_{version}.json.gz").read_bytes()))
    introspection = raw["data"]
    access: dict[str, str] = {}
    for type_ in introspection["__schema"]["types"]:
        if type_.get("requiredAccess"):
            access[type_["name"]] = type_["requiredAccess"]
        for field in type_.get("fields") or ():
            if field.get("requiredAccess"):
                access[f"{type_['name']}.{field['name']}"] = field["requiredAccess"]
    return AdminSchema(version, build_client_schema(introspection), access)


# --- the app's documents --------------------------------------------------------------------

@dataclass(frozen=True)
class Document:
    """One registered Admin GraphQL document: `module.NAME` and its text."""

    module: str
    name: str
    text: str

    @property
    def key(self) -> str:
        """`app.shopify.graphql.SHOP_QUERY`"""
        return f"{self.module}.{self.name}"


def _python_files(root: Path = APP_ROOT) -> Iterator[Path]:
    """The app's Python sources that may send Admin GraphQL."""
    for path in sorted(root.rglob("*.py")):
        if not any(path.is_relative_to(skip) for skip in NOT_SENDING):
            yield path


def _module_name(path: Path, root: Path) -> str:
    """app/shopify/graphql.py -> app.shopify.graphql"""
    return ".".join(path.relative_to(root.parent).with_suffix("").parts)


def registered_documents(root: Path = APP_ROOT) -> list[Document]:
    """Every module-level `*_QUERY`/`*_MUTATION` string constant whose text is an operation."""
    found = []
    for path in _python_files(root):
        for node in ast.parse(path.read_text(), str(path)).body:
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target, value = node.targets[0], node.value
            if (isinstance(target, ast.Name) and DOCUMENT_NAME.match(target.id)
                    and isinstance(value, ast.Constant) and isinstance(value.value, str)
                    and OPERATION_TEXT.match(value.value)):
                found.append(Document(_module_name(path, root), target.id, value.value))
    return found


def unregistered_documents(root: Path = APP_ROOT) -> list[str]:
    """GraphQL operations in the app's sources that are not registered documents, as
    `file:line`: inline literals, f-strings, constants with another name."""
    registered = {d.text for d in registered_documents(root)}
    stray = []
    for path in _python_files(root):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            text = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value if node.value not in registered else None
            elif isinstance(node, ast.JoinedStr):
                text = "".join(part.value for part in node.values
                               if isinstance(part, ast.Constant) and isinstance(part.value, str))
            if text is None or not OPERATION_TEXT.match(text):
                continue
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            if where not in stray:
                stray.append(where)
    return stray


# --- documents against the schema ------------------------------------------------------------

def document_errors(schema: GraphQLSchema, text: str) -> list[str]:
    """Syntax and validation errors of a document (unknown fields, wrong argument types...)."""
    return [e.message for e in validate(schema, parse(text), specified_rules)]


def deprecations(schema: GraphQLSchema, text: str) -> list[str]:
    """Deprecated fields, arguments, input fields and enum values the document itself uses."""
    return [e.message for e in validate(schema, parse(text), [NoDeprecatedCustomRule])]


def operation(document: DocumentNode) -> OperationDefinitionNode:
    """The document's one operation."""
    [op] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return op


def root_type(schema: GraphQLSchema, op: OperationDefinitionNode) -> GraphQLObjectType:
    """QueryRoot or Mutation."""
    root = schema.mutation_type if op.operation == OperationType.MUTATION else schema.query_type
    assert root is not None
    return root


# --- access scopes --------------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    """What Shopify asks for one type or field: any one of `scopes`, or all when `all_of`."""

    where: str
    text: str
    scopes: frozenset[str]
    all_of: bool

    @property
    def readable(self) -> bool:
        """Whether the text names the scopes; otherwise it depends on something else (such as
        metafieldsSet's owner) and is decided by the caller."""
        return bool(self.scopes)

    def met_by(self, granted: frozenset[str]) -> bool:
        """Whether these granted scopes satisfy the requirement."""
        have = implied_scopes(granted)
        return self.scopes <= have if self.all_of else bool(self.scopes & have)


def requirement(where: str, text: str) -> Requirement:
    """Read Shopify's requiredAccess text.

    Only the part before "Also:" is about access scopes (the rest is staff permissions or
    extra conditions of some inputs). "`a` access scope or `b` access scope" is any of them;
    "both `a` as well as `b`" is all of them.
    """
    scopes_part = text.split("Also:")[0]
    all_of = " as well as " in scopes_part or "both " in scopes_part
    return Requirement(where, text.strip(), frozenset(SCOPE.findall(scopes_part)), all_of)


def implied_scopes(granted: frozenset[str]) -> frozenset[str]:
    """Granted scopes plus the read scope each write scope includes.

    "Any scope that writes a resource also grants read access to it":
    https://shopify.dev/docs/api/usage/access-scopes
    """
    return granted | {"read_" + s[len("write_"):] for s in granted if s.startswith("write_")}


def requirements(admin: AdminSchema, text: str) -> list[Requirement]:
    """Every requirement of the types and fields a document selects, arguments' input types
    included; interfaces and unions count with the concrete types its fragments name."""
    schema = admin.schema
    info = TypeInfo(schema)
    found: dict[str, Requirement] = {}

    def need(where: str) -> None:
        """Record the requirement of a type or `Type.field`, if Shopify states one."""
        if where in admin.required_access and where not in found:
            found[where] = requirement(where, admin.required_access[where])

    class Collect(Visitor):
        """Walk the document with its schema types."""

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            field = info.get_field_def()
            if parent is None or field is None:
                return
            need(f"{parent.name}.{node.name.value}")
            need(get_named_type(field.type).name)

        def enter_inline_fragment(self, node: InlineFragmentNode, *_: Any) -> None:
            if node.type_condition is not None:
                need(node.type_condition.name.value)

        def enter_variable_definition(self, node: Any, *_: Any) -> None:
            named = type_from_ast(schema, node.type)
            if named is not None:
                need(get_named_type(named).name)

    visit(parse(text), TypeInfoVisitor(info, Collect()))
    return list(found.values())


def app_toml_scopes(path: Path = APP_TOML) -> frozenset[str]:
    """`[access_scopes] scopes` of shopify.app.toml."""
    data = tomllib.loads(path.read_text())
    return frozenset(s.strip() for s in data["access_scopes"]["scopes"].split(",") if s.strip())


# --- variables ------------------------------------------------------------------------------

def variable_errors(schema: GraphQLSchema, text: str, variables: Mapping[str, Any]) -> list[str]:
    """Whether the variables the app built coerce to the operation's declared types, hold only
    declared variables, use no deprecated input field or enum value, and give Shopify's
    custom scalars (DateTime, Decimal, Money...) values in their documented formats."""
    op = operation(parse(text))
    definitions = op.variable_definitions or ()
    coerced = get_variable_values(schema, definitions, dict(variables))
    errors = [e.message for e in coerced] if isinstance(coerced, list) else []
    declared = {d.variable.name.value: d for d in definitions}
    errors += [f"variable ${name} is not declared by the operation"
               for name in variables if name not in declared]
    for name, definition in declared.items():
        if name in variables:
            input_type = type_from_ast(schema, definition.type)
            errors += _input_errors(input_type, variables[name], f"${name}")
    return errors


def _input_errors(type_: Any, value: Any, path: str) -> list[str]:
    """Deprecated input fields and enum values, and custom scalar formats, in one input value."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if value is None:
        return []
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return [e for i, item in enumerate(items)
                for e in _input_errors(type_.of_type, item, f"{path}[{i}]")]
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
        errors = []
        for key, item in value.items():
            field = type_.fields.get(key)
            if field is None:
                continue  # coercion already reported it
            if field.deprecation_reason is not None:
                errors.append(f"{path}.{key}: {type_.name}.{key} is deprecated. "
                              f"{field.deprecation_reason}")
            errors += _input_errors(field.type, item, f"{path}.{key}")
        return errors
    if isinstance(type_, GraphQLEnumType):
        enum_value = type_.values.get(value) if isinstance(value, str) else None
        if enum_value is not None and enum_value.deprecation_reason is not None:
            return [f"{path}: {type_.name}.{value} is deprecated. {enum_value.deprecation_reason}"]
        return []
    if isinstance(type_, GraphQLScalarType) and type_.name not in SPECIFIED_SCALARS:
        problem = scalar_problem(type_.name, value)
        return [f"{path}: {problem}"] if problem else []
    return []


# --- answers --------------------------------------------------------------------------------

INT_RANGE = (-(2**31), 2**31 - 1)
ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def scalar_problem(name: str, value: Any) -> str | None:
    """Why `value` is not a serialized `name` scalar as Shopify sends and takes it, or None.

    Shopify serializes its custom scalars as strings (JSON excepted); the formats are
    shopify.dev/docs/api/admin-graphql/2026-07/scalars/<Name>.
    """
    if name == "JSON":
        return None
    if name == "Boolean":
        return None if isinstance(value, bool) else f"{value!r} is not a Boolean"
    if name == "Int":
        ok = (isinstance(value, int) and not isinstance(value, bool)
              and INT_RANGE[0] <= value <= INT_RANGE[1])
        return None if ok else f"{value!r} is not an Int"
    if name == "Float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"{value!r} is not a Float"
    if not isinstance(value, str):
        return f"{value!r} is not a {name} (a string)"
    if name == "DateTime" and not ISO_DATETIME.match(value):
        return f"{value!r} is not an ISO 8601 DateTime with a zone"
    if name == "Date":
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            return f"{value!r} is not a Date (YYYY-MM-DD)"
    if name in ("Decimal", "Money"):
        try:
            Decimal(value)
        except InvalidOperation:
            return f"{value!r} is not a {name} (a decimal number in a string)"
    if name in ("UnsignedInt64", "BigInt") and not re.fullmatch(r"-?\d+", value):
        return f"{value!r} is not an {name} (digits in a string)"
    if name == "URL" and not re.match(r"^https?://", value):
        return f"{value!r} is not an absolute URL"
    return None


def answer_errors(schema: GraphQLSchema, text: str, variables: Mapping[str, Any],
                  data: Any) -> list[str]:
    """Where a response's `data` differs from what Shopify's schema makes of this document:
    a selected key missing or an unselected one present, null for a non-null type, a list
    for an object, a scalar of the wrong type or format, an unknown enum value."""
    document = parse(text)
    op = operation(document)
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    checker = _AnswerChecker(schema, fragments, dict(variables))
    return checker.object(root_type(schema, op), [op.selection_set], data, "data")


class _AnswerChecker:
    """Walks an answer alongside the document's selections and Shopify's types."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _included(self, node: Any) -> bool:
        """@skip / @include"""
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if"):
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and not include.get("if"))

    def _applies(self, condition: str | None, object_type: GraphQLObjectType) -> bool:
        """Whether a fragment's type condition covers this concrete type."""
        if condition is None or condition == object_type.name:
            return True
        abstract = self.schema.get_type(condition)
        return isinstance(abstract, GraphQLInterfaceType | GraphQLUnionType) and \
            self.schema.is_sub_type(abstract, object_type)

    def fields(self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
               ) -> dict[str, list[FieldNode]]:
        """Response key -> field nodes, fragments applying to `object_type` expanded."""
        out: dict[str, list[FieldNode]] = {}

        def walk(selection_set: SelectionSetNode) -> None:
            for node in selection_set.selections:
                if not self._included(node):
                    continue
                if isinstance(node, FieldNode):
                    out.setdefault((node.alias or node.name).value, []).append(node)
                elif isinstance(node, InlineFragmentNode):
                    condition = node.type_condition.name.value if node.type_condition else None
                    if self._applies(condition, object_type):
                        walk(node.selection_set)
                elif isinstance(node, FragmentSpreadNode):
                    fragment = self.fragments[node.name.value]
                    if self._applies(fragment.type_condition.name.value, object_type):
                        walk(fragment.selection_set)

        for selection_set in selection_sets:
            walk(selection_set)
        return out

    def object(self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode],
               value: Any, path: str) -> list[str]:
        """A concrete object: exactly the selected keys, each of its field's type."""
        if not isinstance(value, dict):
            return [f"{path}: {object_type.name} expected, got {type(value).__name__}"]
        selected = self.fields(object_type, selection_sets)
        errors = []
        for key in sorted(set(value) - set(selected)):
            errors.append(f"{path}.{key}: not selected (Shopify never answers it)")
        for key, nodes in selected.items():
            here = f"{path}.{key}"
            if key not in value:
                errors.append(f"{here}: selected but missing")
                continue
            name = nodes[0].name.value
            if name == "__typename":
                if value[key] != object_type.name:
                    errors.append(f"{here}: {value[key]!r} is not {object_type.name!r}")
                continue
            field = object_type.fields.get(name)
            if field is None:
                errors.append(f"{here}: {object_type.name} has no field {name}")
                continue
            subsets = [n.selection_set for n in nodes if n.selection_set is not None]
            errors += self.value(field.type, subsets, value[key], here)
        return errors

    def value(self, type_: GraphQLOutputType, selection_sets: list[SelectionSetNode],
              value: Any, path: str) -> list[str]:
        """One value of a field's output type."""
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                return [f"{path}: null, but {type_} is non-null"]
            return self.value(type_.of_type, selection_sets, value, path)
        if value is None:
            return []
        if isinstance(type_, GraphQLList):
            if not isinstance(value, list):
                return [f"{path}: {type_} expected, got {type(value).__name__}"]
            return [e for i, item in enumerate(value)
                    for e in self.value(type_.of_type, selection_sets, item, f"{path}[{i}]")]
        if isinstance(type_, GraphQLScalarType):
            problem = scalar_problem(type_.name, value)
            return [f"{path}: {problem}"] if problem else []
        if isinstance(type_, GraphQLEnumType):
            return [] if value in type_.values else [
                f"{path}: {value!r} is not a value of enum {type_.name}"]
        if isinstance(type_, GraphQLObjectType):
            return self.object(type_, selection_sets, value, path)
        return self.abstract(type_, selection_sets, value, path)

    def abstract(self, type_: GraphQLNamedType, selection_sets: list[SelectionSetNode],
                 value: Any, path: str) -> list[str]:
        """An interface or union: the answer must fit one of its concrete types."""
        assert isinstance(type_, GraphQLInterfaceType | GraphQLUnionType)
        candidates = list(self.schema.get_possible_types(type_))
        if isinstance(value, dict) and isinstance(value.get("__typename"), str):
            candidates = [t for t in candidates if t.name == value["__typename"]]
        best: list[str] | None = None
        for candidate in candidates:
            errors = self.object(candidate, selection_sets, value, path)
            if not errors:
                return []
            if best is None or len(errors) < len(best):
                best = errors
        return best or [f"{path}: no concrete type of {type_.name} fits"]


# --- the emulator's model ---------------------------------------------------------------------

def model_errors(schema: GraphQLSchema, type_: GraphQLOutputType, value: Any, path: str,
                 depth: int = 0) -> list[str]:
    """Where an object the emulator can answer from differs from Shopify's type: a field
    Shopify's type does not have, or a value not of the field's type.

    Resolvers (a value that is a function of the field's arguments) are called with the first
    page of a connection and any other required argument filled in, to a limited depth (an
    account's transaction points back to its account).
    """
    if isinstance(type_, GraphQLNonNull):
        if value is None:
            return [f"{path}: null, but {type_} is non-null"]
        return model_errors(schema, type_.of_type, value, path, depth)
    if value is None:
        return []
    if isinstance(type_, GraphQLList):
        if not isinstance(value, list):
            return [f"{path}: {type_} expected, got {type(value).__name__}"]
        return [e for i, item in enumerate(value)
                for e in model_errors(schema, type_.of_type, item, f"{path}[{i}]", depth)]
    if isinstance(type_, GraphQLScalarType):
        problem = scalar_problem(type_.name, value)
        return [f"{path}: {problem}"] if problem else []
    if isinstance(type_, GraphQLEnumType):
        return [] if value in type_.values else [
            f"{path}: {value!r} is not a value of enum {type_.name}"]
    if not isinstance(value, dict):
        return [f"{path}: {get_named_type(type_).name} expected, got {type(value).__name__}"]
    concrete: Any = type_
    if "__typename" in value:
        concrete = schema.get_type(value["__typename"])
        if not isinstance(concrete, GraphQLObjectType):
            return [f"{path}: __typename {value['__typename']!r} is no object type of Shopify's"]
        if concrete is not type_ and not (
                isinstance(type_, GraphQLInterfaceType | GraphQLUnionType)
                and schema.is_sub_type(type_, concrete)):
            return [f"{path}: {concrete.name} is not a {get_named_type(type_).name}"]
    if not isinstance(concrete, GraphQLObjectType):
        return [f"{path}: a {get_named_type(type_).name} needs its __typename"]
    errors = []
    for key, raw in value.items():
        if key == "__typename":
            continue
        field = concrete.fields.get(key)
        here = f"{path}.{key}"
        if field is None:
            errors.append(f"{here}: Shopify's {concrete.name} has no field {key}")
            continue
        if callable(raw):
            if depth >= 4:
                continue
            raw = raw(_sample_arguments(field.args))
        errors += model_errors(schema, field.type, raw, here, depth + 1)
    return errors


def _sample_arguments(args: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for calling a resolver: a first page, and a value for each required one."""
    sample: dict[str, Any] = {"first": 5} if "first" in args else {}
    for name, arg in args.items():
        if isinstance(arg.type, GraphQLNonNull) and name not in sample:
            sample[name] = "loyalty"
    return sample
