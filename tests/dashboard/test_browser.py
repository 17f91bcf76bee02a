"""The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, via selenium):
sign in, find the failed delivery, retry it once the receiver is fixed, see it succeed.

Screenshots go to tests/artifacts/ (git-ignored): dashboard-failed.png before the retry,
dashboard.png after it, dashboard-ja.png the same in Japanese.
"""

import os
import shutil
import threading

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from werkzeug.serving import make_server

from connector.models import Delivery
from tests.conftest import make_tenant
from tests.receiver import Answer, wait_until

ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "artifacts")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def live_server(live_app):
    """The live app (dispatcher running) served over HTTP on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1440,1200",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def delivery_status(app, delivery_id):
    with app.extensions["connector.db"].session() as session:
        return session.scalar(select(Delivery.status).where(Delivery.id == delivery_id))


def test_retry_a_failed_delivery_in_the_browser(live_app, live_server, browser, webhook_receiver):
    tenant = make_tenant(live_app, "yoga-shibuya")
    client = live_app.test_client()
    # Down for the first attempt and the three retries of the test schedule, then fixed (200).
    webhook_receiver.script("/hook", *[Answer(503, body=b"down for maintenance") for _ in range(4)])
    hooks = {}
    for path, trigger in (("/hook", "changed_appointment"), ("/ok", "new_appointment")):
        hooks[path] = client.post(
            "/api/v1/hooks", json={"target_url": webhook_receiver.url(path), "trigger": trigger}, headers=tenant.headers
        ).json
    body = {"object": "appointment", "event": "create", "role": 3, "data": {"id": 81723, "res_name": "Ms. Tanaka"}}
    client.post("/api/v1/events", json=body, headers=tenant.headers)
    by_hook = {d["hook_id"]: d["id"] for d in client.get("/api/v1/deliveries", headers=tenant.headers).json}
    failing, fine = by_hook[hooks["/hook"]["id"]], by_hook[hooks["/ok"]["id"]]
    wait_until(lambda: delivery_status(live_app, failing) == "failed", what="the delivery failed for good")
    wait_until(lambda: delivery_status(live_app, fine) == "succeeded", what="the other one delivered")

    wait = WebDriverWait(browser, 15, poll_frequency=0.1)
    browser.get(f"{live_server}/dashboard/")
    wait.until(ec.presence_of_element_located((By.ID, "key"))).send_keys(tenant.key)
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.url_contains("/dashboard/deliveries"))

    # Failed first, with its attempts open: four 503s.
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody.delivery")
    assert rows[0].get_attribute("id") == failing and rows[0].get_attribute("data-status") == "failed"
    codes = [c.text for c in rows[0].find_elements(By.CSS_SELECTOR, "tr.attempt td.code")]
    assert codes == ["503"] * 4
    assert "down for maintenance" in rows[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar.failed")

    os.makedirs(ARTIFACTS, exist_ok=True)
    browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-failed.png"))
    rows[0].find_element(By.CSS_SELECTOR, "button.retry").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "p.flash.ok"), f"Delivery {failing} queued again."))

    def succeeded(driver):
        row = driver.find_element(By.ID, failing)
        if row.get_attribute("data-status") == "succeeded":
            return row
        driver.refresh()
        return False

    row = wait.until(succeeded)
    row.find_element(By.TAG_NAME, "summary").click()  # the attempts of a success are folded
    assert [c.text for c in row.find_elements(By.CSS_SELECTOR, "tr.attempt td.code")] == ["503"] * 4 + ["200"]
    assert len(webhook_receiver.received("/hook")) == 5
    assert hooks["/hook"]["id"] in row.text

    browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard.png"))
    browser.find_element(By.CSS_SELECTOR, "button[name=lang][value=ja]").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "nav"), "配信"))
    browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-ja.png"))
