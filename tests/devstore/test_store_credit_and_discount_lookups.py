"""Reading back what the app made: store credit transactions, a discount by id, their scopes."""

from __future__ import annotations

from tests.devstore.conftest import FakeClock

CUSTOMER = "gid://shopify/Customer/115310627314723954"
SCOPES = ("read_customers,read_store_credit_accounts,write_store_credit_account_transactions,"
          "write_discounts")
CREDIT = """
mutation Credit($id: ID!, $credit: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $credit) {
    storeCreditAccountTransaction { id }
    userErrors { code }
  }
}"""
TRANSACTIONS = """
query Credits($id: ID!, $reverse: Boolean) {
  customer(id: $id) {
    storeCreditAccounts(first: 5) {
      nodes {
        balance { amount currencyCode }
        transactions(first: 2, reverse: $reverse) {
          nodes {
            __typename
            createdAt
            amount { amount currencyCode }
            ... on StoreCreditAccountCreditTransaction { id }
            ... on StoreCreditAccountDebitTransaction { nothingHere }
          }
          pageInfo { hasNextPage }
        }
      }
    }
  }
}"""


def _credit(gql, token, amount, currency="USD"):
    """Credit the customer and return the transaction id."""
    body = gql(CREDIT, {"id": CUSTOMER, "credit": {
        "creditAmount": {"amount": amount, "currencyCode": currency}}}, token=token).json()
    return body["data"]["storeCreditAccountCredit"]["storeCreditAccountTransaction"]["id"]


def test_a_customers_credits_are_listed_newest_first_when_reversed(gql, emulator, shop):
    emulator.shop(shop).add_customer(115310627314723954)
    emulator.clock = clock = FakeClock(1_790_000_000.0)
    token = emulator.issue_access_token(shop, scope=SCOPES).access_token
    first = _credit(gql, token, "5.00")
    clock.advance(60)
    second = _credit(gql, token, "7.50")
    clock.advance(60)
    third = _credit(gql, token, "2.00")
    body = gql(TRANSACTIONS, {"id": CUSTOMER, "reverse": True}, token=token).json()
    [account] = body["data"]["customer"]["storeCreditAccounts"]["nodes"]
    assert account["balance"] == {"amount": "14.5", "currencyCode": "USD"}
    assert account["transactions"] == {
        "nodes": [
            {"__typename": "StoreCreditAccountCreditTransaction", "id": third,
             "createdAt": "2026-09-21T14:15:20Z",
             "amount": {"amount": "2.0", "currencyCode": "USD"}},
            {"__typename": "StoreCreditAccountCreditTransaction", "id": second,
             "createdAt": "2026-09-21T14:14:20Z",
             "amount": {"amount": "7.5", "currencyCode": "USD"}}],
        "pageInfo": {"hasNextPage": True}}
    oldest = gql(TRANSACTIONS, {"id": CUSTOMER, "reverse": False}, token=token).json()
    nodes = oldest["data"]["customer"]["storeCreditAccounts"]["nodes"][0]["transactions"]
    assert [n["id"] for n in nodes["nodes"]] == [first, second]


def test_store_credit_accounts_need_their_read_scope(gql, emulator, shop):
    emulator.shop(shop).add_customer(115310627314723954)
    token = emulator.issue_access_token(
        shop, scope="read_customers,write_store_credit_account_transactions").access_token
    _credit(gql, token, "5.00")
    body = gql(TRANSACTIONS, {"id": CUSTOMER}, token=token).json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["message"] == ("Access denied for storeCreditAccounts field. Required access: "
                                "`read_store_credit_accounts` access scope.")


def test_transactions_need_the_transactions_read_scope(gql, emulator, shop):
    emulator.shop(shop).add_customer(115310627314723954)
    writer = emulator.issue_access_token(shop, scope=SCOPES).access_token
    _credit(gql, writer, "5.00")
    reader = emulator.issue_access_token(
        shop, scope="read_customers,read_store_credit_accounts").access_token
    [error] = gql(TRANSACTIONS, {"id": CUSTOMER}, token=reader).json()["errors"]
    assert error["message"] == ("Access denied for transactions field. Required access: "
                                "`read_store_credit_account_transactions` access scope.")


def test_a_code_discount_is_found_by_its_id_until_deleted(gql, emulator, shop):
    token = emulator.issue_access_token(shop, scope=SCOPES).access_token
    created = gql("""mutation($input: DiscountCodeFreeShippingInput!) {
      discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {
        codeDiscountNode { id } userErrors { code } } }""", {"input": {
        "title": "Free shipping", "code": "LOYAL-SHIP1", "startsAt": "2026-09-01T00:00:00Z",
        "context": {"customers": {"add": [CUSTOMER]}}, "destination": {"all": True},
        "usageLimit": 1, "appliesOncePerCustomer": True}}, token=token).json()
    node_id = created["data"]["discountCodeFreeShippingCreate"]["codeDiscountNode"]["id"]
    lookup = "query($id: ID!) { codeDiscountNode(id: $id) { id codeDiscount { " \
             "... on DiscountCodeFreeShipping { title } } } }"
    assert gql(lookup, {"id": node_id}, token=token).json()["data"] == {
        "codeDiscountNode": {"id": node_id, "codeDiscount": {"title": "Free shipping"}}}
    gql("mutation($id: ID!) { discountCodeDelete(id: $id) { deletedCodeDiscountId } }",
        {"id": node_id}, token=token)
    assert gql(lookup, {"id": node_id}, token=token).json()["data"] == {
        "codeDiscountNode": None}


def test_an_injected_user_error_leaves_the_discount_in_place(gql, emulator, shop):
    token = emulator.issue_access_token(shop, scope=SCOPES).access_token
    created = gql("""mutation($input: DiscountCodeFreeShippingInput!) {
      discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {
        codeDiscountNode { id } } }""", {"input": {
        "title": "Free shipping", "code": "LOYAL-SHIP2", "startsAt": "2026-09-01T00:00:00Z",
        "destination": {"all": True}}}, token=token).json()
    node_id = created["data"]["discountCodeFreeShippingCreate"]["codeDiscountNode"]["id"]
    emulator.fail_next("discountCodeDelete", "user_error")
    body = gql("mutation($id: ID!) { discountCodeDelete(id: $id) { deletedCodeDiscountId "
               "userErrors { code } } }", {"id": node_id}, token=token).json()
    assert body["data"]["discountCodeDelete"] == {
        "deletedCodeDiscountId": None, "userErrors": [{"code": "INTERNAL_ERROR"}]}
    assert emulator.shop(shop).discount("LOYAL-SHIP2").gid == node_id
