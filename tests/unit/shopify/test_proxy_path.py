"""Which storefront proxy paths the app accepts from `path_prefix` (Shopify's own rules)."""

import pytest

from app.shopify.proxy_path import storefront_proxy_path


@pytest.mark.parametrize("path", ["/apps/loyalty", "/a/rewards", "/community/club_1",
                                  "/tools/points-2", "/apps/" + "x" * 30])
def test_a_path_a_merchant_can_choose_is_accepted(path):
    assert storefront_proxy_path(path) == path


@pytest.mark.parametrize("path", [
    None, 42, "", "/", "apps/loyalty", "/apps/loyalty/", "/apps", "/shop/loyalty",
    "/apps/loyalty/member", "/apps/" + "x" * 31, "/apps/admin", "/a/Login", "/apps/pass word",
    "/apps/réwards", "//evil.example/x", "/apps/loyalty?x=1", "/APPS/loyalty"])
def test_anything_else_is_not_a_proxy_path(path):
    assert storefront_proxy_path(path) is None
