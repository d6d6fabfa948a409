"""The UI extensions build with the pinned Shopify CLI, offline, within size, and type-check."""

from __future__ import annotations

import subprocess

import pytest

from tests.extensions.checkout.harness import (
    BUILD_ERROR_MARKERS,
    EXTENSIONS,
    OUR_COMPRESSED_BUDGET,
    REPO_ROOT,
    SHOPIFY_COMPRESSED_LIMIT,
    AppSlot,
    Build,
    compressed_size,
    require_node_modules,
)


def test_shopify_app_build_succeeds_offline_without_reporting_errors(
        extension_build: Build) -> None:
    """The repository builds with no login and no network, and the CLI reports no error."""
    assert extension_build.returncode is not None, (
        "shopify app build hung:\n" + extension_build.output)
    errors = [line for line in extension_build.output.splitlines()
              if BUILD_ERROR_MARKERS.search(line)]
    assert (extension_build.returncode, errors) == (0, []), extension_build.output
    for handle in EXTENSIONS:
        assert f"{handle} successfully built" in extension_build.output
    print("build ran " + ("offline (unshare -n)" if extension_build.offline
                          else "with network: `unshare -n` is unavailable here"))


def test_bundles_call_the_app_url_given_at_build_time(extension_build: Build,
                                                      app_slot: AppSlot) -> None:
    """SHOPIFY_APP_URL is inlined: no `process.env` survives into the worker's bundle."""
    for handle in EXTENSIONS:
        script = extension_build.bundle(handle).read_text()
        assert f'"{app_slot.url}"' in script
        assert "process.env" not in script


@pytest.mark.parametrize("handle", sorted(EXTENSIONS))
def test_bundle_compresses_within_shopify_limit_and_our_budget(extension_build: Build,
                                                               handle: str) -> None:
    """Deflated bundles stay under Shopify's 64 KB and our 20 KB budget."""
    assert extension_build.returncode == 0, extension_build.output
    raw = extension_build.bundle(handle).read_bytes()
    compressed = compressed_size(raw)
    print(f"{handle}: {len(raw):,} bytes raw, {compressed:,} bytes deflated "
          f"({compressed / 1024:.1f} KB of {OUR_COMPRESSED_BUDGET // 1024} KB budget, "
          f"{SHOPIFY_COMPRESSED_LIMIT // 1024} KB Shopify limit)")
    assert compressed < SHOPIFY_COMPRESSED_LIMIT
    assert compressed < OUR_COMPRESSED_BUDGET


def test_typescript_typecheck_passes_against_each_extension_target() -> None:
    """`npm run typecheck`: the shared panel type-checks as a checkout and a customer-account UI."""
    require_node_modules()
    done = subprocess.run(["npm", "run", "--silent", "typecheck"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
