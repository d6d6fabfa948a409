"""The leaky bucket: what a call costs, when it is throttled, and how the bucket refills."""

import pytest

from devstore import ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.devstore.conftest import SHOP, FakeClock

MUTATION = """mutation Points($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
  userErrors { code } } }"""


@pytest.fixture
def clock(emulator: ShopifyEmulator) -> FakeClock:
    """The emulator's clock, moved by the test."""
    fake = FakeClock()
    emulator.clock = fake
    return fake


def _set_points(gql, emulator):
    """A metafieldsSet call: a mutation costing 10."""
    owner = emulator.shop(SHOP).installation_gid
    return gql(MUTATION, {"m": [{"ownerId": owner, "key": "points", "type": "number_integer",
                                 "value": "1"}]})


def test_a_mutation_costs_ten_and_a_simple_query_one(gql, emulator, clock):
    emulator.set_throttle(SHOP, maximum_available=100, restore_rate=10)
    query_cost = gql("{ shop { name } }").json()["extensions"]["cost"]
    assert query_cost == {"requestedQueryCost": 1, "actualQueryCost": 1, "throttleStatus": {
        "maximumAvailable": 100.0, "currentlyAvailable": 99.0, "restoreRate": 10.0}}
    mutation_cost = _set_points(gql, emulator).json()["extensions"]["cost"]
    assert mutation_cost["requestedQueryCost"] == 10
    assert mutation_cost["throttleStatus"]["currentlyAvailable"] == 89.0


def test_a_connection_costs_two_plus_first_times_its_nodes(gql, emulator, clock):
    emulator.shop(SHOP).add_customer(7)
    body = gql('{ customer(id: "gid://shopify/Customer/7") { metafields(first: 5) { '
               'nodes { key } } } }').json()
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 2 + 5 * 1


def test_a_call_the_bucket_cannot_pay_for_is_throttled_with_http_200(gql, emulator, clock):
    emulator.set_throttle(SHOP, maximum_available=20, restore_rate=1, currently_available=15)
    assert _set_points(gql, emulator).json()["extensions"]["cost"]["throttleStatus"][
        "currentlyAvailable"] == 5.0
    throttled = _set_points(gql, emulator)
    assert throttled.status_code == 200
    assert throttled.json() == {
        "errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": None,
                                "throttleStatus": {"maximumAvailable": 20.0,
                                                   "currentlyAvailable": 5.0,
                                                   "restoreRate": 1.0}}}}
    assert len(emulator.shop(SHOP).metafields) == 1


def test_the_bucket_refills_at_the_restore_rate_by_wall_clock(gql, emulator, clock):
    emulator.set_throttle(SHOP, maximum_available=20, restore_rate=2, currently_available=0)
    clock.advance(4.5)
    assert _set_points(gql, emulator).json()["errors"][0]["message"] == "Throttled"
    clock.advance(0.5)
    recovered = _set_points(gql, emulator).json()
    assert recovered["data"]["metafieldsSet"]["userErrors"] == []
    assert recovered["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0.0


def test_the_bucket_never_holds_more_than_its_maximum(gql, emulator, clock):
    emulator.set_throttle(SHOP, maximum_available=50, restore_rate=100, currently_available=10)
    clock.advance(3600)
    status = gql("{ shop { name } }").json()["extensions"]["cost"]["throttleStatus"]
    assert status["currentlyAvailable"] == 49.0


def test_throttled_calls_are_logged_and_cost_nothing(gql, emulator, clock):
    emulator.set_throttle(SHOP, maximum_available=10, restore_rate=1, currently_available=9)
    _set_points(gql, emulator)
    _set_points(gql, emulator)
    calls = emulator.shop(SHOP).calls
    assert [c.outcome for c in calls] == ["throttled", "throttled"]
    assert emulator.shop(SHOP).bucket.currently_available == 9.0


@pytest.mark.parametrize(("plan", "bucket"), [
    ("Basic", (2000.0, 100.0)), ("Advanced", (4000.0, 200.0)),
    ("Shopify Plus", (20000.0, 1000.0)), ("Enterprise", (40000.0, 2000.0)),
])
def test_a_shop_starts_with_the_restore_rate_of_its_plan(plan, bucket):
    emu = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, "https://loyalty.test")
    state = emu.add_shop("plan.myshopify.com", plan=plan)
    assert (state.bucket.maximum_available, state.bucket.restore_rate) == bucket
    assert state.bucket.currently_available == bucket[0]
