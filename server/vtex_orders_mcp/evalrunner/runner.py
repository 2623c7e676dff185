"""Running one scenario: a fresh server on a fresh sandbox, an in-memory client, scripted approvals.

For each scenario the runner builds a ``Sandbox(seed, orders, now)`` (clock frozen), a server on
it with a throw-away state directory (audit log and token secret), and an in-memory
``mcp.Client``. When the scenario's client declares elicitation, the client's elicitation
callback is ``ScriptedApprovals``: it answers each approval the guard asks with the next answer
the current step scripted, and records the question (the guard's summary). A client without
elicitation gets the two-step token path instead, and ``confirm`` steps redeem the confirmation a
previous step returned. ``advance`` steps move the frozen sandbox clock forward (a modification
finishing, a feed item becoming visible again), still deterministically. The client's response
cache is off: a read after a write must reach the server.

Each step's outcome is a plain JSON document (see the schema's ``expect`` description) that the
step's expectations are evaluated against (paths.py); earlier outcomes can be reused in later
arguments with ``{"$ref": "last.<path>"}`` / ``{"$ref": "steps.<id>.<path>"}``. A tool call that
errors fails the step unless the step expects an error. After the last step, ``after``
expectations run against the sandbox's orders, its request log and the audit log.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcp import Client, MCPError, types

from ..config import Settings
from ..registry import CONFIRM_TOOL
from ..server import build_server
from .loading import load_scenario, validate
from .paths import MISSING, Check, evaluate, resolve, same
from .transcript import Masker, Transcript, dumps

__all__ = ["DEFAULT_NOW", "DEFAULT_ORDERS", "DEFAULT_SEED", "arun_scenario"]

DEFAULT_NOW = "2024-05-01T12:00:00Z"
DEFAULT_SEED = 7
DEFAULT_ORDERS = 40


class ScriptedApprovals:
    """The client's elicitation callback: answers from the current step's script, in order."""

    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.asked: list[dict[str, Any]] = []

    def load(self, answers: Any) -> None:
        answers = [] if answers is None else answers if isinstance(answers, list) else [answers]
        self.script = [{"action": a} if isinstance(a, str) else dict(a) for a in answers]
        self.asked = []

    async def __call__(self, context: Any, params: Any) -> types.ElicitResult:
        question = getattr(params, "message", "")
        if self.script:
            answer, scripted = self.script.pop(0), True
        else:  # a question nobody scripted: say no, and let the step fail on it
            answer, scripted = {"action": "cancel"}, False
        record: dict[str, Any] = {"question": question, "answer": answer["action"]}
        if answer.get("content"):
            record["content"] = answer["content"]
        if not scripted:
            record["unscripted"] = True
        self.asked.append(record)
        content = answer.get("content", {}) if answer["action"] == "accept" else None
        return types.ElicitResult(action=answer["action"], content=content)


class StepError(Exception):
    """The runner could not even send a step (a $ref to nothing, no confirmation to confirm)."""


# --- helpers ------------------------------------------------------------------------------------


def _now(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _merge(base: Any, patch: Any) -> Any:
    """JSON Merge Patch (RFC 7386): objects merge recursively, ``null`` removes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(base) if isinstance(base, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


def _sent(entry: Any) -> str:
    query = "&".join(f"{k}={v}" for k, vals in sorted(entry.query.items()) for v in vals)
    return f"{entry.method} {entry.path}{'?' + query if query else ''} {entry.status}"


def _json_or_missing(text: str | None) -> Any:
    if text is None:
        return MISSING
    try:
        return json.loads(text)
    except ValueError:
        return MISSING


class _Session:
    """One scenario run: the server, the client, the history of outcomes."""

    def __init__(self, doc: dict[str, Any], transcript: Transcript, client: Client, app: Any,
                 approvals: ScriptedApprovals) -> None:  # fmt: skip
        self.doc = doc
        self.t = transcript
        self.client = client
        self.app = app
        self.sandbox = app.sandbox
        self.approvals = approvals
        self.mask = Masker()
        self.outcomes: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}

    # -- references ------------------------------------------------------------------------

    def lookup(self, ref: str) -> Any:
        head, _, rest = ref.partition(".")
        if head == "last":
            if not self.outcomes:
                raise StepError(f"$ref {ref!r}: there is no earlier step")
            doc = self.outcomes[-1]
        elif head == "steps":
            sid, _, rest = rest.partition(".")
            if sid not in self.by_id:
                raise StepError(f"$ref {ref!r}: no earlier step has id {sid!r}")
            doc = self.by_id[sid]
        else:
            raise StepError(f"$ref {ref!r}: must start with 'last.' or 'steps.<id>.'")
        value = resolve(doc, rest) if rest else doc
        if value is MISSING:
            raise StepError(f"$ref {ref!r}: nothing at that path")
        return copy.deepcopy(value)

    def expand(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"$ref"} and isinstance(value["$ref"], str):
                return self.lookup(value["$ref"])
            return {k: self.expand(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.expand(v) for v in value]
        return value

    def confirmation(self, which: str) -> dict[str, Any]:
        if which == "last":
            for outcome in reversed(self.outcomes):
                conf = resolve(outcome, "structured.confirmation")
                if isinstance(conf, dict):
                    return copy.deepcopy(conf)
            raise StepError("confirm: last: no earlier step returned a confirmation")
        if which not in self.by_id:
            raise StepError(f"confirm: no earlier step has id {which!r}")
        conf = resolve(self.by_id[which], "structured.confirmation")
        if not isinstance(conf, dict):
            raise StepError(f"confirm: step {which!r} returned no confirmation")
        return copy.deepcopy(conf)

    # -- one step --------------------------------------------------------------------------

    async def _tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.call_tool(name, arguments)
        out: dict[str, Any] = {"isError": bool(r.is_error)}
        if r.structured_content is not None:
            out["structured"] = r.structured_content
        out["text"] = "\n".join(c.text for c in r.content if isinstance(c, types.TextContent))
        others = [c.type for c in r.content if not isinstance(c, types.TextContent)]
        if others:
            out["otherContent"] = others
        return out

    async def _read(self, uri: str) -> dict[str, Any]:
        r = await self.client.read_resource(uri)
        contents = []
        for c in r.contents:
            item: dict[str, Any] = {"uri": str(c.uri), "mimeType": c.mime_type}
            text = getattr(c, "text", None)
            if text is not None:
                item["text"] = text
                parsed = _json_or_missing(text)
                if parsed is not MISSING:
                    item["json"] = parsed
            else:
                item["blobLength"] = len(getattr(c, "blob", "") or "")
            contents.append(item)
        out: dict[str, Any] = {"contents": contents}
        if contents and "text" in contents[0]:
            out["text"] = contents[0]["text"]
            if "json" in contents[0]:
                out["json"] = contents[0]["json"]
        return out

    async def _prompt(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        # Prompt arguments are strings on the wire; let scenarios write numbers and booleans.
        args = {k: v if isinstance(v, str) else json.dumps(v) for k, v in arguments.items()}
        r = await self.client.get_prompt(name, args or None)
        messages = []
        for m in r.messages:
            content = m.content
            message: dict[str, Any] = {"role": m.role, "type": content.type}
            text = getattr(content, "text", None)
            if isinstance(content, types.EmbeddedResource):  # an embedded resource (order, reference)
                message["uri"] = str(content.resource.uri)
                text = getattr(content.resource, "text", None)
            message["text"] = text
            messages.append(message)
        return {
            "description": r.description,
            "messages": messages,
            "text": "\n\n".join(m["text"] for m in messages if m["text"]),
        }

    async def _list(self, what: str) -> dict[str, Any]:
        if what == "tools":
            return {"names": [t.name for t in (await self.client.list_tools()).tools]}
        if what == "resources":
            return {"names": [str(r.uri) for r in (await self.client.list_resources()).resources]}
        if what == "resource_templates":
            res = await self.client.list_resource_templates()
            return {"names": [t.uri_template for t in res.resource_templates]}
        return {"names": [p.name for p in (await self.client.list_prompts()).prompts]}

    async def step(self, index: int, step: dict[str, Any]) -> None:
        expect = step.get("expect") or {}
        record: dict[str, Any] = {"scenario": self.t.name, "step": index}
        for key in ("id", "note"):
            if key in step:
                record[key] = step[key]
        before = len(self.sandbox.requests)
        self.approvals.load(step.get("approve"))
        outcome: dict[str, Any]
        try:
            if "call" in step:
                arguments = self.expand(step.get("arguments") or {})
                record["do"] = {"call": step["call"], "arguments": arguments}
                outcome = await self._guarded(self._tool(step["call"], arguments))
            elif "confirm" in step:
                conf = _merge(self.confirmation(step["confirm"]), self.expand(step.get("override") or {}))
                record["do"] = {"confirm": step["confirm"], "call": CONFIRM_TOOL, "arguments": conf}
                outcome = await self._guarded(self._tool(CONFIRM_TOOL, conf))
            elif "read" in step:
                record["do"] = {"read": step["read"]}
                outcome = await self._guarded(self._read(step["read"]))
            elif "prompt" in step:
                arguments = self.expand(step.get("arguments") or {})
                record["do"] = {"prompt": step["prompt"], "arguments": arguments}
                outcome = await self._guarded(self._prompt(step["prompt"], arguments))
            elif "list" in step:
                record["do"] = {"list": step["list"]}
                outcome = await self._guarded(self._list(step["list"]))
            else:  # advance: move the frozen sandbox clock (feed visibility, modification progress)
                record["do"] = {"advance": step["advance"]}
                self.sandbox.clock.advance(step["advance"])
                outcome = {"now": self.sandbox.store.iso()}
        except StepError as exc:
            record.setdefault("do", {k: step[k] for k in ("call", "confirm", "read", "prompt") if k in step})
            outcome = {"runnerError": str(exc)}
        reached = self.sandbox.requests[before:]
        outcome["sent"] = [_sent(e) for e in reached]
        outcome["sentWrites"] = [_sent(e) for e in reached if e.method != "GET"]
        if "call" in step or "confirm" in step:
            outcome["approvals"] = self.approvals.asked

        try:  # expected values may refer to earlier outcomes too ("a new handle, not the first one")
            expect = self.expand(expect)
        except StepError as exc:
            outcome.setdefault("runnerError", str(exc))
        checks = self._checks(outcome, expect)
        self.mask.learn({k: v for k, v in outcome.items() if k in ("structured", "text")})
        self.outcomes.append(outcome)
        if "id" in step:
            self.by_id[step["id"]] = outcome
        record["outcome"] = _for_transcript(outcome)
        record["checks"] = [c.as_dict() for c in checks]
        record["ok"] = all(c.ok for c in checks)
        label = f"step {index}" + (f" ({step['id']})" if "id" in step else "")
        self._finish(record, checks, label, reason=upstream_reason(outcome))

    async def _guarded(self, call: Any) -> dict[str, Any]:
        try:
            return await call
        except MCPError as exc:  # JSON-RPC level: unknown resource, protocol refusals
            return {"protocolError": {"code": exc.code, "message": exc.message}}
        except Exception as exc:  # the client itself failed: fail this step, run the rest
            return {"runnerError": f"the client failed: {type(exc).__name__}: {exc}"}

    def _checks(self, outcome: dict[str, Any], expect: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "runnerError" in outcome:
            checks.append(Check("step could be sent", False, outcome["runnerError"]))
            return checks
        proto = outcome.get("protocolError")
        is_error = outcome.get("isError", False) or proto is not None
        error_text = proto["message"] if proto else outcome.get("text") if is_error else MISSING
        if "isError" in expect:
            checks.append(Check(f"isError == {json.dumps(expect['isError'])}", same(is_error, expect["isError"]),
                                error_text if is_error else False))  # fmt: skip
        if "error" in expect:
            ok = isinstance(error_text, str) and expect["error"] in error_text
            checks.append(Check(f"error contains {json.dumps(expect['error'], ensure_ascii=False)}", ok,
                                error_text if is_error else "no error"))  # fmt: skip
        if "isError" not in expect and "error" not in expect and is_error:
            checks.append(Check("no error (the step does not expect one)", False, error_text))
        texts = expect.get("text")
        for s in [texts] if isinstance(texts, str) else texts or []:
            got = outcome.get("text", MISSING)
            checks.append(Check(f"text contains {json.dumps(s, ensure_ascii=False)}",
                                isinstance(got, str) and s in got, got))  # fmt: skip
        asked = outcome.get("approvals", [])
        if "question" in expect:
            ok = bool(asked) and all(expect["question"] in a["question"] for a in asked)
            checks.append(Check(f"question contains {json.dumps(expect['question'], ensure_ascii=False)}", ok,
                                [a["question"] for a in asked]))  # fmt: skip
        for a in asked:
            if a.get("unscripted"):
                checks.append(Check("every approval asked has a scripted answer", False, a["question"]))
        if self.approvals.script:
            left = [a["action"] for a in self.approvals.script]
            checks.append(Check("every scripted answer was used", False, left))
        checks += evaluate(outcome, expect)
        return checks

    def _finish(self, record: dict[str, Any], checks: list[Check], label: str, reason: str | None = None) -> None:
        """Record the step; each failed check becomes one failure line, which also says why VTEX
        refused when it did (``reason``): "got waiting-confirmation" alone does not say ORDMOD101."""
        record = self.mask(record)
        for c in checks:
            if not c.ok:
                got = "<missing>" if c.got is MISSING else dumps(self.mask(c.got))
                if len(got) > 300:
                    got = got[:300] + "…"
                line = f"{label}: expected {self.mask(c.check)}; got {got}"
                if reason and reason[:60] not in got:
                    line += f" (VTEX said: {self.mask(reason)})"
                self.t.failures.append(line)
        self.t.records.append(record)

    # -- the end ---------------------------------------------------------------------------

    async def final_state(self) -> dict[str, Any]:
        requests = [{k: v for k, v in e.to_dict().items() if k != "time"} for e in self.sandbox.requests]
        writes = [r for r in requests if r["method"] != "GET"]
        audit = [
            {k: v for k, v in rec.as_dict().items() if k not in ("time", "call_id", "id")}
            for rec in reversed(await self.app.store.recent(100_000))
        ]
        return {
            "orders": self.sandbox.store.orders,
            "requests": requests,
            "writes": writes,
            "routes": dict(Counter(r["route"] for r in requests)),
            "write_routes": dict(Counter(r["route"] for r in writes)),
            "audit": audit,
            "audit_events": [f"{a['tool']}:{a['event']}" for a in audit],
        }

    async def end(self) -> None:
        state = await self.final_state()
        checks = evaluate(state, self.doc.get("after") or {})
        record: dict[str, Any] = {
            "scenario": self.t.name,
            "event": "end",
            "write_routes": state["write_routes"],
            "audit_events": state["audit_events"],
            "checks": [c.as_dict() for c in checks],
        }
        self._finish(record, checks, "after")
        self.t.records[-1]["passed"] = self.t.passed
        self.t.records[-1]["failures"] = list(self.t.failures)


def upstream_reason(outcome: dict[str, Any]) -> str | None:
    """Why VTEX refused, when it did: the tool's error text if a request of the step was answered
    with an error status, else the first VTEX error object (``{"code", "message"}``) in the
    structured result, e.g. a modification that stopped on error (ORDMOD101 on a price increase
    paid by Boleto). None when VTEX refused nothing (a validation error never left the server)."""
    refused = any(int(sent.rsplit(" ", 1)[-1]) >= 400 for sent in outcome.get("sent") or [])
    if outcome.get("isError") and refused and outcome.get("text"):
        return _cut(str(outcome["text"]))
    found = _error_object(outcome.get("structured"))
    return _cut(found) if found else None


def _error_object(value: Any) -> str | None:
    if isinstance(value, dict):
        error = value.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]:
            code = error.get("code")
            return f"[{code}] {error['message']}" if code else error["message"]
        for child in value.values():
            found = _error_object(child)
            if found:
                return found
    elif isinstance(value, list):
        for child in value:
            found = _error_object(child)
            if found:
                return found
    return None


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _for_transcript(outcome: dict[str, Any]) -> dict[str, Any]:
    """The outcome minus what repeats itself (text that is just the structured JSON, parsed text)."""
    out = dict(outcome)
    if "structured" in out and out.get("text") == dumps(out["structured"]):
        del out["text"]
    if "contents" in out:
        out.pop("text", None)
        out.pop("json", None)
        out["contents"] = [{k: v for k, v in c.items() if not (k == "text" and "json" in c)} for c in out["contents"]]
    if "messages" in out:
        out.pop("text", None)
    return out


# --- entry point --------------------------------------------------------------------------------


async def arun_scenario(source: str | Path | dict[str, Any]) -> Transcript:
    """Run one scenario (a file, or an already-parsed document) and return its transcript.

    Raises ScenarioError if the file cannot be read or is not a valid scenario.
    """
    from ..sandbox import Sandbox

    if isinstance(source, dict):
        doc, file = validate(source, "<scenario>"), "<scenario>"
    else:
        doc, file = load_scenario(source), Path(source).name
    sb = {"seed": DEFAULT_SEED, "orders": DEFAULT_ORDERS, "now": DEFAULT_NOW, **(doc.get("sandbox") or {})}
    server = {"guard": "auto", "read_only": False, "guard_relax": [], **(doc.get("server") or {})}
    client_conf = {"elicitation": True, "mode": "auto", **(doc.get("client") or {})}
    transcript = Transcript(name=doc["name"], file=file)
    start: dict[str, Any] = {"scenario": doc["name"], "event": "start", "file": file}
    if doc.get("description"):
        start["description"] = doc["description"]
    start.update(sandbox=sb, server=server, client=client_conf)
    transcript.records.append(start)

    sandbox = Sandbox(seed=sb["seed"], orders=sb["orders"], now=_now(sb["now"]))
    with tempfile.TemporaryDirectory(prefix="vtex-orders-eval-") as state_dir:
        settings = Settings.from_env(
            {}, state_dir=state_dir, guard=server["guard"], read_only=server["read_only"],
            guard_relax=frozenset(server["guard_relax"]),
            toolsets=frozenset(server["toolsets"]) if "toolsets" in server else None,
        )  # fmt: skip
        app = build_server(settings, sandbox=sandbox)
        approvals = ScriptedApprovals()
        client = Client(
            app.server,
            elicitation_callback=approvals if client_conf["elicitation"] else None,
            mode=client_conf["mode"],
            cache=None,
        )
        try:
            async with client:
                session = _Session(doc, transcript, client, app, approvals)
                for i, step in enumerate(doc["steps"], start=1):
                    await session.step(i, step)
                await session.end()
        finally:
            await app.aclose()
            app.store.close()
    return transcript
