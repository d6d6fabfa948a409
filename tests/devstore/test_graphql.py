"""The emulator's small GraphQL reader: parsing, selecting and pricing without a schema."""

import pytest

from devstore.graphql import GraphQLError, Items, parse, requested_cost, resolve, select


def _run(query, value, variables=None):
    """Parse a one-field query and select it from a value."""
    doc = parse(query)
    op = doc.operation(None)
    [root] = op.selections
    return select(value, root.selections, doc, variables or {}, [root.name])


def test_arguments_keep_their_literal_types_and_variables():
    doc = parse('query Q($id: ID!, $n: Int = 5) { customer(id: $id, first: 3, ratio: 0.5, '
                'on: true, none: null, kind: ALL, tags: ["a", "b"], by: {key: "x"}) { id } }')
    op = doc.operation("Q")
    [field] = op.selections
    args = resolve(field.args, {"id": "gid://shopify/Customer/1"})
    assert args == {"id": "gid://shopify/Customer/1", "first": 3, "ratio": 0.5, "on": True,
                    "none": None, "kind": "ALL", "tags": ["a", "b"], "by": {"key": "x"}}
    assert op.variable_defaults == {"n": 5}


def test_select_keeps_the_selection_with_aliases_and_calls_argument_resolvers():
    value = {"__typename": "Customer", "id": "1", "email": "a@b.c",
             "metafield": lambda args: {"value": args["key"].upper()}}
    result = _run('{ customer { id mail: email points: metafield(key: "points") { value } } }',
                  value)
    assert result == {"id": "1", "mail": "a@b.c", "points": {"value": "POINTS"}}


def test_inline_fragments_apply_only_to_their_type():
    value = {"__typename": "DiscountCodeBasic", "title": "T", "usageLimit": 1}
    result = _run("{ node { ... on DiscountCodeBasic { title } ... on DiscountCodeBxgy { "
                  "usageLimit } __typename } }", value)
    assert result == {"title": "T", "__typename": "DiscountCodeBasic"}


def test_an_empty_typed_list_still_checks_the_selected_fields():
    errors = Items([], "DiscountUserError", frozenset({"field", "code", "message"}))
    with pytest.raises(GraphQLError, match="Field 'hint' doesn't exist on type"):
        _run("{ userErrors { code hint } }", errors)


def test_comments_commas_and_block_strings_are_understood():
    doc = parse('# leading comment\n{ shop(note: """a "quoted" note"""), { name, } }')
    [field] = doc.operation(None).selections
    assert field.args == {"note": 'a "quoted" note'}


@pytest.mark.parametrize("text", ["{ shop { name }", "{ shop { } }", "query { shop(id: ) }",
                                  "{ shop { name } } ~"])
def test_malformed_documents_are_parse_errors(text):
    with pytest.raises(GraphQLError, match="Parse error"):
        parse(text)


def test_two_operations_need_an_operation_name():
    doc = parse("query A { shop { name } } query B { shop { id } }")
    with pytest.raises(GraphQLError, match="operation name is required"):
        doc.operation(None)
    assert doc.operation("B").name == "B"


@pytest.mark.parametrize(("query", "cost"), [
    ("{ shop { name } }", 1),
    ("{ shop { name plan { displayName } } }", 2),
    ("{ customer(id: 1) { orders(first: 10) { nodes { id lineItems(first: 2) { nodes { id } } }"
     " } } }", 1 + 2 + 10 * (1 + 2 + 2 * 1)),
    ("mutation { a: metafieldsSet(metafields: []) { userErrors { code } } "
     "b: metafieldsSet(metafields: []) { userErrors { code } } }", 20),
])
def test_requested_cost_follows_shopifys_rules(query, cost):
    doc = parse(query)
    assert requested_cost(doc.operation(None), doc, {}) == cost
