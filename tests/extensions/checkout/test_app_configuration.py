"""shopify.app.toml and the shopify.web.toml files say what the app and design.md rely on."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

from app.config import API_VERSION, DEV_API_KEY
from tests.extensions.checkout.harness import REPO_ROOT


def read_toml(relative: str) -> dict[str, Any]:
    """A TOML file of the repository, parsed."""
    return tomllib.loads((REPO_ROOT / relative).read_text())


def test_app_config_names_the_app_and_its_development_client_id() -> None:
    """The dev key from app/config.py until `shopify app config link` sets the real one."""
    config = read_toml("shopify.app.toml")
    assert (config["client_id"], config["name"], config["embedded"]) == (
        DEV_API_KEY, "Loyalty Loop", True)
    assert config["auth"]["redirect_urls"] == [config["application_url"] + "/auth/callback"]


def test_scopes_cover_orders_customers_discounts_proxy_and_store_credit() -> None:
    """Exactly the scopes the features need: no more (App Store review), no fewer
    (read_all_orders: the order history backfill past 60 days)."""
    scopes = read_toml("shopify.app.toml")["access_scopes"]["scopes"].split(",")
    assert scopes == ["read_orders", "read_all_orders", "read_customers", "write_customers",
                      "write_discounts", "write_app_proxy",
                      "write_store_credit_account_transactions", "read_store_credit_accounts"]


def test_webhooks_use_the_app_api_version_and_one_route_for_every_topic() -> None:
    """Declared topics and compliance topics all land on POST /webhooks."""
    webhooks = read_toml("shopify.app.toml")["webhooks"]
    assert webhooks["api_version"] == API_VERSION
    from app.pipeline.topics import HANDLERS

    topics, compliance = webhooks["subscriptions"]
    assert topics["uri"] == compliance["uri"] == "/webhooks"
    assert compliance["compliance_topics"] == [
        "customers/data_request", "customers/redact", "shop/redact"]
    # Every subscribed topic has a handler, and every handler's topic is subscribed.
    assert sorted(topics["topics"] + compliance["compliance_topics"]) == sorted(HANDLERS)


def test_the_build_section_carries_only_what_the_current_cli_accepts() -> None:
    """Shopify CLI 3.94 drops `include_config_on_deploy` (configuration always deploys)."""
    build = read_toml("shopify.app.toml")["build"]
    assert build == {"automatically_update_urls_on_dev": True}


def test_the_extensions_never_query_the_storefront_api() -> None:
    """No `shopify.query` (the Storefront API that api_access would grant) in any source."""
    sources = [path for folder in ("thank-you", "order-status", "loyalty-ui", "account-page",
                                   "account-profile", "checkout-rewards")
               for path in (REPO_ROOT / "extensions" / folder / "src").rglob("*.ts*")]
    assert sources
    for path in sources:
        assert ".query(" not in path.read_text(), path


def test_app_proxy_forwards_apps_loyalty_to_the_proxy_blueprint() -> None:
    """https://{shop}/apps/loyalty/* reaches /proxy/* (design.md §4)."""
    assert read_toml("shopify.app.toml")["app_proxy"] == {
        "url": "/proxy", "prefix": "apps", "subpath": "loyalty"}


def test_web_process_serves_frontend_backend_and_webhooks_with_python() -> None:
    """The Flask process runs wsgi.py from the venv, which reads PORT itself."""
    web = read_toml("shopify.web.toml")
    assert (web["roles"], web["webhooks_path"]) == (["frontend", "backend"], "/webhooks")
    assert shlex.split(web["commands"]["dev"]) == [".venv/bin/python", "wsgi.py"]


def test_worker_runs_as_a_background_web_through_its_dev_entry() -> None:
    """The second web is the RQ worker, started by worker/dev_worker.py."""
    worker = read_toml("worker/shopify.web.toml")
    assert worker["roles"] == ["background"]
    assert shlex.split(worker["commands"]["dev"]) == ["../.venv/bin/python", "dev_worker.py"]


def test_dev_commands_need_no_shell_and_name_files_that_exist() -> None:
    """The CLI splits commands on spaces and runs them without a shell, in the toml's folder."""
    for relative in ("shopify.web.toml", "worker/shopify.web.toml"):
        folder = (REPO_ROOT / relative).parent
        command = read_toml(relative)["commands"]["dev"]
        assert not set("$|;<>`'\"&*") & set(command), command
        program, script = command.split(" ")
        assert Path(folder, script).is_file()
        assert Path(folder, program).exists()


def test_ui_extensions_target_thank_you_and_order_status_with_network_access_only() -> None:
    """Both blocks call our API (network_access); neither queries the Storefront API, so
    neither asks for api_access (https://shopify.dev/docs/apps/build/checkout/capabilities)."""
    targets = {}
    for folder in ("thank-you", "order-status"):
        config = read_toml(f"extensions/{folder}/shopify.extension.toml")
        (extension,) = config["extensions"]
        assert extension["type"] == "ui_extension"
        assert extension["capabilities"] == {"network_access": True}
        (targeting,) = extension["targeting"]
        assert Path(REPO_ROOT, "extensions", folder, targeting["module"]).is_file()
        targets[extension["handle"]] = (config["api_version"], targeting["target"])
    assert targets == {
        "loyalty-thank-you": ("2026-07", "purchase.thank-you.block.render"),
        "loyalty-order-status": ("2026-07", "customer-account.order-status.block.render"),
    }


def test_extension_api_version_matches_the_pinned_ui_extensions_package() -> None:
    """@shopify/ui-extensions 2026.7.x carries the types of API version 2026-07."""
    package = json.loads((REPO_ROOT / "package-lock.json").read_text())["packages"]
    year, month, _ = package["node_modules/@shopify/ui-extensions"]["version"].split(".")
    for folder in ("thank-you", "order-status", "account-page", "account-profile",
                   "checkout-rewards"):
        config = read_toml(f"extensions/{folder}/shopify.extension.toml")
        assert config["api_version"] == f"{year}-{int(month):02d}"


def test_customer_account_extensions_are_a_full_page_and_a_profile_block_linking_to_it() -> None:
    """A full-page target shares its extension with no other target, so the page and the
    block are two extensions; both call our API only (network_access)
    (https://shopify.dev/docs/api/customer-account-ui-extensions/latest/targets/full-page)."""
    targets = {}
    for folder in ("account-page", "account-profile"):
        config = read_toml(f"extensions/{folder}/shopify.extension.toml")
        (extension,) = config["extensions"]
        assert extension["type"] == "ui_extension"
        assert extension["capabilities"] == {"network_access": True}
        (targeting,) = extension["targeting"]
        assert Path(REPO_ROOT, "extensions", folder, targeting["module"]).is_file()
        targets[extension["handle"]] = targeting["target"]
    assert targets == {"loyalty-account": "customer-account.page.render",
                       "loyalty-account-profile": "customer-account.profile.block.render"}
    block = (REPO_ROOT / "extensions/account-profile/src/ProfileBlock.tsx").read_text()
    assert "'extension://loyalty-account'" in block


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Every dotted key of a locale file."""
    keys: set[str] = set()
    for name, value in tree.items():
        keys |= _keys(value, f"{prefix}{name}.") if isinstance(value, dict) else {prefix + name}
    return keys


def test_every_customer_account_sentence_is_in_english_and_french() -> None:
    """Each `t('key')` the sources use is in en.default.json, and fr.json has the same keys
    with the same {{placeholders}}."""
    for folder in ("account-page", "account-profile", "checkout-rewards"):
        locales = REPO_ROOT / "extensions" / folder / "locales"
        english = json.loads((locales / "en.default.json").read_text())
        french = json.loads((locales / "fr.json").read_text())
        assert _keys(english) == _keys(french), folder
        source = "".join(p.read_text() for p in (REPO_ROOT / "extensions" / folder / "src")
                         .rglob("*.tsx"))
        used = set(re.findall(r"\bt\(\s*'([a-z_.]+)'", source))
        used |= set(re.findall(r"'([a-z_]+\.[a-z_.]+)'", source))
        assert used and used <= _keys(english), used - _keys(english)
        for key in _keys(english):
            english_text, french_text = (
                _lookup(english, key), _lookup(french, key))
            assert (sorted(re.findall(r"\{\{(\w+)\}\}", english_text))
                    == sorted(re.findall(r"\{\{(\w+)\}\}", french_text))), key


def _lookup(tree: dict[str, Any], key: str) -> str:
    node: Any = tree
    for part in key.split("."):
        node = node[part]
    return node


def test_flow_actions_post_to_the_apps_own_routes_and_every_trigger_is_one_the_app_sends() -> None:
    """runtime_url is on application_url and names a route of app/web/flow_actions.py; each
    flow_trigger extension is a handle app/loyalty/flow_triggers.py sends
    (https://shopify.dev/docs/apps/build/flow/actions/reference)."""
    from app.loyalty.flow_triggers import TRIGGER_FIELDS
    from app.web.flow_actions import ACTIONS

    app_url = read_toml("shopify.app.toml")["application_url"]
    kinds: dict[str, set[str]] = {"flow_trigger": set(), "flow_action": set()}
    for path in sorted((REPO_ROOT / "extensions").glob("flow-*/shopify.extension.toml")):
        (extension,) = tomllib.loads(path.read_text())["extensions"]
        kinds[extension["type"]].add(extension["handle"])
        assert len(extension["handle"]) <= 30
        if extension["type"] == "flow_action":
            prefix = f"{app_url}/flow/actions/"
            assert extension["runtime_url"].startswith(prefix)
            assert ACTIONS[extension["runtime_url"][len(prefix):]] == extension["handle"]
    assert kinds["flow_trigger"] == set(TRIGGER_FIELDS)
    assert kinds["flow_action"] == set(ACTIONS.values())
