"""QUALITY §2 reflow (WCAG 1.4.10): at 320 CSS px wide nothing scrolls sideways, on every page of every flow,
in both languages; at 400 % zoom of a 1280 x 1024 screen (a 320 x 256 CSS px viewport) and at 160 CSS px
(200 % zoom on a 320 px phone, as older users set it) too."""
import pytest

from .conftest import LANGS
from .flows import FLOWS

pytestmark = pytest.mark.browser

WIDTH = 320
LAYOUTS = {"320 x 640": {"width": WIDTH, "height": 640}, "400 % zoom (320 x 256)": {"width": WIDTH, "height": 256},
           "200 % zoom of a 320 px phone (160 x 320)": {"width": 160, "height": 320}}

# The page's scroll width, and every visible element that sticks out on the right (or is cut off on the left:
# the "skip" link waits off-screen until focused, and .vh text is clipped to 1 px on purpose).
OVERFLOW = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.vh') || el.matches('.skip')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > vw + 0.5 || r.left < -0.5) {
      const cls = typeof el.className === 'string' && el.className.trim() ? el.className.trim().split(/\\s+/) : [];
      const id = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls.map(c => '.' + c).join('');
      out.push(`${id} spans ${Math.round(r.left)}..${Math.round(r.right)} px: ${el.outerHTML.slice(0, 120)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 8)};
}"""


def overflow(page) -> list[str]:
    problems = []
    for name, size in LAYOUTS.items():
        page.set_viewport_size(size)
        found = page.evaluate(OVERFLOW)
        if found["scrollWidth"] > size["width"]:
            problems.append(f"at {name}: scrolls sideways, {found['scrollWidth']} px wide")
        problems.extend(f"at {name}: {line}" for line in found["out"])
    return problems


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("lang", LANGS)
def test_no_page_scrolls_sideways_at_320px(open_walk, people, lang, flow):
    walk = open_walk(lang, checks=[overflow], viewport=LAYOUTS["320 x 640"])
    FLOWS[flow](walk, people)
    assert len(walk.visited) >= 10, walk.visited
    if walk.problems:
        pytest.fail(walk.report(), pytrace=False)


def test_reflow_check_sees_a_page_too_wide(open_walk):
    """The check itself: a page with a 400 px wide block is caught."""
    walk = open_walk("fr", viewport=LAYOUTS["320 x 640"])
    walk.go("/accessibility")
    walk.page.evaluate("""() => { const d = document.createElement('div'); d.className = 'too-wide';
                                  d.style.width = '400px'; d.textContent = 'x';
                                  document.querySelector('main').append(d); }""")
    problems = overflow(walk.page)
    assert any("scrolls sideways" in p for p in problems), problems
    assert any("div.too-wide spans" in p for p in problems), problems
