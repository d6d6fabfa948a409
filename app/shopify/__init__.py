"""The Shopify platform: verification, OAuth and token exchange, Admin GraphQL; protocol code.

Nothing here knows a loyalty rule, and nothing here imports Flask.
"""
