"""The shop's past orders as one bulk query (its lines are read by app/loyalty/order_history).

The bulk query is a shorthand document (`{ orders … }`) because a bulk query takes no
variables: the window's first day is written into the `query` filter, a date and nothing else
(shopify.dev/docs/api/usage/search-syntax). tests/contracts/test_bulk_documents.py validates
the rendered document against Shopify's 2026-07 schema and the emulator's lines against it.
Only the last 60 days of orders are readable without `read_all_orders`
(shopify.dev/docs/api/admin-graphql/2026-07/objects/Order, the note on access). `sourceName`
is where the order was placed ("web", "pos", …), the REST payload's `source_name`, so the POS
earning switch applies to past orders as to live ones.
"""

from __future__ import annotations

from datetime import date

ORDER_HISTORY_BULK_DOCUMENT = """{
  orders(query: "created_at:>=%(since)s", sortKey: CREATED_AT) {
    edges {
      node {
        id name email createdAt processedAt updatedAt cancelledAt test
        displayFinancialStatus currencyCode taxesIncluded sourceName
        customer { id firstName lastName defaultEmailAddress { emailAddress } }
        subtotalPriceSet { shopMoney { amount } }
        totalPriceSet { shopMoney { amount } }
        totalTaxSet { shopMoney { amount } }
        totalShippingPriceSet { shopMoney { amount } }
        totalTipReceivedSet { shopMoney { amount } }
        totalRefundedSet { shopMoney { amount } }
        lineItems {
          edges { node { id isGiftCard discountedTotalSet { shopMoney { amount } } } }
        }
      }
    }
  }
}"""


def order_history_query(since: date) -> str:
    """The bulk query for orders created on or after `since` (a date, so nothing else can be
    written into the filter)."""
    return ORDER_HISTORY_BULK_DOCUMENT % {"since": since.isoformat()}
