"""Every Admin GraphQL document the app sends, checked against Shopify's own Admin schema at the
pinned API version: it validates, uses nothing deprecated, and shopify.app.toml grants every
scope it needs. Registration rule and schema source: tests/contracts/admin_schema.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import API_VERSION
from tests.contracts.admin_schema import (
    AdminSchema,
    app_toml_scopes,
    deprecations,
    document_errors,
    registered_documents,
    requirements,
    schema_version,
    schema_versions,
    unregistered_documents,
)

DOCUMENTS = {d.key: d for d in registered_documents()}
# Fields whose scope depends on what the variables name; the exchange tests decide them
# (metafieldsSet: "the same access level needed to mutate the owner resource").
OWNER_DEPENDENT = {"Mutation.metafieldsSet"}
# Requirements that are about the kind of token, not a scope: bulk operations are "only
# accessible by supported access tokens"
# (shopify.dev/docs/api/usage/bulk-operations/queries#access-token-considerations), and a usage
# record needs a staff member's billing permission only "if authenticated with an online
# access token". The app sends both with the shop's offline token, never a user's.
TOKEN_KIND = {"BulkOperation", "Mutation.bulkOperationRunQuery", "AppUsageRecord"}


def missing_scopes(admin: AdminSchema, text: str, granted: frozenset[str]) -> list[str]:
    """The requirements of a document that `granted` does not meet, as readable lines."""
    return [f"{r.where}: {r.text}" for r in requirements(admin, text)
            if (r.readable and not r.met_by(granted))
            or (not r.readable and r.where not in OWNER_DEPENDENT | TOKEN_KIND)]


def test_the_schema_is_shopifys_for_the_pinned_api_version(admin):
    assert API_VERSION in schema_versions()
    assert schema_version() == admin.version == API_VERSION


def test_a_pinned_version_the_package_does_not_ship_is_refused(admin):
    with pytest.raises(LookupError, match="ships no Admin schema for 2019-04"):
        schema_version("2019-04")


def test_the_app_sends_the_documents_it_registers():
    # The app's known operations: a floor, so a broken registration rule cannot pass empty.
    assert {"SHOP_QUERY", "CUSTOMER_QUERY", "ORDER_QUERY", "DISCOUNT_BASIC_MUTATION",
            "METAFIELDS_SET_MUTATION", "STORE_CREDITS_QUERY"} <= {
        d.name for d in DOCUMENTS.values()}


def test_every_graphql_operation_in_the_app_is_a_registered_document():
    assert unregistered_documents() == []


@pytest.mark.parametrize("key", sorted(DOCUMENTS))
def test_each_admin_document_validates_against_shopifys_schema(admin, key):
    assert document_errors(admin.schema, DOCUMENTS[key].text) == []


@pytest.mark.parametrize("key", sorted(DOCUMENTS))
def test_no_admin_document_uses_a_deprecated_field_argument_or_enum_value(admin, key):
    assert deprecations(admin.schema, DOCUMENTS[key].text) == []


@pytest.mark.parametrize("key", sorted(DOCUMENTS))
def test_shopify_app_toml_grants_every_scope_each_document_needs(admin, key):
    assert missing_scopes(admin, DOCUMENTS[key].text, app_toml_scopes()) == []


# --- the checks catch what they are for ---------------------------------------------------------

def test_a_document_selecting_a_field_shopify_does_not_have_is_refused(admin):
    errors = document_errors(admin.schema, """query Bad($id: ID!) {
      customer(id: $id) { id loyaltyPoints }
    }""")
    assert errors == ["Cannot query field 'loyaltyPoints' on type 'Customer'."]


def test_a_document_with_a_wrongly_typed_argument_is_refused(admin):
    errors = document_errors(admin.schema, """query Bad($id: Int!) {
      customer(id: $id) { id }
    }""")
    assert errors == ["Variable '$id' of type 'Int!' used in position expecting type 'ID!'."]


def test_a_document_reading_a_deprecated_field_is_refused(admin):
    errors = deprecations(admin.schema, """query Old($id: ID!) {
      codeDiscountNode(id: $id) { id }
      customer(id: $id) { email }
    }""")
    assert errors == [
        "The field QueryRoot.codeDiscountNode is deprecated. Use `discountNode` instead.",
        "The field Customer.email is deprecated. Use `defaultEmailAddress.emailAddress` instead.",
    ]


def test_a_scope_missing_from_the_toml_is_reported(admin):
    store_credits = next(d for d in DOCUMENTS.values() if d.name == "STORE_CREDITS_QUERY")
    granted = app_toml_scopes() - {"read_store_credit_accounts"}
    assert missing_scopes(admin, store_credits.text, granted) == [
        "StoreCreditAccount: `read_store_credit_accounts` access scope."]


def test_a_write_scope_grants_its_read_scope_and_nothing_else(admin):
    customer = next(d for d in DOCUMENTS.values() if d.name == "CUSTOMER_QUERY")
    assert missing_scopes(admin, customer.text, frozenset({"write_customers"})) == []
    assert missing_scopes(admin, customer.text, frozenset({"write_orders"})) != []


def test_an_operation_written_outside_a_registered_constant_is_found(tmp_path: Path):
    module = tmp_path / "sync.py"
    module.write_text('''
REGISTERED_QUERY = """query Ok { shop { id } }"""
HELPER = "query Hidden { shop { name } }"


def push(client, gid):
    client.execute(f"""mutation Inline {{ tagsAdd(id: "{gid}", tags: ["vip"]) {{
      node {{ id }} }} }}""")
''')
    assert [d.name for d in registered_documents(tmp_path)] == ["REGISTERED_QUERY"]
    found = unregistered_documents(tmp_path)
    assert [line.rsplit(":", 1)[1] for line in found] == ["3", "7"]
