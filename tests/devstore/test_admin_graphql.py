"""Admin GraphQL on the emulator: reads, the mutations the app uses, their userErrors, the log."""

from decimal import Decimal

import pytest

CUSTOMER = "gid://shopify/Customer/115310627314723954"
CREATE_DISCOUNT = """
mutation RedeemReward($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { title codes(first: 1) {
      nodes { code } } } } }
    userErrors { field code message }
  }
}"""
SET_METAFIELDS = """
mutation SetPoints($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key type value compareDigest }
    userErrors { field code message elementIndex }
  }
}"""
CREDIT = """
mutation Credit($id: ID!, $credit: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $credit) {
    storeCreditAccountTransaction { amount { amount currencyCode }
      account { id balance { amount currencyCode } } }
    userErrors { field code message }
  }
}"""


def _discount_input(code="LOYAL-7F3K9Q", **extra):
    """A complete DiscountCodeBasicInput for one customer."""
    return {"title": "Reward 500 pts", "code": code, "startsAt": "2026-09-01T00:00:00Z",
            "endsAt": None, "context": {"customers": {"add": [CUSTOMER]}},
            "customerGets": {"value": {"discountAmount": {"amount": "5.00",
                                                          "appliesOnEachItem": False}},
                             "items": {"all": True}},
            "appliesOncePerCustomer": True, "usageLimit": 1,
            "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "20.00"}},
            "combinesWith": {"orderDiscounts": False, "productDiscounts": False,
                             "shippingDiscounts": True}, **extra}


def test_shop_answers_only_the_selected_fields_with_the_cost(gql, shop):
    body = gql("query Shop { shop { name myshopifyDomain currencyCode plan { displayName } } }"
               ).json()
    assert body["data"] == {"shop": {"name": "Demo Shop", "myshopifyDomain": shop,
                                     "currencyCode": "USD",
                                     "plan": {"displayName": "Basic"}}}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2
    assert body["extensions"]["cost"]["actualQueryCost"] == 2


def test_aliases_fragments_and_directives_shape_the_answer(gql):
    query = """
    query Q($withEmail: Boolean = false) {
      store: shop { ...Names id @skip(if: true) email @include(if: $withEmail) }
    }
    fragment Names on Shop { name myshopifyDomain }"""
    assert gql(query).json()["data"] == {"store": {"name": "Demo Shop",
                                                   "myshopifyDomain": "demo-shop.myshopify.com"}}


def test_selecting_a_field_that_does_not_exist_is_an_undefined_field_error(gql):
    body = gql("{ shop { name nickname } }").json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"] == "Field 'nickname' doesn't exist on type 'Shop'"
    assert error["extensions"]["code"] == "undefinedField"


def test_an_unknown_root_field_is_an_undefined_field_error(gql):
    [error] = gql("{ products(first: 1) { nodes { id } } }").json()["errors"]
    assert error["message"] == "Field 'products' doesn't exist on type 'QueryRoot'"


def test_a_syntax_error_is_reported_with_its_location(gql):
    response = gql("{ shop { name }")
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "Parse error on end of query"


def test_a_body_without_a_query_is_400(http, emulator, shop, access_token):
    response = http.post(emulator.graphql_url(shop), json={"variables": {}},
                         headers={"X-Shopify-Access-Token": access_token})
    assert response.status_code == 400
    assert response.json() == {"errors": {"query": "Required parameter missing or invalid"}}


def test_an_unknown_access_token_is_401_with_shopifys_message(gql):
    response = gql("{ shop { name } }", token="shpat_not-a-real-token")
    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token "
                                         "(unrecognized login or wrong password)"}


def test_a_token_of_another_shop_is_401(emulator, gql):
    emulator.add_shop("other.myshopify.com")
    foreign = emulator.issue_access_token("other.myshopify.com").access_token
    assert gql("{ shop { name } }", token=foreign).status_code == 401


def test_current_app_installation_gives_the_app_namespace_owner(gql, emulator, shop):
    data = gql("{ currentAppInstallation { id app { id } } }").json()["data"]
    installation = data["currentAppInstallation"]
    assert installation["id"] == emulator.shop(shop).installation_gid
    assert installation["app"]["id"] == f"gid://shopify/App/{emulator.app_id}"


def test_customer_reads_a_known_customer_and_null_for_an_unknown_one(gql, emulator, shop):
    emulator.shop(shop).add_customer(115310627314723954, email="ada@example.com",
                                     first_name="Ada", last_name="Lovelace", tags=["vip"])
    query = """query C($id: ID!) { customer(id: $id) { id displayName firstName
               defaultEmailAddress { emailAddress } numberOfOrders tags
               amountSpent { amount currencyCode } } }"""
    data = gql(query, {"id": CUSTOMER}).json()["data"]
    assert data["customer"] == {
        "id": CUSTOMER, "displayName": "Ada Lovelace", "firstName": "Ada",
        "defaultEmailAddress": {"emailAddress": "ada@example.com"}, "numberOfOrders": "0",
        "tags": ["vip"], "amountSpent": {"amount": "0.0", "currencyCode": "USD"}}
    missing = gql(query, {"id": "gid://shopify/Customer/1"}).json()["data"]
    assert missing == {"customer": None}


def test_order_reads_an_order_the_emulator_delivered(gql, emulator, shop, receiver):
    emulator.app_url = receiver.url
    order = emulator.sample_payload("orders/paid", order_id=5001, customer_id=42,
                                    email="ada@example.com",
                                    line_items=[{"title": "Mug", "price": "12.50", "quantity": 2}])
    assert emulator.send_webhook(shop, "orders/paid", order)[0] == 200
    query = """{ order(id: "gid://shopify/Order/5001") { name email displayFinancialStatus
               currentSubtotalPriceSet { shopMoney { amount currencyCode } }
               customer { id numberOfOrders }
               lineItems(first: 5) { nodes { title quantity } } } }"""
    assert gql(query).json()["data"]["order"] == {
        "name": "#6001", "email": "ada@example.com", "displayFinancialStatus": "PAID",
        "currentSubtotalPriceSet": {"shopMoney": {"amount": "25.0", "currencyCode": "USD"}},
        "customer": {"id": "gid://shopify/Customer/42", "numberOfOrders": "1"},
        "lineItems": {"nodes": [{"title": "Mug", "quantity": 2}]}}


def test_discount_code_basic_create_keeps_every_restriction(gql, emulator, shop):
    body = gql(CREATE_DISCOUNT, {"input": _discount_input()}).json()
    payload = body["data"]["discountCodeBasicCreate"]
    assert payload["userErrors"] == []
    assert payload["codeDiscountNode"]["codeDiscount"] == {
        "title": "Reward 500 pts", "codes": {"nodes": [{"code": "LOYAL-7F3K9Q"}]}}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    discount = emulator.shop(shop).discount("loyal-7f3k9q")
    assert discount.gid == payload["codeDiscountNode"]["id"]
    assert discount.customer_ids == [CUSTOMER]
    assert discount.value == {"amount": "5.00", "appliesOnEachItem": False}
    assert (discount.usage_limit, discount.applies_once_per_customer) == (1, True)
    assert discount.minimum_subtotal == "20.00"
    assert discount.combines_with == {"orderDiscounts": False, "productDiscounts": False,
                                      "shippingDiscounts": True}


def test_a_duplicate_discount_code_is_a_taken_user_error_whatever_its_case(gql, emulator, shop):
    gql(CREATE_DISCOUNT, {"input": _discount_input()})
    payload = gql(CREATE_DISCOUNT, {"input": _discount_input(code="loyal-7f3k9q")}
                  ).json()["data"]["discountCodeBasicCreate"]
    assert payload == {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount", "code"], "code": "TAKEN",
         "message": "Code must be unique. Please try a different code."}]}
    assert len(emulator.shop(shop).discounts) == 1


def test_a_percentage_above_one_is_out_of_range(gql):
    value = {"percentage": 10, "discountAmount": None}
    payload = gql(CREATE_DISCOUNT, {"input": _discount_input(
        customerGets={"value": value, "items": {"all": True}})}
    ).json()["data"]["discountCodeBasicCreate"]
    assert payload["userErrors"] == [{
        "field": ["basicCodeDiscount", "customerGets", "value", "percentage"],
        "code": "VALUE_OUTSIDE_RANGE", "message": "Value must be between 0.0 and 1.0"}]


def test_a_rejected_selection_creates_nothing(gql, emulator, shop):
    query = CREATE_DISCOUNT.replace("userErrors { field code message }",
                                    "userErrors { field code message hint }")
    body = gql(query, {"input": _discount_input()}).json()
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"
    assert emulator.shop(shop).discounts == {}


def test_free_shipping_discounts_are_created_too(gql, emulator, shop):
    query = """mutation($input: DiscountCodeFreeShippingInput!) {
      discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {
        codeDiscountNode { id } userErrors { field code message } } }"""
    data = {"title": "Free shipping reward", "code": "SHIPFREE-1", "startsAt": None,
            "context": {"customers": {"add": [CUSTOMER]}}, "usageLimit": 1}
    payload = gql(query, {"input": data}).json()["data"]["discountCodeFreeShippingCreate"]
    assert payload["userErrors"] == []
    assert emulator.shop(shop).discount("SHIPFREE-1").kind == "free_shipping"


def test_code_discount_node_by_code_finds_a_created_discount(gql):
    gql(CREATE_DISCOUNT, {"input": _discount_input()})
    data = gql('{ codeDiscountNodeByCode(code: "LOYAL-7F3K9Q") { codeDiscount { '
               '... on DiscountCodeBasic { usageLimit appliesOncePerCustomer } } } }'
               ).json()["data"]
    assert data == {"codeDiscountNodeByCode": {"codeDiscount": {
        "usageLimit": 1, "appliesOncePerCustomer": True}}}


def test_metafields_set_resolves_the_app_namespace_and_stores_the_value(gql, emulator, shop):
    body = gql(SET_METAFIELDS, {"metafields": [
        {"ownerId": CUSTOMER, "namespace": "$app", "key": "points", "type": "number_integer",
         "value": "1250"}]}).json()
    [stored] = body["data"]["metafieldsSet"]["metafields"]
    assert body["data"]["metafieldsSet"]["userErrors"] == []
    namespace = f"app--{emulator.app_id}"
    assert (stored["namespace"], stored["key"], stored["value"]) == (namespace, "points", "1250")
    assert emulator.shop(shop).metafield(CUSTOMER, namespace, "points").value == "1250"
    read = gql('query($id: ID!) { customer(id: $id) { metafield(namespace: "$app", key: "points")'
               ' { value type } } }', {"id": CUSTOMER}).json()["data"]
    assert read == {"customer": None}  # unknown customer: the metafield is still stored


def test_metafields_set_is_all_or_nothing_with_an_error_per_bad_input(gql, emulator, shop):
    installation = emulator.shop(shop).installation_gid
    payload = gql(SET_METAFIELDS, {"metafields": [
        {"ownerId": installation, "key": "settings", "type": "json", "value": '{"a": 1}'},
        {"ownerId": CUSTOMER, "key": "p", "type": "number_integer", "value": "12"},
        {"ownerId": CUSTOMER, "key": "points", "type": "number_integer", "value": "twelve"},
    ]}).json()["data"]["metafieldsSet"]
    assert payload["metafields"] is None
    assert payload["userErrors"] == [
        {"field": ["metafields", "1", "key"], "code": "TOO_SHORT",
         "message": "Key is too short (minimum is 2 characters)", "elementIndex": None},
        {"field": ["metafields", "2", "value"], "code": "INVALID_VALUE",
         "message": "Value must be an integer.", "elementIndex": None}]
    assert emulator.shop(shop).metafields == {}


def test_metafields_set_refuses_a_stale_compare_digest(gql):
    first = gql(SET_METAFIELDS, {"metafields": [
        {"ownerId": CUSTOMER, "key": "points", "type": "number_integer", "value": "1"}]}).json()
    digest = first["data"]["metafieldsSet"]["metafields"][0]["compareDigest"]
    gql(SET_METAFIELDS, {"metafields": [
        {"ownerId": CUSTOMER, "key": "points", "type": "number_integer", "value": "2"}]})
    stale = gql(SET_METAFIELDS, {"metafields": [
        {"ownerId": CUSTOMER, "key": "points", "value": "3", "compareDigest": digest}]}
    ).json()["data"]["metafieldsSet"]
    assert [e["code"] for e in stale["userErrors"]] == ["STALE_OBJECT"]


def test_store_credit_needs_its_scope(gql, emulator, shop):
    token = emulator.issue_access_token(shop, scope="read_customers,write_discounts").access_token
    body = gql(CREDIT, {"id": CUSTOMER, "credit": {
        "creditAmount": {"amount": "5.00", "currencyCode": "USD"}}}, token=token).json()
    assert body["data"] == {"storeCreditAccountCredit": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["message"] == ("Access denied for storeCreditAccountCredit field. Required "
                                "access: `write_store_credit_account_transactions` access scope.")


def test_store_credit_accumulates_per_customer_and_currency(gql, emulator, shop):
    token = emulator.issue_access_token(
        shop, scope="read_customers,read_store_credit_accounts,"
                    "write_store_credit_account_transactions").access_token
    credit = {"creditAmount": {"amount": "5.00", "currencyCode": "USD"}}
    gql(CREDIT, {"id": CUSTOMER, "credit": credit}, token=token)
    payload = gql(CREDIT, {"id": CUSTOMER, "credit": credit}, token=token
                  ).json()["data"]["storeCreditAccountCredit"]
    assert payload["userErrors"] == []
    transaction = payload["storeCreditAccountTransaction"]
    assert transaction["amount"] == {"amount": "5.0", "currencyCode": "USD"}
    assert transaction["account"]["balance"] == {"amount": "10.0", "currencyCode": "USD"}
    assert emulator.shop(shop).store_credit_balance(CUSTOMER) == Decimal("10.00")


@pytest.mark.parametrize(("amount", "currency", "code"), [
    ("0", "USD", "NEGATIVE_OR_ZERO_AMOUNT"),
    ("-1.00", "USD", "NEGATIVE_OR_ZERO_AMOUNT"),
    ("5.00", "usd", "UNSUPPORTED_CURRENCY"),
])
def test_store_credit_refuses_bad_amounts(gql, emulator, shop, amount, currency, code):
    token = emulator.issue_access_token(
        shop, scope="write_store_credit_account_transactions").access_token
    payload = gql(CREDIT, {"id": CUSTOMER, "credit": {
        "creditAmount": {"amount": amount, "currencyCode": currency}}}, token=token
    ).json()["data"]["storeCreditAccountCredit"]
    assert payload["storeCreditAccountTransaction"] is None
    assert [e["code"] for e in payload["userErrors"]] == [code]
    assert emulator.shop(shop).store_credit == {}


def test_every_call_is_logged_with_its_operation_and_root_fields(gql, emulator, shop):
    gql(CREATE_DISCOUNT, {"input": _discount_input()})
    gql("{ shop { name } }", token="shpat_wrong")
    first, second = emulator.shop(shop).calls
    assert (first.operation_name, first.root_fields, first.status, first.outcome,
            first.requested_cost) == ("RedeemReward", ["discountCodeBasicCreate"], 200, "ok", 10)
    assert (second.status, second.outcome) == (401, "unauthorized")
    assert emulator.shop(shop).calls_to("discountCodeBasicCreate") == [first]


def test_the_state_endpoint_dumps_what_the_app_did(gql, http, emulator, shop):
    gql(CREATE_DISCOUNT, {"input": _discount_input()})
    state = http.get(f"{emulator.base_url}/_emulator/state/{shop}").json()
    assert [d["code"] for d in state["discounts"]] == ["LOYAL-7F3K9Q"]
    assert [c["operation_name"] for c in state["calls"]] == ["RedeemReward"]
    assert http.get(f"{emulator.base_url}/_emulator/shops").json() == [shop]


def test_discount_code_delete_removes_a_created_discount(gql, emulator, shop):
    node_id = gql(CREATE_DISCOUNT, {"input": _discount_input()}).json()[
        "data"]["discountCodeBasicCreate"]["codeDiscountNode"]["id"]
    query = "mutation($id: ID!) { discountCodeDelete(id: $id) { deletedCodeDiscountId " \
            "userErrors { code } } }"
    assert gql(query, {"id": node_id}).json()["data"]["discountCodeDelete"] == {
        "deletedCodeDiscountId": node_id, "userErrors": []}
    assert emulator.shop(shop).discounts == {}
    again = gql(query, {"id": node_id}).json()["data"]["discountCodeDelete"]
    assert again == {"deletedCodeDiscountId": None, "userErrors": [{"code": "INVALID"}]}


def test_a_customer_with_store_credit_is_answered_with_its_accounts(gql, emulator, shop):
    emulator.shop(shop).add_customer(115310627314723954, email="ada@example.com")
    token = emulator.issue_access_token(
        shop, scope="read_customers,read_store_credit_accounts,"
                    "write_store_credit_account_transactions").access_token
    gql(CREDIT, {"id": CUSTOMER, "credit": {
        "creditAmount": {"amount": "5.00", "currencyCode": "USD"}}}, token=token)
    query = """query C($id: ID!) { customer(id: $id) { id storeCreditAccounts(first: 5) {
      nodes { balance { amount } owner { id } } } } }"""
    response = gql(query, {"id": CUSTOMER}, token=token)
    assert response.status_code == 200
    [account] = response.json()["data"]["customer"]["storeCreditAccounts"]["nodes"]
    assert account == {"balance": {"amount": "5.0"}, "owner": {"id": CUSTOMER}}
