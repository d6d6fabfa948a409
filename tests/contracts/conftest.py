"""Shopify's Admin schema for the contract tests: skipped on a machine without `npm ci`, a
failure in CI (the schema ships in the @shopify/dev-mcp devDependency)."""

from __future__ import annotations

import pytest

from tests.conftest import SERVICES_REQUIRED
from tests.contracts.admin_schema import SCHEMA_DIR, SCHEMA_PACKAGE, AdminSchema, admin_schema


@pytest.fixture(scope="session")
def admin() -> AdminSchema:
    """The Admin schema at the version app.config pins (see admin_schema.schema_version)."""
    if not any(SCHEMA_DIR.glob("admin_*.json.gz")):
        message = f"{SCHEMA_PACKAGE} is not installed: run `npm ci` at the repository root"
        if SERVICES_REQUIRED:
            pytest.fail(message + " (CI/REQUIRE_SERVICES is set)", pytrace=False)
        pytest.skip(message)
    return admin_schema()
