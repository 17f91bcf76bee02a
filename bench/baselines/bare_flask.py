"""Baseline for ingest: a bare Flask app doing one INSERT into SQLite (WAL) per request.

Served the same way as the connector in the benchmark (gunicorn sync workers):
`BARE_DB=/tmp/bare.sqlite gunicorn -w 4 bench.baselines.bare_flask:app`.
"""

import json
import os
import sqlite3
import threading

from flask import Flask, request

app = Flask(__name__)
_local = threading.local()


def db() -> sqlite3.Connection:
    if not hasattr(_local, "conn"):
        conn = sqlite3.connect(os.environ.get("BARE_DB", "/tmp/bare.sqlite"), timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        _local.conn = conn
    return _local.conn


@app.post("/api/v1/events")
def ingest():
    body = request.get_json()
    conn = db()
    cur = conn.execute("INSERT INTO events (body) VALUES (?)", (json.dumps(body),))
    conn.commit()
    return {"id": cur.lastrowid}, 202
