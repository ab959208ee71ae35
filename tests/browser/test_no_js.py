"""The portal needs no JavaScript: with it turned off in Chromium, a person identifies, changes an emergency
setting and gets the receipt, then filters the history by dates (the <details> opens without script)."""
import pytest

pytestmark = pytest.mark.browser


def test_emergency_setting_and_history_with_javascript_off(open_walk, people):
    holder = people.enrol(days_ago=60)
    people.history_of(holder, 3)
    walk = open_walk("fr", java_script_enabled=False, viewport={"width": 360, "height": 740})

    walk.go("/")
    walk.click("main a[href='/identify?next=emergency']").at("/identify")
    for field, value in holder.form().items():
        walk.page.locator(f"#{field}").fill(value)
    walk.click("main form button").at("/emergency")
    walk.sees("a[href='/emergency/samu/off']")
    walk.click("a[href='/emergency/samu/off']").at("/emergency/samu/off")
    walk.click("main form button").has_receipt()
    assert "SAMU" in walk.page.locator("main").inner_text()

    walk.go("/emergency").sees("a[href='/emergency/samu/on']", 1)    # the change holds

    walk.go("/history").sees(".entry", 3)
    walk.page.locator("details.filter summary").click()              # opens without script
    walk.page.locator("#from").fill("xx")
    walk.click("details.filter button").has_errors(fields=1)
    walk.page.locator("#from").fill("01/01/2000")
    walk.click("details.filter button").sees(".entry", 3)
    assert "from=01%2F01%2F2000" in walk.page.url or "from=01/01/2000" in walk.page.url, walk.page.url

    walk.click("header form button").at("/signed-out")
    assert not walk.server_errors
