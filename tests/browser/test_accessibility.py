"""QUALITY §2 in real Chromium: axe-core finds 0 violations (WCAG 2.2 AA tags) on every page of every flow,
both languages, error states included, and no page scrolls sideways at 320 CSS px."""
import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


class Walk:
    """Goes through the portal like a person, checking each page it lands on."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self):
        page = self.page
        url = page.url.removeprefix(self.base)
        results = AXE.run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
        for v in results.response["violations"]:
            targets = "; ".join(",".join(n["target"]) for n in v["nodes"][:5])
            self.problems.append(f"{url}: {v['id']} ({v['impact']}): {v['help']} -> {targets}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            self.problems.append(f"{url}: scrolls sideways at 320 px ({width} px wide)")
        if page.locator("h1").count() != 1:
            self.problems.append(f"{url}: {page.locator('h1').count()} h1")
        self.checked.append(url)

    def go(self, path: str):
        response = self.page.goto(self.base + path)
        assert response.status < 500, path
        self.check()

    def click(self, selector: str):
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.check()

    def fill(self, values: dict):
        for field, value in values.items():
            self.page.fill(f"#{field}", value)

    def submit(self, values: dict | None = None, button: str = "main form button"):
        self.fill(values or {})
        self.click(button)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_has_no_axe_violation_and_reflows_at_320px(browser, live_server, enrol, history_of, lang):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    w = Walk(context.new_page(), live_server)

    # public pages and every error of identification
    for path in ("/", "/accessibility", "/identify", "/code/new", "/no-such-page", "/signed-out"):
        w.go(path)
    w.go("/identify")
    w.submit()                                                            # four empty fields
    w.submit({"nir": "80123456789", "vitale_serial": "240037511200567", "birth_date": "31/02/1950", "code": "ab"})
    w.go("/code/new")
    w.submit()
    w.go("/identify/sms")
    w.submit()
    w.submit({"nir": "240037511200567", "vitale_serial": "80123456789", "birth_date": "01/01/1950"})
    w.submit({"code": "12"})
    opp = enrol(days_ago=10)
    w.go("/identify")
    w.submit({**opp.form(), "code": "AAAA-AAAA-AAAA"})                    # the non-revealing failure
    other = enrol(days_ago=10)
    w.go("/code/new")
    w.submit({"nir": other.nir, "vitale_serial": other.vitale_serial, "birth_date": other.form()["birth_date"]})

    # opposition
    w.go("/identify?next=oppose")
    w.submit(opp.form())
    w.click("main form button.warning")                                  # receipt
    w.go("/space")
    w.go("/history/activity")

    # a space open for a while: too late to oppose, history, block, report, emergency, close, reopen
    late = enrol(days_ago=60)
    history_of(late)
    w.go("/identify?next=oppose")
    w.submit(late.form())                                                 # too late page
    w.go("/history")
    w.go("/history?page=2")
    w.go("/history?from=xx&to=01/01/2020")
    w.go("/history")
    w.click(".entry a[href$='/block']")
    w.click("main form button")                                          # block receipt
    w.go("/history")
    w.click(".entry a[href$='/report']")
    w.click("main form button")                                          # report receipt
    w.go("/history/blocked")
    w.click(".entry a[href*='unblock']")
    w.click("main form button")
    w.go("/history/blocked")
    w.go("/emergency")
    for change in ("masked/on", "samu/off", "break_glass/off"):
        w.go(f"/emergency/{change}")
        w.click("main form button")
    w.go("/emergency")
    w.go("/close")
    w.click("main form button")                                          # no choice: error summary
    w.page.check("#choice-delete")
    w.click("main form button")                                          # closed receipt
    w.go("/space")
    w.go("/reopen")
    w.click("main form button")
    w.go("/history/activity")
    w.click("header form button")                                        # sign out
    context.close()

    assert len(w.checked) >= 45
    assert not w.problems, "\n".join(w.problems)
