"""Reads that may lag the primary by a moment, from a read replica: the history pages (DATABASE_REPLICA_URL).

A history page is the heaviest read of the service (a count, a page of lines, the blocks and reports of
those lines) and the most frequent page after the home page; an access recorded a second ago may show a
second later. Everything else — the session, the mandate a representative acts under, every write and the
reads that decide one — stays on the primary. Without DATABASE_REPLICA_URL the replica is the primary.

On PostgreSQL the replica's connections are opened read-only (`default_transaction_read_only`), so a write
sent there by mistake fails instead of going to a copy.
"""
from flask import current_app, g
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from .models import db

_engines: dict[str, object] = {}


def _engine(url: str):
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if url not in _engines:
        options = {"connect_args": {"options": "-c default_transaction_read_only=on"}} \
            if url.startswith("postgresql") else {}
        _engines[url] = create_engine(url, pool_pre_ping=True, **options)
    return _engines[url]


def session() -> Session:
    """The session history pages read with: the replica's, one per application context, else the primary's."""
    url = current_app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return db.session
    if "replica_session" not in g:
        g.replica_session = Session(_engine(url), autoflush=False, expire_on_commit=False)
    return g.replica_session


def close(_exc=None) -> None:
    replica = g.pop("replica_session", None)
    if replica is not None:
        replica.close()
