"""The floor of a recorded decision: a bare Flask app that takes the same POST and writes it as one row.

bench/decision_api.py serves it beside hello and Relais under the same gunicorn. It does the least any design of
`POST /api/v1/access-events` must do: check the bearer key, parse the JSON body, write one row to PostgreSQL (one
INSERT … RETURNING in autocommit: a single round trip, prepared after its first uses by psycopg) and answer 201
with JSON. No validation, no look-up of the person, no decision, no audit entry, no message. Whatever it reaches
against hello bounds what the decision API can reach on the same machine.
"""
import hmac
import os

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)
KEY = os.environ.get("OPERATOR_API_KEY", "")
URL = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
TABLE = "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, event_key text UNIQUE, body text)"
_connection = None


def _db():
    global _connection  # one connection a process, opened after gunicorn forked it
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(URL, autocommit=True)
        _connection.execute(TABLE)
    return _connection


@app.post("/api/v1/access-events")
def record():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not (KEY and scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), KEY.encode())):
        return jsonify(error="unauthorized"), 401
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="invalid"), 400
    row = _db().execute("INSERT INTO bench_floor (event_key, body) VALUES (%s, %s) RETURNING id",
                        (str(data.get("event_id")), request.get_data(as_text=True))).fetchone()
    return jsonify(event_id=data.get("event_id"), id=row[0], decision="granted"), 201
