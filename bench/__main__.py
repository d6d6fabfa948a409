"""`python -m bench [--quick] <benchmark>...`: run benchmarks, print tables, write JSON.

Benchmarks: ingest, processing, storefront, redemption, dashboard, effect, sizes, backfill,
import, or all.
"""

from __future__ import annotations

import argparse
import importlib
from datetime import UTC, datetime

from bench.report import machine, write_result

BENCHMARKS = ("ingest", "processing", "storefront", "redemption", "dashboard", "effect",
              "sizes", "backfill", "import")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen benchmarks in order."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="+", choices=(*BENCHMARKS, "all"))
    parser.add_argument("--quick", action="store_true",
                        help="small counts, to check that a benchmark runs (figures mean little)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    args = parser.parse_args(argv)
    names = BENCHMARKS if "all" in args.names else args.names
    for name in names:
        # `import` is a keyword: its module is bench/imports.py.
        module = importlib.import_module(f"bench.{'imports' if name == 'import' else name}")
        print(f"\n== {name} ==", flush=True)
        started, before = datetime.now(UTC), machine()
        options = {"quick": args.quick}
        if name in ("ingest", "storefront", "redemption"):
            options.update(workers=args.workers, worker_class=args.worker_class,
                           threads=args.threads)
        result = module.run(**options)
        result["options"] = {k: v for k, v in vars(args).items() if k != "names"}
        path = write_result(name + ("-quick" if args.quick else ""), result, started=started,
                            machine_before=before)
        print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
