"""Window to change seller (#27/#28) in the sandbox, through the HTTP layer."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from sandbox_support import http

from vtex_orders_mcp.sandbox import Sandbox
from vtex_orders_mcp.sandbox.checkout import DEFAULT_WAITING_DAYS

pytestmark = pytest.mark.anyio

SCHEMAS = json.loads((Path(__file__).parents[1] / "data" / "vtex_orders_responses_ext.json").read_text())
PATH = "/api/checkout/pvt/configuration/window-to-change-seller"


@pytest.fixture
def sandbox():
    return Sandbox(orders=10)


@pytest.fixture
async def client(sandbox):
    async with http(sandbox) as c:
        yield c


async def test_default_window_is_two_days(client):
    r = await client.get(PATH)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    jsonschema.Draft7Validator(SCHEMAS[f"GET {PATH}"]["200"]).validate(r.json())
    assert r.json() == DEFAULT_WAITING_DAYS == 2


# VTEX documents no upper bound: 45 days (once refused by an invented limit of 30) is accepted.
@pytest.mark.parametrize("days", [0, 4, 45])
async def test_update_window(client, days):
    r = await client.post(PATH, json={"waitingTime": days})
    assert r.status_code == 201
    assert r.content == b""
    assert SCHEMAS[f"POST {PATH}"] == {"201": None}  # documented without a body
    assert (await client.get(PATH)).json() == days


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "waitingTime is required"),
        ({"waitingTime": -1}, "0 or more days"),
        ({"waitingTime": 2.5}, "integer"),
        ({"waitingTime": "3"}, "integer"),
        ({"waitingTime": True}, "integer"),
        ([3], "waitingTime is required"),
    ],
)
async def test_update_window_refusals(client, body, fragment):
    r = await client.post(PATH, json=body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "CHK001"
    assert fragment in r.json()["error"]["message"]
    assert (await client.get(PATH)).json() == DEFAULT_WAITING_DAYS


async def test_invalid_json_is_400(client):
    r = await client.post(PATH, content=b"{waitingTime: 3", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert "not valid JSON" in r.json()["error"]["message"]


async def test_reset_restores_default(client, sandbox):
    await client.post(PATH, json={"waitingTime": 7})
    sandbox.reset()
    assert (await client.get(PATH)).json() == DEFAULT_WAITING_DAYS
