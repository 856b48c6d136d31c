"""The dashboard in a real browser: headless Debian chromium (driven by Selenium through
chromium-driver, installed by ``scripts/ci-chromium.sh``) opens ``/dashboard`` on ``nextedit
serve``'s app on loopback over a seeded SQLite store; every chart is drawn with the seeded
numbers, a filter changes them, and a screenshot is saved (``NEXTEDIT_DASHBOARD_SCREENSHOT=path``
also writes it there: that is how ``docs/dashboard.png`` was made)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nextedit.bench.dashboard import MODEL_VERSIONS, fill_store
from nextedit.cli.serve_cmds import mount_dashboard
from nextedit.monitoring import dashboard as D
from nextedit.monitoring.store_reader import open_store_readonly
from nextedit.server.app import create_app
from nextedit.server.config import load_config
from nextedit.server.launch import ServerThread
from nextedit.server.telemetry.schema import requests

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
webdriver = pytest.importorskip("selenium.webdriver")
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
    reason="chromium/chromium-driver not installed (scripts/ci-chromium.sh installs them)",
)
END = 1_764_547_200.0
CONFIG = """
[server]
store = "{store}"
auth_tokens = ["s3cret"]
[models.a]
provider = "heuristic"
[models.b]
provider = "heuristic"
[[experiments]]
name = "control"
model = "a"
weight = 0.5
[[experiments]]
name = "treatment"
model = "b"
weight = 0.5
"""
CHARTS = ("chart-requests", "chart-acceptance", "chart-shown", "chart-kept", "chart-errors", "chart-tokens",
          "chart-latency")  # fmt: skip


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1500,2600"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _wait(driver, script: str, timeout: float = 30.0):  # noqa: ANN001, ANN202
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script))


def _drawn_pixels(driver, chart: str) -> int:  # noqa: ANN001
    return driver.execute_script(
        """const c = document.querySelector('#' + arguments[0] + ' canvas');
        if (!c) return 0; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;""",
        chart,
    )


def test_dashboard_renders_the_seeded_numbers_and_filters_change_them(browser, tmp_path) -> None:
    path = tmp_path / "telemetry.db"
    fill_store(path, 3000, 3000, days=2, end=END, seed=5, users=100)
    url = f"sqlite:///{path}"
    engine = open_store_readonly(url)
    with engine.connect() as conn:
        truth = dict(conn.execute(
            select(requests.c.model_version, func.count()).group_by(requests.c.model_version)).all())  # fmt: skip
    expected = D.timeseries(engine, D.Filters(END - 3 * 86400, END + 3600))
    (tmp_path / "serve.toml").write_text(CONFIG.format(store=url))
    app = create_app(load_config(tmp_path / "serve.toml"))
    mount_dashboard(app)
    with ServerThread(app) as srv:
        browser.get(srv.url + "/dashboard")  # the page asks for the server's bearer token first
        _wait(browser, "return !document.getElementById('login').hidden")
        browser.find_element("name", "token").send_keys("s3cret")
        browser.find_element("css selector", "#login button").click()
        _wait(browser, "return window.nexteditDashboard && window.nexteditDashboard.rendered >= 1")
        state = browser.execute_script("return window.nexteditDashboard")
        assert "error" not in state
        for chart in CHARTS:
            assert _drawn_pixels(browser, chart) > 1000, f"{chart} drew nothing"
        requests_chart = state["charts"]["chart-requests"]["series"]
        assert {g: sum(v) for g, v in requests_chart.items()} == truth
        acceptance = state["charts"]["chart-acceptance"]["series"]
        for mv in MODEL_VERSIONS:
            assert acceptance[mv] == pytest.approx(expected["series"][mv]["acceptance_rate"])
            cell = browser.find_element("css selector", f'#summary tr[data-group="{mv}"] td.requests')
            assert cell.text == f"{truth[mv]:,}"
        _wait(browser, "return window.nexteditDashboard.abRendered >= 1")
        ab = browser.find_element("id", "ab").text
        assert "treatment vs control" in ab and "SRM p-value" in ab

        from selenium.webdriver.support.ui import Select

        Select(browser.find_element("name", "model_version")).select_by_visible_text(MODEL_VERSIONS[1])
        browser.find_element("css selector", "#filters button[type=submit]").click()
        _wait(browser, "return window.nexteditDashboard.rendered >= 2")
        state = browser.execute_script("return window.nexteditDashboard")
        filtered = state["charts"]["chart-requests"]["series"]
        assert list(filtered) == [MODEL_VERSIONS[1]]
        assert sum(filtered[MODEL_VERSIONS[1]]) == truth[MODEL_VERSIONS[1]]
        Select(browser.find_element("name", "model_version")).select_by_index(0)  # back to all
        browser.find_element("css selector", "#filters button[type=submit]").click()
        _wait(
            browser,
            "return window.nexteditDashboard.rendered >= 3 && window.nexteditDashboard.abRendered >= 3",
        )
        shot = tmp_path / "dashboard.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("NEXTEDIT_DASHBOARD_SCREENSHOT"):
        shutil.copy(shot, os.environ["NEXTEDIT_DASHBOARD_SCREENSHOT"])
