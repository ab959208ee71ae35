"""The supervisors' picture of the service (issue 14): counts a day as server-rendered SVG, queue sizes; no person."""
from datetime import timedelta

from app import clock
from app.services import Actor, commands, dashboard


def test_the_dashboard_counts_a_day_and_what_waits_for_supervisors_only(app, member, enrol):
    holders = [enrol(days_ago=10, language="en", given_name="Zéphirine", family_name=f"Anonyme{i}") for i in range(3)]
    with app.app_context():
        for h in holders[:2]:
            commands.dispatch(commands.Oppose(), Actor(h.person_id, "web"), h.person_id, f"dash:{h.person_id}")
        charts = {c.name: c for c in dashboard.charts()}
        spaces = {s.name: s.counts for s in charts["spaces"].series}
        assert spaces["opposed"][-1] == 2 and sum(spaces["opposed"]) == 2 and sum(spaces["closed"]) == 0
        assert len(spaces["opposed"]) == dashboard.DAYS and charts["spaces"].days[-1] == clock.today()
    boss = member("supervisor")
    boss.sign_in()
    page = boss.get("/desk/dashboard")
    assert page.h1 == "The service, in pictures"
    assert len(page.soup.select("main svg")) == 3 and len(page.soup.select("main svg rect")) == 14 * 7
    assert "Zéphirine" not in page.html and "Anonyme" not in page.html
    table = page.soup.select_one("#chart-spaces-table")
    assert table.select("tbody tr")[-1].select("td")[0].get_text() == "2"
    agent = member("agent")
    agent.sign_in()
    assert agent.get("/desk/dashboard").status == 403
    assert "/desk/dashboard" not in agent.get("/desk/").html


def test_a_day_is_a_day_of_paris(app):
    with app.app_context():
        clock.freeze(clock.now().replace(hour=23, minute=30))  # 00:30 or 01:30 the next day in Paris
        try:
            days = dashboard.charts()[0].days
            assert days[-1] == clock.today() and days[0] == clock.today() - timedelta(days=dashboard.DAYS - 1)
        finally:
            clock.freeze(None)


def test_the_dashboard_renders_with_the_demo_data_for_the_demo_supervisor(app):
    import pyotp

    from app.demo import STAFF
    from tests.conftest import User
    with app.app_context():
        from app.demo import load
        load()
    email, _role, _name, passphrase, secret = next(s for s in STAFF if s[1] == "supervisor")
    u = User(app.test_client(), "fr")
    page = u.get("/desk/sign-in")
    u.submit(page, {"email": email, "passphrase": passphrase, "code": pyotp.TOTP(secret).now()})
    dashboard_page = u.get("/desk/dashboard")
    assert dashboard_page.h1 == "Le service en images" and len(dashboard_page.soup.select("main svg")) == 3
    closed = dashboard_page.soup.select_one("#chart-spaces-table tbody tr:last-child td:nth-of-type(2)")
    assert closed.get_text() == "1"  # Sophie closed her space today, in the demo
    assert "Sophie" not in dashboard_page.html and "Durand" not in dashboard_page.html
