"""What the connector counts and logs as it works: Prometheus counters, one log line per attempt.

No Flask: the delivery engine calls `attempts()` after recording a batch, the ingest
calls `events()` after a publish commits. Counters and the histogram live in this
process (prometheus-client's default registry, or its multiprocess files when
PROMETHEUS_MULTIPROC_DIR is set); the gauges are read from the database at scrape
time (see metrics.py).
"""

from __future__ import annotations

import logging
import re
from collections import Counter as Tally
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from .delivery.jobs import Job
    from .delivery.transport import AttemptResult

EVENTS = Counter("connector_events_ingested", "Events stored, counted once per trigger they were routed to", ["trigger"])
EVENTS_UNROUTED = Counter("connector_events_unrouted", "Events stored that belong to no trigger")
ATTEMPTS = Counter("connector_delivery_attempts", "Delivery attempts by outcome (succeeded, retry, failed, gone)", ["outcome"])
DELIVERIES = Counter(
    "connector_deliveries",
    "Deliveries that reached an outcome: succeeded, failed (retries exhausted) or gone (410, hook ended)",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "connector_delivery_attempt_duration_seconds",
    "How long one delivery attempt took, connection to response",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

# One JSON line per attempt when CONNECTOR_LOG_FORMAT=json (logs.py); INFO, so silent by default.
attempt_log = logging.getLogger("connector.attempts")


# A URL in an error text (a redirect's Location) keeps only its host: paths, queries and
# user info are where tokens travel.
_URL = re.compile(r"(https?://)(?:[^\s/@]*@)?([^\s/?#]*)\S*")


def events(answers: Iterable[Mapping[str, Any]]) -> None:
    """Count published events ({id, triggers, deliveries} answers) by trigger."""
    by_trigger: Tally[str] = Tally()
    unrouted = 0
    for answer in answers:
        by_trigger.update(answer["triggers"])
        unrouted += not answer["triggers"]
    for trigger, n in by_trigger.items():
        EVENTS.labels(trigger).inc(n)
    if unrouted:
        EVENTS_UNROUTED.inc(unrouted)


def attempts(results: Sequence[tuple[Job, AttemptResult]], outcomes: Sequence[str]) -> None:
    """Count, time and log a recorded batch of attempts, each with its outcome (succeeded, retry,
    failed, gone). Never raises into the engine."""
    try:
        _attempts(results, outcomes)
    except Exception:  # metrics and logs must not cost a delivery
        logging.getLogger(__name__).exception("observing %d attempts failed", len(results))


def _attempts(results: Sequence[tuple[Job, AttemptResult]], names: Sequence[str]) -> None:
    for name, n in Tally(names).items():
        ATTEMPTS.labels(name).inc(n)
        if name != "retry":
            DELIVERIES.labels(name).inc(n)
    observe = ATTEMPT_SECONDS.observe
    for _, result in results:
        observe(result.duration_ms / 1000)
    if attempt_log.isEnabledFor(logging.INFO):
        for (job, result), name in zip(results, names, strict=True):
            # Ids, numbers and the error text only: never the target URL (it may hold a token),
            # a signing secret, a header or the payload.
            attempt_log.info(
                "attempt %s %s",
                job.delivery_id,
                name,
                extra={
                    "delivery_id": job.delivery_id,
                    "hook_id": job.hook_id,
                    "attempt": job.attempts + 1,
                    "status": result.status_code,
                    "outcome": name,
                    "duration_ms": result.duration_ms,
                    "error": _URL.sub(r"\1\2/…", result.error) if result.error else None,
                },
            )
