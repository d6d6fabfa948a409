"""gunicorn settings for benchmarks: `gunicorn -c bench/gunicorn_conf.py wsgi:app`.

The served app is the production `wsgi:app`; each worker also gets one trivial route,
`GET /bench/trivial`, the ceiling that the webhook figures are compared with (same server,
same workers, no database and no Redis).
"""

import os
import time

# Server time per request in microseconds (%(D)s), when a benchmark asks for it.
accesslog = os.environ.get("BENCH_ACCESS_LOG") or None
access_log_format = "%(m)s %(U)s %(s)s %(D)s"
loglevel = "warning"
# cProfile every worker and write its stats on exit (for finding what dominates a path).
PROFILE_DIR = os.environ.get("BENCH_PROFILE_DIR")


def _trivial() -> str:
    """The ceiling: Flask routing and a response, nothing else."""
    return "ok"


def _hmac_and_push():  # noqa: ANN202 - a Flask view
    """Issue 9's reference point: HMAC over the raw body and one Redis push, nothing else.

    The webhook path does this plus a JSON syntax check, the inbox INSERT and an RQ job
    instead of a bare push; the ratio between the two is what the database and RQ cost.
    """
    import base64
    import hashlib
    import hmac

    from flask import current_app, request

    runtime = current_app.extensions["runtime"]
    body = request.get_data(cache=False)
    digest = base64.b64encode(hmac.new(runtime.settings.shopify_api_secret.encode(), body,
                                       hashlib.sha256).digest())
    if not hmac.compare_digest(digest, request.headers.get("X-Shopify-Hmac-Sha256", "").encode()):
        return "", 401
    runtime.queue.redis.rpush("bench:hmac-and-push", request.headers["X-Shopify-Webhook-Id"])
    return "", 200


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's worker object
    """Add the trivial and the reference routes to the worker's app before it serves."""
    worker.wsgi.add_url_rule("/bench/trivial", "bench_trivial", _trivial)
    worker.wsgi.add_url_rule("/bench/hmac-and-push", "bench_hmac_and_push", _hmac_and_push,
                             methods=["POST"])
    if PROFILE_DIR:
        import cProfile

        # CPU time, not wall time: waiting for PostgreSQL or Redis is not cost here.
        worker.bench_profile = cProfile.Profile(time.process_time)
        worker.bench_profile.enable()


def worker_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's objects
    """Save the worker's profile (BENCH_PROFILE_DIR/<pid>.prof) when profiling."""
    profile = getattr(worker, "bench_profile", None)
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.path.join(PROFILE_DIR, f"{os.getpid()}.prof"))
