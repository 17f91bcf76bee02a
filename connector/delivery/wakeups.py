"""Wake-ups across processes on PostgreSQL: LISTEN/NOTIFY on one channel.

Whoever makes deliveries due now (ingest without a local dispatcher, a retry, a
recovery, a shutdown giving work back, a reminder) sends `NOTIFY connector_due` in
the same transaction, so PostgreSQL delivers it at commit, and only then. Every
dispatcher process listens on its own connection and wakes at once; the periodic
poll stays as the safety net (a notification lost while a listener reconnects
costs at most one poll interval). SQLite needs none of this: its processes share a
machine, and a web process with its own dispatcher hands new work over directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "connector_due"


def supported(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def notify_due(source: Session | Connection) -> None:
    """Tell every listening dispatcher, at this transaction's commit, that work is due now."""
    conn = source.connection() if isinstance(source, Session) else source
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


class Listener:
    """A thread holding one LISTEN connection; calls `on_wake` for every notification.

    A lost connection is opened again after `retry_seconds`, for as long as the listener runs.
    """

    def __init__(self, url: URL, on_wake: Callable[[], None], retry_seconds: float = 1.0) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_wake = on_wake
        self._retry = retry_seconds
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="connector-listen", daemon=True)

    def start(self, timeout: float = 10.0) -> bool:
        """Start listening; True once the LISTEN is in place (within `timeout`)."""
        self._thread.start()
        return self._listening.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    self._on_wake()  # anything made due while we were not listening
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self._on_wake()
            except psycopg.Error as error:
                self._listening.clear()
                log.warning("listening for %s failed, again in %ss: %s", CHANNEL, self._retry, error)
                self._stopping.wait(self._retry)  # the back-off between reconnections
