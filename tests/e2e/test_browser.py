"""A person in a real browser approves (or declines) a write: on the approval page, and on the MCP
Apps approval card inside a host page built on the ext-apps package's own host bridge.

Headless Chromium (Debian's ``chromium``, driven by Playwright's Python package; no browser is
downloaded at run time). Two real processes besides the browser, started once for the module: a
standalone sandbox playing VTEX (``vtex-orders-mcp sandbox``, reset before each test) and the server
over streamable HTTP, pointed at it with the sandbox's credentials. Writes are counted where they
land: the sandbox's request log (``/_sandbox/requests``), in another process than the server. Zero
before the click, exactly one cancel after Approve, none after Decline.

The card's host (apps_host/): ``host.html`` loads ``host.js``, bundled with esbuild together with
``@modelcontextprotocol/ext-apps`` (pinned in apps_host/package.json and its lock file, installed
by ``npm ci`` into a cache folder outside the repository). It renders the ``ui://`` resource the
tool names in a ``sandbox="allow-scripts"`` iframe under the resource's CSP, drives it through
``AppBridge`` over ``PostMessageTransport`` and relays the View's ``tools/call`` to the MCP server.
Like a web host's, its MCP session lives in its backend, here in the test itself: the Python SDK's
client, declaring ``io.modelcontextprotocol/ui`` with ``text/html;profile=mcp-app``, behind
``POST /relay`` of the loopback server that serves the page. (The page's own MCP client, over
streamable HTTP from the browser, would need CORS the server does not offer, rightly: a real web
host's MCP connection is its backend's, too.)

What these tests need is installed when missing: Debian's chromium (and nodejs/npm) with apt-get,
the ``playwright`` Python package with pip, the npm packages with ``npm ci``. A missing piece that
cannot be installed (no root for apt-get) fails the tests, with the command that fixes it; nothing
is skipped.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from e2e_support import ORDER, SERVER, HttpServer, Process, clean_env, http_client, structured
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from ports import free_port

from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

# The reason is shopper-visible text the server quotes: markup in it must show as text, never as HTML.
REASON = 'customer asked <b id="injected">twice</b>'
CANCEL = {"order_id": ORDER, "reason": REASON}
CANCEL_PATH = f"/api/oms/pvt/orders/{ORDER}/cancel"
SANDBOX_HEADERS = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}
APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
HTTP_TOKEN = "browser-e2e-token-0123456789"

CHROMIUM = "/usr/bin/chromium"
# As root Chromium needs --no-sandbox; the rest stops it from reaching for hosts it cannot reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
HOST_DIR = Path(__file__).resolve().parent / "apps_host"
EXPECT_TIMEOUT = 15_000  # ms: generous under a loaded, parallel suite


# --- what the tests need, installed when missing ---------------------------------------------------


def _apt_install(*packages: str) -> None:
    """``apt-get update`` then ``apt-get install -y`` (as root, or through passwordless sudo)."""
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            pytest.fail(f"the browser tests need {' '.join(packages)}: run `apt-get install -y {' '.join(packages)}` "
                        "as root (.ci/run does), then run them again", pytrace=False)  # fmt: skip
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run([*prefix, *step], env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(step)} failed ({done.returncode}):\n{done.stderr[-2000:]}", pytrace=False)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed with apt-get when absent; Playwright's Python package, with pip."""
    if not Path(CHROMIUM).exists():
        _apt_install("chromium")
    if importlib.util.find_spec("playwright") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "playwright"], check=True, timeout=600)
    return CHROMIUM


def _npm() -> str:
    if shutil.which("npm") is None:
        _apt_install("nodejs", "npm")
    npm = shutil.which("npm")
    assert npm is not None, "npm is still missing after apt-get install nodejs npm"
    return npm


def _installed(folder: Path) -> bool:
    return (folder / "node_modules" / ".bin" / "esbuild").exists() and (
        folder / "node_modules" / "@modelcontextprotocol" / "ext-apps" / "package.json"
    ).exists()


@pytest.fixture(scope="session")
def host_script(tmp_path_factory) -> Path:
    """apps_host/host.js bundled with the pinned ext-apps package (its host bridge) by esbuild.

    ``npm ci`` installs apps_host's lock file into a folder of the system's temporary directory
    named after the lock's digest, once per machine: later runs reuse it. It installs into a
    folder of its own, then renames it into place, so two concurrent runs cannot see half an
    install."""
    lock = (HOST_DIR / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (HOST_DIR / "package.json").read_bytes()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"vtex-orders-mcp-apps-host-{digest}"
    if not _installed(folder):
        npm = _npm()
        work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        shutil.copy(HOST_DIR / "package.json", work)
        shutil.copy(HOST_DIR / "package-lock.json", work)
        done = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=work,
                              capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)  # fmt: skip
        if done.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            pytest.fail(f"npm ci in {HOST_DIR} failed ({done.returncode}):\n{done.stderr[-3000:]}", pytrace=False)
        try:
            work.rename(folder)
        except OSError:  # another run installed it meanwhile
            shutil.rmtree(work, ignore_errors=True)
        assert _installed(folder), f"npm ci left no ext-apps or esbuild in {folder}"
    bundle = tmp_path_factory.mktemp("apps-host") / "host.js"
    built = subprocess.run([str(folder / "node_modules" / ".bin" / "esbuild"), "--bundle", "--format=esm",
                            "--platform=browser", "--sourcefile=host.js", f"--outfile={bundle}", "--log-level=warning"],
                           input=(HOST_DIR / "host.js").read_text(), cwd=folder, capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert built.returncode == 0, f"esbuild could not bundle apps_host/host.js:\n{built.stderr}"
    return bundle


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


# --- the processes: a standalone sandbox playing VTEX, the server pointed at it ---------------------


@dataclass
class Stack:
    server: HttpServer
    sandbox_url: str

    def writes(self) -> list[dict[str, Any]]:
        """Every request that reached the sandbox other than a read, refused ones included."""
        log = httpx2.get(f"{self.sandbox_url}/_sandbox/requests", headers=SANDBOX_HEADERS, timeout=10).json()
        return [r for r in log if r["method"] != "GET"]


@pytest.fixture(scope="module")
def processes(tmp_path_factory) -> Iterator[Stack]:
    """The sandbox and the server, started side by side once for this module's tests."""
    tmp = tmp_path_factory.mktemp("browser")
    sandbox_port, port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox = Process([*SERVER, "sandbox", "--port", str(sandbox_port), "--orders", "100", "--log-level", "WARNING"],
                      clean_env(tmp / "sandbox-state"), tmp / "sandbox.log").start()  # fmt: skip
    env = clean_env(tmp / "state", VTEX_BASE_URL=sandbox_url, VTEX_ACCOUNT_NAME="sandbox",
                    VTEX_APP_KEY=SANDBOX_APP_KEY, VTEX_APP_TOKEN=SANDBOX_APP_TOKEN)  # fmt: skip
    server = Process([*SERVER, "serve", "--transport", "http", "--port", str(port), "--http-token", HTTP_TOKEN],
                     env, tmp / "server.log").start()  # fmt: skip
    try:
        sandbox.wait_http(f"{sandbox_url}/_sandbox/clock")
        server.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield Stack(HttpServer(server, port, HTTP_TOKEN, tmp / "state"), sandbox_url)
    finally:
        server.stop()
        sandbox.stop()


@pytest.fixture
def stack(processes: Stack) -> Stack:
    """The shared processes, with the sandbox back to its seed (the order cancellable again) and
    its request log empty."""
    httpx2.post(f"{processes.sandbox_url}/_sandbox/reset", headers=SANDBOX_HEADERS, timeout=10).raise_for_status()
    assert processes.writes() == []
    return processes


def cancelled(stack: Stack) -> list[dict[str, Any]]:
    """The writes so far, after checking each is the one cancel the person was asked about."""
    writes = stack.writes()
    assert all(w["method"] == "POST" and w["path"] == CANCEL_PATH and w["status"] < 300 for w in writes), writes
    return writes


# --- the approval page -----------------------------------------------------------------------------


async def ask_for_a_page(stack: Stack) -> dict[str, Any]:
    """A client without elicitation (nor MCP Apps) asks to cancel: the answer links to the page."""
    async with http_client(stack.server.url, stack.server.token) as client:
        asked = structured(await client.call_tool("cancel_order", CANCEL))
    assert asked["status"] == "approval_required" and asked["channel"] == "page", asked
    assert asked["approval"]["url"].startswith(f"{stack.server.base}/approvals/")
    return asked


async def check(stack: Stack, approval_id: str) -> dict[str, Any]:
    async with http_client(stack.server.url, stack.server.token) as client:
        return structured(await client.call_tool("check_approval", {"approval_id": approval_id}))


@pytest.mark.parametrize(("button", "heading", "status", "writes"), [
    ("approve", "Approved: the change was sent to VTEX.", "done", 1),
    ("decline", "Declined: nothing was sent to VTEX.", "declined", 0),
])  # fmt: skip
async def test_a_person_decides_on_the_approval_page(stack, browser, button, heading, status, writes):
    from playwright.async_api import expect

    asked = await ask_for_a_page(stack)
    page = await browser.new_page()
    shown = await page.goto(asked["approval"]["url"])
    assert shown is not None and shown.status == 200
    await expect(page.locator("h1")).to_have_text("Approve this change?")
    await expect(page.locator(".summary")).to_contain_text(f"Cancel order {ORDER}")
    await expect(page.locator("pre")).to_contain_text(f'"reason": {json.dumps(REASON)}')
    assert await page.locator("#injected").count() == 0
    await expect(page.locator(".muted")).to_contain_text(asked["approval"]["id"])
    other_tab = await browser.new_page()  # the same link open twice, say by two people
    await other_tab.goto(asked["approval"]["url"])
    assert cancelled(stack) == []  # the page is showing, nobody clicked: nothing sent

    async with page.expect_navigation():
        await page.locator(f'button[value="{button}"]').click()
    await expect(page.locator("h1")).to_have_text(heading)
    assert len(cancelled(stack)) == writes
    assert (await check(stack, asked["approval"]["id"]))["status"] == status
    # Approve in the other tab, on its stale form: the approval was decided once, and stays so.
    async with other_tab.expect_navigation():
        await other_tab.locator('button[value="approve"]').click()
    await expect(other_tab.locator("h1")).to_contain_text("already decided")
    assert len(cancelled(stack)) == writes


# --- the MCP Apps approval card --------------------------------------------------------------------


@dataclass
class Host:
    """The test's MCP Apps host: its page and script, and its backend's MCP session (``/relay``)."""

    url: str
    relayed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


async def _relay(client: Any, method: str, params: dict[str, Any]) -> Any:
    if method == "tools/list":
        return await client.list_tools()
    if method == "tools/call":
        return await client.call_tool(params["name"], params.get("arguments") or {})
    if method == "resources/read":
        return await client.read_resource(params["uri"])
    raise ValueError(f"this host does not relay {method}")


@asynccontextmanager
async def apps_host(stack: Stack, script: Path) -> AsyncIterator[Host]:
    """Serves the host page on a loopback port; its backend holds one MCP session that declared
    MCP Apps, and relays the page's requests to the server over it."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    host = Host(url=f"http://127.0.0.1:{sock.getsockname()[1]}/")
    async with http_client(stack.server.url, stack.server.token, extensions=[APPS]) as client:

        async def relay(request: Request) -> Response:
            asked = await request.json()
            method, params = asked["method"], asked.get("params") or {}
            host.relayed.append((method, params))
            try:
                result = await _relay(client, method, params)
            except Exception as exc:  # the page shows it; the test fails on it
                return JSONResponse({"error": {"message": f"{type(exc).__name__}: {exc}"}})
            return JSONResponse({"result": result.model_dump(mode="json", by_alias=True, exclude_none=True)})

        app = Starlette(routes=[
            Route("/", lambda _: FileResponse(HOST_DIR / "host.html", headers={"Cache-Control": "no-store"})),
            Route("/host.js", lambda _: FileResponse(script, media_type="text/javascript")),
            Route("/relay", relay, methods=["POST"]),
        ])  # fmt: skip
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: server.serve(sockets=[sock]))
            while not server.started:
                await anyio.sleep(0.01)
            try:
                yield host
            finally:
                server.should_exit = True
    sock.close()


def from_view(page_messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["message"] for m in page_messages if m["from"] == "view"]


def from_host(page_messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["message"] for m in page_messages if m["from"] == "host"]


@pytest.mark.parametrize(("button", "outcome", "status", "writes"), [
    ("approve", "Approved: the change was sent to VTEX.", "done", 1),
    ("decline", "Declined: nothing was sent to VTEX.", "declined", 0),
])  # fmt: skip
async def test_a_person_decides_on_the_card_in_an_mcp_apps_host(
    stack, browser, host_script, button, outcome, status, writes
):
    from playwright.async_api import expect

    async with apps_host(stack, host_script) as host:
        page = await browser.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        await page.goto(host.url)
        await page.wait_for_function("window.host !== undefined")
        with anyio.fail_after(30):
            result = await page.evaluate("([t, args]) => window.host.show(t, args)", ["cancel_order", CANCEL])
        asked = result["structuredContent"]
        assert asked["channel"] == "app" and asked["approval"]["arguments"] == CANCEL, asked
        approval_id = asked["approval"]["id"]

        card = page.frame_locator("iframe#view")
        await expect(card.locator("#title")).to_have_text("Approve this change?", timeout=EXPECT_TIMEOUT)
        await expect(card.locator("#summary")).to_contain_text(f"Cancel order {ORDER}")
        await expect(card.locator("#arguments")).to_contain_text('"tool": "cancel_order"')
        await expect(card.locator("#arguments")).to_contain_text(f'"reason": {json.dumps(REASON)}')
        await expect(card.locator("#summary")).to_contain_text(REASON)
        assert await card.locator("#injected").count() == 0
        await expect(card.locator("#facts")).to_contain_text(f"order state {asked['approval']['orderState'][:8]}")
        await expect(card.locator("#facts")).to_contain_text(approval_id)
        assert cancelled(stack) == []  # the card is showing, nobody clicked: nothing sent

        # The host relays the card's tools/call only for a tool its session lists (decide_approval is
        # listed to sessions that declared MCP Apps alone) that is not model-only.
        await card.locator(f"#{button}").click()
        await expect(card.locator("#outcome")).to_have_text(outcome, timeout=EXPECT_TIMEOUT)
        assert len(cancelled(stack)) == writes
        assert ("tools/call", {"name": "decide_approval", "arguments": {"approval_id": approval_id,
                "approve": button == "approve"}}) in host.relayed  # fmt: skip
        async with http_client(stack.server.url, stack.server.token, extensions=[APPS]) as again:
            state = structured(await again.call_tool("check_approval", {"approval_id": approval_id}))
        assert state["status"] == status

        # The View answers the host's own requests: ping, then teardown before the host removes it.
        assert await page.evaluate("window.host.ping()") == {}
        assert await page.evaluate("window.host.teardown()") == {}
        messages = await page.evaluate("window.host.messages")
        errors = await page.evaluate("window.host.errors")
        height = await page.locator("iframe#view").evaluate("e => e.getBoundingClientRect().height")

    # The protocol as the package's host bridge saw it, and nothing else on the wire or the console.
    view = from_view(messages)
    assert view[0]["method"] == "ui/initialize" and view[0]["params"]["protocolVersion"] == "2026-01-26"
    assert view[1]["method"] == "ui/notifications/initialized"
    methods = [m.get("method") for m in view]
    assert "ui/notifications/size-changed" in methods and methods.count("tools/call") == 1
    host_methods = [m.get("method") for m in from_host(messages)]
    assert host_methods.index("ui/notifications/tool-input") < host_methods.index("ui/notifications/tool-result")
    assert errors == [] and not [c for c in console if c.startswith(("error", "warning", "pageerror"))], console
    assert {r.split("/", 3)[-1] for r in requests} <= {"", "host.js", "relay"}, requests  # the card loads nothing
    assert height > 150  # sized by the View's size-changed notifications, not the iframe default
    assert len(cancelled(stack)) == writes
