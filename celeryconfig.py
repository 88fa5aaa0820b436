"""Celery settings for every Ironworks process, read from ``IRONWORKS_*`` variables."""

from __future__ import annotations

from app.config import get_settings
from workers.queues import BROADCAST_QUEUE, DEFAULT_EXCHANGE, SHARED_QUEUE

_settings = get_settings()

broker_url = _settings.broker_url
if broker_url.startswith("redis://"):
    # kombu's Redis transport without its crash-prone restore on close (see the module).
    broker_transport = "workers.redis_transport:Transport"
broker_connection_retry_on_startup = True
# Redis redelivers an unacknowledged message after this long: longer than any task.
broker_transport_options = {"visibility_timeout": 3600}

task_queues = (SHARED_QUEUE, BROADCAST_QUEUE)
task_default_queue = SHARED_QUEUE.name
task_default_exchange = DEFAULT_EXCHANGE.name
task_default_exchange_type = DEFAULT_EXCHANGE.type
task_default_routing_key = SHARED_QUEUE.routing_key

# Nothing waits on results: state lives in the database, so keep no result backend.
task_ignore_result = True
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
# After a reconnect Celery would lower the prefetch count and raise it again from the ack
# callbacks; on RabbitMQ that basic.qos round trip, issued while acks of the lost connection
# fail, wedged the consumer (no delivery ever again). The prefetch is 1 per thread anyway.
worker_enable_prefetch_count_reduction = False
task_serializer = "json"
accept_content = ["json"]
# Task events cost every task three extra broker messages (8% of a 1,000-node lifecycle).
# Flower switches the workers' events on by itself while it runs (its --enable_events,
# on by default), so operators watching Flower still see every task; set
# IRONWORKS_TASK_EVENTS=true to have them always on (and "sent" events from the API).
worker_send_task_events = _settings.task_events
task_send_sent_event = _settings.task_events

# beat_schedule: derived from the periodic jobs' declarations by ``workers/beat.py``.
