"""Benchmarks: production-shaped runs of gunicorn, PostgreSQL, Redis and RQ on 127.0.0.1.

`python -m bench <name>` (or `make bench`) runs them; each prints a table and writes
bench/results/<name>.json with the machine's cores, its load and the exact command.
"""
