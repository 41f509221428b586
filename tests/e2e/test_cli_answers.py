"""What the CLI says when the API URL answers, but not like Datadog: an HTML page, a 404 page, the wrong JSON.

A "captive portal" server stands in for a proxy login page or a wrong host: it answers 200 with an HTML page on
every path except those given JSON answers. Every run goes through the real CLI with ``catch_exceptions=False``,
so a traceback fails the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web

from tests.support import invoke

API_KEY, APP_KEY = "portal-api-key-0000000000000001", "portal-app-key-00000000000000000000000001"
LOGIN_PAGE = "<html><head><title>Corporate proxy: sign in</title></head><body><form>...</form></body></html>"
HAMR_OK = {"data": {"type": "hamr_org_connections", "id": "x", "attributes": {"HamrStatus": 2}}}


@contextmanager
def portal(json_answers: dict[str, object] | None = None, status: int = 200) -> Iterator[str]:
    """A server answering ``status`` with an HTML page on every path, except ``json_answers`` (200 JSON)."""
    answers = json_answers or {}

    async def handle(request: web.Request) -> web.Response:
        if request.path in answers:
            return web.json_response(answers[request.path])
        return web.Response(status=status, text=LOGIN_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    url: list[str] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert ready.wait(30), "the portal server did not start"
    try:
        yield url[0]
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


def run(url: str, *args: str):
    env = {
        "DD_SOURCE_API_KEY": API_KEY,
        "DD_SOURCE_APP_KEY": APP_KEY,
        "DD_SOURCE_API_URL": url,
        "DD_SHOW_PROGRESS_BAR": "false",
        "DD_HTTP_CLIENT_RETRY_TIMEOUT": "0",
    }
    result = invoke(["import", "--resources=integrations", *args], env)
    assert API_KEY not in result.output and APP_KEY not in result.output
    return result


pytestmark = pytest.mark.usefixtures("workdir")


def test_a_login_page_fails_key_validation_as_not_a_datadog_api():
    with portal() as url:
        result = run(url)
    assert result.exit_code == 1
    assert f"{url} does not look like a Datadog API" in result.stderr
    assert "GET /api/v1/validate (source) answered 200 with text/html, not a JSON object" in result.stderr
    assert "Corporate proxy: sign in" in result.stderr, "the page's title says what answered"
    assert "--source-api-url" in result.stderr
    assert "clients validated successfully" not in result.stderr


def test_a_login_page_fails_the_ddr_check_when_validation_is_off():
    with portal() as url:
        result = run(url, "--validate=false")
    assert result.exit_code == 1
    assert "GET /api/v2/hamr (source) answered 200 with text/html" in result.stderr
    assert "does not look like a Datadog API" in result.stderr


def test_html_after_the_checks_is_a_clear_error_not_a_traceback(workdir):
    """Validation and DDR answered like Datadog, the AWS listing is a login page: the type fails, clearly."""
    with portal({"/api/v1/validate": {"valid": True}, "/api/v2/hamr": HAMR_OK}) as url:
        result = run(url)
    assert result.exit_code == 1
    assert "GET /api/v1/integration/aws (source) answered 200 with text/html, not a JSON object" in result.stderr
    assert "does not look like a Datadog API" in result.stderr
    assert not (workdir / "resources/source/integrations.json").exists()


def test_a_wrong_host_answering_404_pages_is_not_called_an_invalid_key():
    with portal(status=404) as url:
        result = run(url)
    assert result.exit_code == 1
    assert f"the source API URL {url} does not look like a Datadog API" in result.stderr
    assert "404 Not Found on GET /api/v1/validate is not JSON" in result.stderr
    assert "invalid api key" not in result.stderr


@pytest.mark.parametrize("answer", [{}, [], {"valid": False}, "ok"])
def test_validate_must_answer_valid_true(answer):
    with portal({"/api/v1/validate": answer, "/api/v2/hamr": HAMR_OK}) as url:
        result = run(url)
    assert result.exit_code == 1
    assert "does not look like a Datadog API" in result.stderr
    assert "clients validated successfully" not in result.stderr


@pytest.mark.parametrize("answer", [[], {"data": []}, {"data": None}, {"data": {"attributes": "x"}}])
def test_a_ddr_answer_of_another_shape_is_no_ddr_status(answer):
    with portal({"/api/v1/validate": {"valid": True}, "/api/v2/hamr": answer}) as url:
        result = run(url)
    assert result.exit_code == 1
    assert "The source DDR verification failed. no DDR status could be retrieved." in result.stderr


@pytest.mark.parametrize("status", [[2], {"a": 1}, "2", True])
def test_a_ddr_status_that_is_not_a_number_fails_the_check_clearly(status):
    answer = {"data": {"attributes": {"HamrStatus": status}}}
    with portal({"/api/v1/validate": {"valid": True}, "/api/v2/hamr": answer}) as url:
        result = run(url)
    assert result.exit_code == 1
    assert "The source DDR verification failed. the DDR status retrieved is not a status number" in result.stderr
