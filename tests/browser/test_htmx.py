"""htmx in Chromium with JavaScript on (issue 13 §9): the history's dates and pages swap the list in place, a
professional is blocked from its line, the NIR field names its slip when the person leaves it — with no page
load in between, no Content-Security-Policy violation and no script error. (With JavaScript off the same pages
are whole pages: test_no_js.py and the flows.)"""
import re

import pytest

from .conftest import LANGS

pytestmark = pytest.mark.browser

WORDS = {
    "fr": {"slip": "ressemble au numéro de votre carte Vitale", "key": "Ajoutez la clé",
           "page2": "Page 2 sur 2", "blocked": "Le professionnel est bloqué", "block": "Bloquer ce professionnel ?"},
    "en": {"slip": "looks like the number of your Vitale card", "key": "Add the 2-digit key",
           "page2": "Page 2 of 2", "blocked": "The professional is blocked", "block": "Block this professional?"},
}

# Every CSP violation the page meets, as the browser reports it (added before any script of the page runs).
WATCH = """window.__csp = []; document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')"


class InPlace:
    """A tab where each change must happen without loading a page: a mark set on the window survives it."""

    def __init__(self, walk):
        self.walk, self.page = walk, walk.page
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.loads = 0
        self.page.on("load", lambda _page: setattr(self, "loads", self.loads + 1))

    def arrived(self) -> None:
        """A page loaded on purpose: htmx there, ready, and the mark set."""
        self.page.wait_for_function("() => window.htmx && document.readyState === 'complete'")
        self.page.wait_for_function(SETTLED)
        self.page.evaluate("() => { window.__same = true; }")
        self.loads = 0

    def swap(self, action, expect: str) -> None:
        """Do `action` (a click, a Tab); `expect` (a selector) shows up, and the page is the same page."""
        action()
        self.page.wait_for_selector(expect, state="attached")
        self.page.wait_for_function(SETTLED)
        assert self.page.evaluate("() => window.__same === true") and self.loads == 0, "a page was loaded"
        assert not self.walk.server_errors, self.walk.server_errors

    def focused(self) -> str:
        return self.page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")

    def problems(self) -> list[str]:
        return self.page.evaluate("() => window.__csp") + self.console


@pytest.mark.parametrize("lang", LANGS)
def test_htmx_swaps_in_place_without_a_csp_violation(new_context, live_server, people, lang):
    from .flows import Walk
    words = WORDS[lang]
    holder = people.enrol(days_ago=60)
    people.history_of(holder, 25)
    context = new_context(lang)
    context.add_init_script(WATCH)
    walk = Walk(context.new_page(), live_server, lang)
    tab = InPlace(walk)
    page = walk.page

    # identification: the slip of a field is said as the person leaves it, then cleared
    walk.go("/identify?next=history")
    tab.arrived()
    scripts = page.evaluate("() => [...document.scripts].map(s => [s.src, s.defer])")
    assert len(scripts) == 1 and re.search(r"/assets/htmx\.min\.[0-9a-f]{10}\.js$", scripts[0][0]) and scripts[0][1]
    page.fill("#nir", holder.vitale_serial)                          # the card's serial in the NIR field
    tab.swap(lambda: page.keyboard.press("Tab"), f"#nir-slip:has-text('{words['slip']}')")
    assert page.evaluate("() => document.activeElement.id") == "vitale_serial"   # the person went on
    assert "nir-slip" in page.get_attribute("#nir", "aria-describedby")
    assert page.get_attribute("#nir-slip", "aria-live") == "polite"
    page.fill("#nir", holder.nir[:13])                               # the key missing
    tab.swap(lambda: page.locator("#birth_date").focus(), f"#nir-slip:has-text('{words['key']}')")
    page.fill("#nir", holder.nir)
    tab.swap(lambda: page.locator("#birth_date").focus(), "#nir-slip:empty")
    for name, value in holder.form().items():
        page.fill(f"#{name}", value)
    walk.click("main form button").at("/history")                     # the form itself still posts a page

    # the dates: the list alone is swapped, the count said in the live region, the address kept
    tab.arrived()
    walk.sees(".entry", 20)
    page.locator("details.filter summary").click()
    page.fill("#from", "01/01/2000")
    page.fill("#to", "31/12/2000")                                   # a year with no access
    tab.swap(lambda: page.click("details.filter button"), "#accesses > p")
    walk.sees(".entry", 0)
    assert page.get_attribute("#count", "role") == "status"
    assert page.locator("#count").inner_text().startswith("0 ")      # the live region says it
    assert "from=01%2F01%2F2000" in page.url and "to=31%2F12%2F2000" in page.url, page.url  # the back button works
    assert page.evaluate("() => document.activeElement.textContent.trim()") in ("Afficher", "Show"), tab.focused()

    page.go_back()                                                    # back: the whole list, from the server
    page.wait_for_url(re.compile(r"/history$"))
    tab.arrived()
    walk.sees(".entry", 20)

    # the pages: page 2 swapped in, said, and the focus on its first line
    tab.swap(lambda: page.click("a[rel=next]"), "a[rel=prev]")
    walk.sees(".entry", 5)
    assert page.url.endswith("/history?page=2")
    assert words["page2"] in page.locator("#count").inner_text()
    assert page.evaluate("() => document.activeElement === document.querySelector('.entry h2')"), tab.focused()

    # block in the line: the confirmation there (focus on its question), Cancel puts the line back, then confirm
    line = page.locator(".entry").first
    line_id = line.get_attribute("id")
    tab.swap(lambda: line.locator("a[href$='/block']").click(), f"#{line_id} form button.warning")
    assert page.locator(f"#{line_id} h2").inner_text().replace("\xa0", " ") == words["block"]
    assert page.evaluate("() => document.activeElement.tagName") == "H2", tab.focused()
    tab.swap(lambda: page.click(f"#{line_id} a.button.secondary"), f"#{line_id} a[href$='/block']")
    walk.sees(".entry", 5)
    tab.swap(lambda: page.locator(f"#{line_id} a[href$='/block']").click(), f"#{line_id} form button.warning")
    tab.swap(lambda: page.click(f"#{line_id} form button.warning"), f"#{line_id} .panel .ref")
    walk.has_receipt()
    assert words["blocked"] in page.locator(f"#{line_id} .panel h2").inner_text().replace("\xa0", " ")
    assert page.evaluate("() => document.activeElement.closest('.panel') !== null"), tab.focused()
    walk.check()

    # report in another line, the same way
    other = page.locator(".entry").nth(1)
    other_id = other.get_attribute("id")
    tab.swap(lambda: other.locator("a[href$='/report']").click(), f"#{other_id} form button")
    tab.swap(lambda: page.click(f"#{other_id} form button"), f"#{other_id} .panel .ref")
    assert page.locator(".panel .ref").count() == 2

    # a mistake in the dates: the whole page in place, its error summary focused; the form then posts a page
    walk.go("/history")
    tab.arrived()
    page.locator("details.filter summary").click()
    page.fill("#from", "xx")
    tab.swap(lambda: page.click("details.filter button"), ".error-summary")
    assert page.title().startswith("Erreur" if lang == "fr" else "Error"), page.title()
    assert page.evaluate("() => document.activeElement.classList.contains('error-summary')"), tab.focused()
    assert page.get_attribute("#from", "aria-invalid") == "true" and "from=xx" in page.url
    walk.check()
    page.fill("#from", "01/01/2000")
    walk.click("details.filter button").sees(".entry", 20).sees(".error-summary", 0)

    assert tab.problems() == [], tab.problems()
    walk.go("/history/blocked").sees(".entry", 1)                    # it was done, not only shown
    walk.go("/history/activity").sees(".entry", 2)


def test_the_watch_sees_a_blocked_inline_script(new_context, live_server):
    """The check itself: an inline script, which the CSP refuses, is reported."""
    from .flows import Walk
    context = new_context("fr")
    context.add_init_script(WATCH)
    walk = Walk(context.new_page(), live_server, "fr")
    tab = InPlace(walk)
    walk.go("/identify")
    tab.arrived()
    walk.page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';
                                  document.body.append(s); }""")
    walk.page.wait_for_function("() => window.__csp.length > 0")
    assert any(p.startswith("script-src") for p in tab.problems()), tab.problems()
    assert walk.page.evaluate("() => window.x") is None
