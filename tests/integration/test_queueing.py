"""RQ on the real Redis: how the app puts jobs on it."""

from rq.job import Job

from app.pipeline.queueing import RETRY_INTERVALS, RedisQueue


def test_a_new_job_goes_on_the_queue_in_one_round_trip_with_its_retries(redis_url):
    queue = RedisQueue(redis_url)
    # The first job on a connection also asks the server its version (once per process).
    queue.enqueue_new("app.pipeline.jobs.process_event", 40, job_id="event-40")
    sent = []
    original = queue.redis.connection_pool.get_connection

    def counting(*args, **kwargs):
        sent.append(1)
        return original(*args, **kwargs)

    queue.redis.connection_pool.get_connection = counting
    queue.enqueue_new("app.pipeline.jobs.process_event", 41, job_id="event-41")
    queue.redis.connection_pool.get_connection = original
    assert len(sent) == 1
    rq_queue = queue.rq_queue("webhooks")
    assert rq_queue.job_ids == ["event-40", "event-41"]
    job = Job.fetch("event-41", connection=queue.redis)
    assert (job.func_name, job.args) == ("app.pipeline.jobs.process_event", (41,))
    assert job.retries_left == len(RETRY_INTERVALS)
    assert job.failure_ttl == 7 * 24 * 3600
    queue.redis.close()


def test_the_sweep_does_not_double_a_job_that_is_still_waiting(redis_url):
    queue = RedisQueue(redis_url)
    queue.enqueue_new("app.pipeline.jobs.process_event", 42, job_id="event-42")
    queue.enqueue("app.pipeline.jobs.process_event", 42, job_id="event-42")
    assert queue.rq_queue("webhooks").job_ids == ["event-42"]
    queue.redis.close()
