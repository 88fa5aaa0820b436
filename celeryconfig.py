"""Celery settings for every Ironworks process, read from ``IRONWORKS_*`` variables."""

from __future__ import annotations

from app.config import get_settings
from workers.queues import BROADCAST_OPTIONS, BROADCAST_QUEUE, DEFAULT_EXCHANGE, SHARED_QUEUE

_settings = get_settings()

broker_url = _settings.broker_url
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
task_serializer = "json"
accept_content = ["json"]
# Flower and `celery events` see tasks without a restart.
worker_send_task_events = True
task_send_sent_event = True

beat_schedule = {
    "conductor-heartbeat": {
        "task": "ironworks.heartbeat",
        "schedule": _settings.heartbeat_interval,
        # A heartbeat older than one interval is worthless; never deliver it late.
        "options": {**BROADCAST_OPTIONS, "expires": _settings.heartbeat_interval},
    },
    # On the shared queue: exactly one conductor looks for dead ones each time.
    "conductor-takeover": {
        "task": "ironworks.periodic.takeover",
        "schedule": _settings.heartbeat_interval,
        "options": {"queue": SHARED_QUEUE.name, "expires": _settings.heartbeat_interval * 2},
    },
    "conductor-sync-power-states": {
        "task": "ironworks.periodic.sync_power_states",
        "schedule": _settings.sync_power_state_interval,
        "options": {**BROADCAST_OPTIONS, "expires": _settings.sync_power_state_interval},
    },
    "conductor-provision-timeouts": {
        "task": "ironworks.periodic.provision_timeouts",
        "schedule": _settings.check_provision_state_interval,
        "options": {**BROADCAST_OPTIONS, "expires": _settings.check_provision_state_interval},
    },
}
