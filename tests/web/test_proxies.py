"""Behind a load balancer, limits per client apply to each browser's address, not to the balancer's."""
from app import create_app
from app.models import Throttle, db
from app.services import identity
from tests.conftest import TEST_CONFIG, User


def test_failures_count_per_forwarded_address_behind_a_trusted_proxy(app, enrol):
    behind = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "TRUSTED_PROXIES": 1})
    holder = enrol(days_ago=10)
    for browser in ("198.51.100.1", "198.51.100.2"):
        u = User(behind.test_client(), "en")
        u.client.environ_base.update(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=browser)
        u.submit(u.get("/identify"), {**holder.form(), "vitale_serial": "80000000000"})
    with app.app_context():
        for browser in ("198.51.100.1", "198.51.100.2"):
            assert db.session.get(Throttle, identity._keys(holder.nir, browser)[1]).failures == 1
        assert db.session.get(Throttle, identity._keys(holder.nir, "10.0.0.1")[1]) is None


def test_without_trusted_proxies_a_forwarded_header_is_ignored(app, enrol):
    holder = enrol(days_ago=10)
    u = User(app.test_client(), "en")
    u.client.environ_base.update(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7")
    u.submit(u.get("/identify"), {**holder.form(), "vitale_serial": "80000000000"})
    with app.app_context():
        assert db.session.get(Throttle, identity._keys(holder.nir, "203.0.113.9")[1]).failures == 1
        assert db.session.get(Throttle, identity._keys(holder.nir, "198.51.100.7")[1]) is None
