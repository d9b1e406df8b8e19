"""The demo's HTML report in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which ``./run test`` installs) driven by selenium opens the report of
``varimp demo --quick`` and checks that the page rendered: every image decoded with a non-zero
size, no console error, no request leaving the file, one importance table per result with one row
per variable, and a screenshot that is not blank.

Without the browser these tests fail, so that CI cannot pass without running them; set
``VARIMP_NO_BROWSER=1`` to skip them on purpose. ``VARIMP_UPDATE_SCREENSHOT=1`` also writes the
screenshot to ``docs/report.png`` (shown in the README).
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from varimp import cli
from varimp.result import Importance

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1280, 800)  # the viewport: a laptop screen
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "report.png"

#: Everything the tests read from a loaded page, in one script: the title, each image after
#: ``decode()`` (which rejects an image whose data cannot be decoded), the importance tables'
#: rows (the first cell of every row with data cells) and the images of the section holding each,
#: the resources fetched, and the widths.
PAGE_FACTS = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
Promise.all(images.map(img => img.decode().then(() => true, () => false))).then(decoded => {
  done({
    title: document.title,
    heading: (document.querySelector('h1') || {textContent: ''}).textContent.trim(),
    images: images.map((img, i) => {
      const box = img.getBoundingClientRect();
      return {src: img.getAttribute('src').slice(0, 22), decoded: decoded[i],
              complete: img.complete, natural: [img.naturalWidth, img.naturalHeight],
              shown: [box.width, box.height], bottom: Math.ceil(box.bottom + window.scrollY)};
    }),
    tables: Array.from(document.querySelectorAll('table.importance[data-method]')).map(t => ({
      method: t.dataset.method,
      rows: Array.from(t.querySelectorAll('tr')).filter(r => r.querySelector('td'))
                 .map(r => r.cells[0].textContent.trim()),
      images: t.closest('section') ? t.closest('section').querySelectorAll('img').length : 0,
    })),
    resources: performance.getEntriesByType('resource').map(e => e.name),
    pageWidth: document.documentElement.scrollWidth,
    pageHeight: document.documentElement.scrollHeight,
    viewWidth: window.innerWidth,
  });
});
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module, from Debian's binaries (selenium downloads none)."""
    if os.environ.get("VARIMP_NO_BROWSER"):
        pytest.skip("VARIMP_NO_BROWSER is set: the browser test is skipped on purpose")
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: `./run test` installs Debian's chromium "
                    "and chromium-driver (as root); set VARIMP_NO_BROWSER=1 to skip this test",
                    pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--hide-scrollbars",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: webdriver.Chrome, path: Path) -> tuple[dict, list[dict]]:
    """Load ``path``; return the page's facts and the console entries logged while loading."""
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(path.resolve().as_uri())
    facts = driver.execute_async_script(PAGE_FACTS)
    return facts, driver.get_log("browser")


def _problems(facts: dict, console: list[dict]) -> list[str]:
    """Everything that shows a page did not render as written; empty for a good page."""
    found = [f"console {entry['level']}: {entry['message']}" for entry in console
             if entry["level"] == "SEVERE"]
    for number, image in enumerate(facts["images"]):
        if not (image["decoded"] and image["complete"] and min(image["natural"]) > 0
                and min(image["shown"]) > 0):
            found.append(f"image {number} ({image['src']}...) not rendered: {image}")
    found += [f"fetched {name}" for name in facts["resources"]
              if not name.startswith(("data:", "file:"))]
    if facts["pageWidth"] > facts["viewWidth"]:
        found.append(f"the page is {facts['pageWidth']} px wide in a {facts['viewWidth']} px "
                     "window")
    return found


def _screenshot(driver: webdriver.Chrome, height: int = WINDOW[1]) -> Image.Image:
    """The top ``height`` pixels of the page (the first screen by default), at full width."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": WINDOW[0], "height": height, "scale": 1}})
    return Image.open(io.BytesIO(base64.b64decode(shot["data"])))


def _blank(image: Image.Image) -> bool:
    """True when almost every pixel has the page's most common colour."""
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    _, counts = np.unique(pixels, axis=0, return_counts=True)
    return counts.max() > 0.99 * len(pixels)


def test_the_checks_catch_a_broken_page(browser, tmp_path):
    """The harness itself: a good page passes, and a broken image, a console error, an image
    fetched over the network and a page wider than the window are each reported."""
    png = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(png, format="PNG")
    good = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    row = "<tr><td>{}</td><td>1.0</td></tr>"
    table = ('<table class="importance" data-method="garson"><tr><th>feature</th><th>score</th>'
             "</tr>" + row.format("x1") + row.format("x2") + "</table>")
    page = tmp_path / "good.html"
    page.write_text(f"<!doctype html><title>good</title><img src='{good}'>{table}",
                    encoding="utf-8")
    facts, console = _open(browser, page)
    assert _problems(facts, console) == []
    assert facts["title"] == "good"
    assert facts["images"][0]["natural"] == [400, 300]
    assert facts["tables"] == [{"method": "garson", "rows": ["x1", "x2"], "images": 0}]
    screen = _screenshot(browser)
    assert screen.size == WINDOW and not _blank(screen)

    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><title>broken</title>"
                    "<img src='data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=='>"
                    "<img src='http://127.0.0.1:9/plot.png'>"
                    "<div style='width: 3000px'>wide</div>"
                    "<script>console.error('drawn wrong')</script>", encoding="utf-8")
    problems = _problems(*_open(browser, page))
    assert any("drawn wrong" in problem for problem in problems)
    assert any(problem.startswith("image 0 (data:image/png;bas") for problem in problems)
    assert any(problem.startswith("image 1 (http://127.0.0.1:9/") for problem in problems)
    assert any(problem.startswith("fetched http://127.0.0.1:9/plot.png") for problem in problems)
    assert any(problem.endswith(f"px wide in a {WINDOW[0]} px window") for problem in problems)

    page.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    _open(browser, page)
    assert _blank(_screenshot(browser))


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    """The folder written by ``varimp demo --quick``."""
    out = tmp_path_factory.mktemp("browser") / "demo"
    assert cli.main(["demo", "--quick", "--out", str(out)]) == 0
    return out


def test_the_demo_report_renders_in_chromium(browser, demo_report, tmp_path):
    assert (demo_report / "report.html").is_file()
    facts, console = _open(browser, demo_report / "report.html")
    assert _problems(facts, console) == []
    assert "varimp demo" in facts["title"] and facts["title"] == facts["heading"]

    # every embedded figure, none fetched: the report's images are all data: URLs
    assert len(facts["images"]) >= 10
    assert all(image["src"].startswith("data:image/png;base64") for image in facts["images"])

    # one table per result of results.json, one row per variable, in the result's order
    results = json.loads((demo_report / "results.json").read_text(encoding="utf-8"))
    expected = sorted((name, list(Importance.from_dict(data).to_frame()["feature"]))
                      for case in results.values() for name, data in case.items())
    shown = sorted((table["method"], table["rows"]) for table in facts["tables"])
    assert shown == expected
    assert len(shown) == sum(len(case) for case in results.values()) == 20
    # and each result's section shows its plots beside its table
    assert all(table["images"] >= 1 for table in facts["tables"])

    # the screenshot: the top of the report down to its second figure (the README shows it)
    first_screen = _screenshot(browser)
    assert first_screen.size == WINDOW and not _blank(first_screen)
    top = _screenshot(browser, height=min(facts["pageHeight"], facts["images"][1]["bottom"] + 24))
    assert top.size[0] == WINDOW[0] and top.size[1] > WINDOW[1] and not _blank(top)
    top.quantize(colors=256).save(tmp_path / "report.png", optimize=True)  # a third of the bytes
    if os.environ.get("VARIMP_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(tmp_path / "report.png", SCREENSHOT)


def test_the_readme_shows_the_screenshot():
    readme = SCREENSHOT.parents[1] / "README.md"
    assert "](docs/report.png)" in readme.read_text(encoding="utf-8")
    with Image.open(SCREENSHOT) as shown:
        assert shown.format == "PNG" and shown.size[0] == WINDOW[0] and shown.size[1] > WINDOW[1]
