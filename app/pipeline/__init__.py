"""What happens to a webhook, a daily round or a due message, from storage to side effects.

The only package that combines loyalty, engagement, messaging and Shopify, and the only one
that enqueues jobs:

- `inbox`: store each delivery once, find what no worker has applied.
- `topics`: the topic registry, each subscribed webhook topic once with its handler.
- `jobs`: the RQ entry points; each takes first the runtime that performs it (its worker's, its
  inline queue's, a command's).
- `enqueue`: typed job requests (each job's name and id in one place) and the one
  after-commit collector.
- `queueing`: the job queues (RQ on Redis, inline without Redis).
- `runtime`: settings, database and queue of one app or worker process.
- `rq_worker`: the RQ worker class the deployment runs.
- `member_sync`: balance and tier mirrored into customer metafields.
"""
