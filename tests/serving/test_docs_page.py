"""The model server's ``/docs`` page renders Swagger UI in a real browser with no internet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mloop.registry import set_alias
from mloop.server.serving import create_app
from tests.serving.conftest import FEATURES, Flights, running, train

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def url(mloop_home: Path, flights: Flights) -> Iterator[str]:
    set_alias("delays", "champion", train(flights))
    with running(create_app("models:/delays@champion", log=False, watch=False)) as base:
        yield base


@pytest.mark.browser
def test_docs_page_renders_swagger_ui_offline_with_the_signatures_example(url: str) -> None:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing; install it with apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import Route, sync_playwright

    server = urlsplit(url).netloc
    elsewhere: list[str] = []

    def offline(route: Route) -> None:  # as on a host without internet: only the server answers
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox"]
        )
        try:
            page = browser.new_page()
            page.route("**/*", offline)
            page.goto(f"{url}/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            title = page.locator(".swagger-ui .info .title").inner_text()
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            page.locator(".opblock-summary-path", has_text="/v1/models/{name}/predict").click()
            example = page.locator(
                ".opblock.is-open .body-param__example, .opblock.is-open .microlight"
            )
            example.first.wait_for(timeout=30_000)
            shown = example.first.inner_text()
        finally:
            browser.close()
    assert title.startswith("mloop model server")
    assert {"/v1/models/{name}/predict", "/invocations", "/v1/feedback", "/metrics"} <= {
        p.replace("\u200b", "") for p in paths
    }
    assert all(f'"{field}"' in shown for field in FEATURES), shown
    assert elsewhere == []  # nothing was asked of any other host
