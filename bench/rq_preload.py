"""`rq worker -c bench.rq_preload`: import the app's jobs in the worker before it forks.

RQ's default worker forks a work horse per job and imports the job's module there, so
without this every job pays for importing the whole app. Nothing connects here (each work
horse opens its own connections), and no setting is changed.
"""

# Imported for the side effect: loaded once (the topic registry and every rule with it),
# inherited by forks.
import app.pipeline.jobs  # noqa: F401
