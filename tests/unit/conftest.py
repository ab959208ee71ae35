"""Unit tests need neither the app nor the database.

The suite-wide autouse `_clean` fixture (tests/conftest.py) builds the app and empties every table after each
test. Here it is narrowed: a test that asks for the app (directly or through `ctx`, `enrol`...) still gets the
full clean; a pure rule test only gets the clock released, and runs in microseconds.
"""
import pytest

from app import clock


@pytest.fixture(autouse=True)
def _clean(request):
    uses_app = "app" in request.fixturenames
    yield
    clock.freeze(None)
    if uses_app:
        from app.models import db
        app = request.getfixturevalue("app")
        with app.app_context():
            db.session.rollback()
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
