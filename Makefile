# Two commands do all set-up on a fresh machine:  `make demo`  and  `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean bench faults

NODE_STAMP := node_modules/.installed

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# The Shopify CLI (app build, theme check) and the UI extensions' packages.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Browser tests drive Debian's Chromium; never a downloaded browser.
/usr/bin/chromium:
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "chromium could not be installed: browser tests will skip (or fail in CI)"

venv: $(STAMP)

## The app's main job on embedded defaults: SQLite, jobs inline, the local Shopify emulator.
## The thank-you bundle bakes in the app URL at build time: build it for the demo's address.
demo: $(STAMP) $(NODE_STAMP)
	SHOPIFY_APP_URL=http://127.0.0.1:$${PORT:-8000} SHOPIFY_CLI_NO_ANALYTICS=1 \
	  npm run build --silent >/dev/null
	$(BIN)/python -m devstore.demo

## The whole test suite (PostgreSQL and Redis tests skip outside CI when unreachable).
test: $(STAMP) $(NODE_STAMP) /usr/bin/chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## Benchmarks, on demand (not in CI): gunicorn, PostgreSQL, Redis and RQ workers on 127.0.0.1.
## Tables on stdout, JSON in bench/results/. BENCH_DATABASE_URL (default the `bench` database;
## the first run seeds 1,000,000 members into it, a few minutes) and BENCH_REDIS_URL (default
## Redis db 7). `python -m bench --quick <name>` checks one quickly.
bench: $(STAMP)
	$(BIN)/python -m bench all

## Every fault case, the slow ones too (their own PostgreSQL cluster, RQ's heartbeat expiry);
## the quick ones also run in `make test`.
faults: $(STAMP)
	FAULTS=all $(BIN)/python -m pytest tests/faults

clean:
	rm -rf $(VENV) instance .pytest_cache
