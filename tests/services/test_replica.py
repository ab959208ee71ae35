"""History pages read from DATABASE_REPLICA_URL when it is set: what a replica that lags shows, and a replica
connection that cannot write (PostgreSQL)."""
import os
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from app import clock, replica
from app.models import db
from app.services import Actor, access

ON_POSTGRES = "postgresql" in (os.environ.get("DATABASE_URL") or "")


def attempt(nir: str, name: str) -> access.AccessAttempt:
    return access.AccessAttempt(nir=nir, occurred_at=clock.now() - timedelta(minutes=5), professional_name=name,
                                profession="Médecin", organisation="Clinique du Parc", mode="normal",
                                section="Comptes rendus")


@pytest.fixture
def replica_url(app):
    def use(url):
        app.config["DATABASE_REPLICA_URL"] = url
    yield use
    app.config["DATABASE_REPLICA_URL"] = ""


@pytest.mark.skipif(ON_POSTGRES, reason="copies the SQLite file as a lagging replica")
def test_the_history_reads_the_replica_which_may_lag_a_moment(app, ctx, enrol, replica_url, tmp_path):
    holder = enrol(days_ago=50)
    access.record_access(attempt(holder.nir, "Dr Premier"), "api")
    db.session.commit()
    copy = tmp_path / "replica.db"
    primary = sqlite3.connect(db.engine.url.database)
    with sqlite3.connect(copy) as target:
        primary.backup(target)  # the replica, as it stood before the next access
    primary.close()
    access.record_access(attempt(holder.nir, "Dr Second"), "api")
    db.session.commit()
    me = Actor(holder.person_id, "web")
    assert access.history(me, holder.person_id).total == 2
    replica_url(f"sqlite:///{copy}")
    page = access.history(me, holder.person_id)
    assert page.total == 1 and page.lines[0].event.professional_name == "Dr Premier"
    assert replica.session() is not db.session


def test_without_a_replica_the_history_reads_the_primary(app, ctx):
    assert replica.session() is db.session


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's read-only transactions")
def test_a_replica_connection_reads_the_history_and_cannot_write(app, ctx, enrol, replica_url):
    holder = enrol(days_ago=50)
    access.record_access(attempt(holder.nir, "Dr Premier"), "api")
    db.session.commit()
    replica_url(os.environ["DATABASE_URL"])  # the primary itself, opened as a replica is
    page = access.history(Actor(holder.person_id, "web"), holder.person_id)
    assert page.total == 1
    with pytest.raises(DBAPIError, match="read-only transaction"):
        replica.session().execute(db.text("UPDATE access_event SET section = 'x'"))
    replica.close()
