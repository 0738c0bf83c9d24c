"""The public status page as a visitor's browser shows it: an outage and an open incident, a
private page's password form and the cookie it earns, and axe-core's accessibility rules on
each (no serious or critical violation). Screenshots of every step are kept as artefacts."""
from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from models import clock
from models.incidents import lifecycle
from tests.api.test_public_pages import page_of
from tests.api.test_status_pages import go_down
from tests.factories.monitors import make_monitor
from tests.factories.organisations import caller_of, make_cast, make_service
from tests.factories.statuspages import first_setting

SCRIPT_NAME = "<script>alert(1)</script>"
PASSWORD = "s3cret-Words"


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def monitor(cast):
    return make_monitor(make_service(cast.team), name="Checkout API")


def outage_page(cast, monitor, **fields):
    """A page whose Checkout component follows a monitor that is down, beside a manual
    component named like a script, with an open (identified) incident naming Checkout."""
    page = page_of(cast, monitor, components=[
        {"name": "Checkout", "type": "resource", "resource_id": str(monitor.id)},
        {"name": SCRIPT_NAME, "type": "manual"}], **fields)
    go_down(monitor)
    incident = lifecycle.create_incident(
        caller_of(cast.alice), cast.team.id,
        {"name": "Checkout errors", "urgency": "high", "description": "Payments time out",
         "actions": [{"type": "trigger-alerts", "settings": [first_setting(page)]}]},
        now=clock.now())
    lifecycle.move(caller_of(cast.alice), incident.id, "acknowledged", now=clock.now())
    return page


def private_page(cast, monitor, **fields):
    return page_of(cast, monitor, type="private", password=PASSWORD, **fields)


def address(status_site, page) -> str:
    return f"{status_site}/status/{page.subdomain}"


def component_states(browser) -> dict[str, str]:
    """Each component card's name and the status it shows, as the visitor reads them."""
    return {card.find_element(By.CLASS_NAME, "name").text:
            card.find_element(By.CLASS_NAME, "state").text
            for card in browser.find_elements(By.CSS_SELECTOR, "li.card[id^=component-]")}


def sign_in(browser, password: str) -> None:
    """Types `password` into the form shown and submits it, waiting until the answer (after
    the redirect, if one) has loaded."""
    field = browser.find_element(By.ID, "page-password")
    field.send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # while the new document replaces the old, chromedriver may answer a question about the
    # old form with an error of its own ("Node with given id does not belong to the
    # document") rather than call it stale: ask again until the answer is clear
    wait = WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,))
    wait.until(expected_conditions.staleness_of(field))
    wait.until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def test_an_outage_and_its_open_incident_show_in_the_browser(status_site, browser, record,
                                                            cast, monitor):
    page = outage_page(cast, monitor)
    browser.get(address(status_site, page))
    record.screenshot("outage")
    assert browser.title == "Acme Cloud status"
    assert browser.find_element(By.ID, "overall").text == "Major outage"
    states = component_states(browser)
    assert states["Checkout"] == "Major outage"
    assert states["Admin"] == "Degraded performance"
    incidents = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=open-incidents]")
    [card] = incidents.find_elements(By.CSS_SELECTOR, "li.card")
    assert card.find_element(By.TAG_NAME, "h3").text == "Checkout errors"
    assert "Payments time out" in card.text and "Affects: Checkout" in card.text
    updates = [item.text for item in card.find_elements(By.CSS_SELECTOR, "ul.plain li")]
    assert [text.split()[0] for text in updates] == ["Identified", "Investigating"]
    assert all(item.find_element(By.TAG_NAME, "time").get_attribute("datetime")
               for item in card.find_elements(By.CSS_SELECTOR, "ul.plain li"))


def test_a_component_named_like_a_script_shows_as_text_and_runs_nothing(status_site, browser,
                                                                       record, cast, monitor):
    page = outage_page(cast, monitor)
    browser.get(address(status_site, page))
    record.screenshot("script-named-component")
    assert record.dialogs() == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert SCRIPT_NAME in component_states(browser)


def test_a_private_page_asks_for_its_password_and_the_browser_keeps_the_cookie(
        status_site, browser, record, cast, monitor):
    page = private_page(cast, monitor)
    browser.get(address(status_site, page))
    record.screenshot("password-form")
    assert browser.find_element(By.TAG_NAME, "h2").text == "This page is private"
    assert browser.find_elements(By.CSS_SELECTOR, "li.card") == []
    assert "Checkout" not in browser.page_source

    sign_in(browser, "not-the-password")
    record.screenshot("wrong-password")
    assert browser.find_element(By.CSS_SELECTOR, "[role=alert]").text \
        == "That password is not right."
    assert browser.find_elements(By.CSS_SELECTOR, "li.card") == []

    sign_in(browser, PASSWORD)
    record.screenshot("signed-in")
    assert browser.current_url == address(status_site, page)
    assert component_states(browser)["Checkout"] == "Operational"
    cookie = browser.get_cookie(f"statuspage-{page.id}")
    assert cookie is not None and cookie["httpOnly"] is True

    browser.get(address(status_site, page))            # a later visit: the cookie admits it
    record.screenshot("visited-again")
    assert "Checkout" in component_states(browser)


@pytest.mark.parametrize("dark_theme", [False, True], ids=["light", "dark"])
def test_the_pages_pass_axe_with_no_serious_or_critical_violation(status_site, browser, record,
                                                                  cast, monitor, dark_theme):
    shown = outage_page(cast, monitor, dark_theme=dark_theme, subscription_enabled=True,
                        website_url="https://acme.example/")
    hidden = private_page(cast, make_monitor(make_service(cast.team)), dark_theme=dark_theme)
    browser.get(address(status_site, shown))
    record.screenshot("outage")
    assert record.accessibility("outage") == []
    browser.get(address(status_site, hidden))
    record.screenshot("password-form")
    assert record.accessibility("password-form") == []
    sign_in(browser, "not-the-password")
    record.screenshot("wrong-password")
    assert record.accessibility("wrong-password") == []
    sign_in(browser, PASSWORD)
    record.screenshot("signed-in")
    assert record.accessibility("signed-in") == []


def submit(browser, button_selector: str = "form button[type=submit]") -> None:
    """Clicks a form's button and waits until the answer has loaded (see `sign_in`)."""
    button = browser.find_element(By.CSS_SELECTOR, button_selector)
    button.click()
    wait = WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,))
    wait.until(expected_conditions.staleness_of(button))
    wait.until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def test_a_visitor_subscribes_confirms_by_the_mailed_link_and_unsubscribes(
        status_site, browser, record, cast, monitor, smtp_sink, settings):
    import re

    from models.statuspages.tables import Subscriber
    page = page_of(cast, monitor, subscription_enabled=True)
    browser.get(address(status_site, page))
    browser.find_element(By.ID, "subscribe-email").send_keys("visitor@example.org")
    record.screenshot("subscribe-form")
    submit(browser, "#subscribe ~ form button[type=submit]")
    record.screenshot("asked-to-confirm")
    assert "Check your inbox" in browser.find_element(By.TAG_NAME, "h2").text
    assert record.accessibility("asked-to-confirm") == []

    [mail] = smtp_sink.wait_for("visitor@example.org")
    confirm = re.search(r"\S+/subscribers/\S+/confirm", mail.body).group(0)
    browser.get(confirm.replace(settings.public_url, status_site))
    record.screenshot("confirm-page")
    assert Subscriber.get().confirmed_at is None            # opening the link changes nothing
    assert record.accessibility("confirm-page") == []
    submit(browser)
    record.screenshot("confirmed")
    assert "Subscription confirmed" in browser.find_element(By.TAG_NAME, "h2").text
    assert Subscriber.get().confirmed_at is not None

    browser.get(confirm.replace(settings.public_url, status_site)
                .replace("/confirm", "/unsubscribe"))
    submit(browser)
    record.screenshot("unsubscribed")
    assert "Unsubscribed" in browser.find_element(By.TAG_NAME, "h2").text
    assert Subscriber.select().count() == 0
