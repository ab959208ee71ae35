"""QUALITY §2: axe-core finds 0 violations (tags wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa) on every page
of every flow, in both languages, error states included.

Each page is checked twice, laid out for a phone (320 CSS px wide, where QUALITY asks for reflow) and for a
desktop, since some rules (target size, overlapping text) depend on the layout."""
import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import LANGS
from .flows import FLOWS

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
AXE = Axe()
VIEWPORTS = {"320px": {"width": 320, "height": 640}, "1280px": {"width": 1280, "height": 800}}


def axe_violations(page) -> list[str]:
    """axe-core in each layout; the page is left at the last one."""
    problems = []
    for i, (name, size) in enumerate(VIEWPORTS.items()):
        page.set_viewport_size(size)
        if i == 0:
            results = AXE.run(page, options=OPTIONS).response                  # injects axe-core, runs it
        else:
            results = page.evaluate("options => axe.run(document, options)", OPTIONS)  # already there
        problems.extend(f"at {name}: {p}" for p in described(results))
    return problems


def described(results: dict) -> list[str]:
    """One line per violated rule: id, impact, what it asks, and every failing node's target and HTML."""
    assert results.get("passes"), "axe-core did not run any rule"  # a silent failure must not look like 0
    lines = []
    for v in results["violations"]:
        nodes = "\n".join(f"      - {' '.join(map(str, n['target']))}: {n['html'][:160]}\n        {why(n)}"
                           for n in v["nodes"])
        lines.append(f"axe {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl'].split('?')[0]}>\n{nodes}")
    return lines


def why(node: dict) -> str:
    summary = (node.get("failureSummary") or "").splitlines()
    return "; ".join(line.strip() for line in summary if line.strip() and not line.startswith("Fix "))


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("lang", LANGS)
def test_no_axe_violation_on_any_page(open_walk, people, lang, flow):
    walk = open_walk(lang, checks=[axe_violations])
    FLOWS[flow](walk, people)
    assert len(walk.visited) >= 10, walk.visited
    if walk.problems:
        pytest.fail(walk.report(), pytrace=False)


def test_axe_check_reports_rule_impact_and_targets(open_walk):
    """The check itself: a broken page is caught, and the message says what to fix and where."""
    walk = open_walk("en")
    walk.go("/accessibility")
    walk.page.evaluate("""() => { const i = document.createElement('input'); i.id = 'no-label';
                                  document.querySelector('main').append(i); }""")
    problems = axe_violations(walk.page)
    for layout in VIEWPORTS:
        assert any(p.startswith(f"at {layout}: axe label (critical)") and "#no-label" in p for p in problems), problems


def test_a_server_error_fails_the_walk(open_walk):
    """The walks' own guard: an HTTP 500, for the page or for anything it loads, fails the test at once."""
    walk = open_walk("en")
    walk.page.route("**/accessibility", lambda route: route.fulfill(status=500, content_type="text/html",
                                                                     body="<html lang='en'><h1>Boom</h1></html>"))
    with pytest.raises(AssertionError, match="HTTP 500"):
        walk.go("/accessibility")
    walk.server_errors.clear()
    walk.page.route("**/assets/*", lambda route: route.fulfill(status=500, body=""))
    stylesheet = r"server error: HTTP 500 GET http://127\.0\.0\.1:\d+/assets/relais\.\w+\.css$"
    with pytest.raises(AssertionError, match=stylesheet):
        walk.go("/")
