"""The scripted human: decides approvals on the server's approval page, as the ticket says.

Inspect's MCP client declares no elicitation, so a guarded write answers ``approval_required``
with a link to the server's approval page (a loopback port over stdio). A person would open the
link the assistant shows them; this one reads every tool result for such links, opens the page
like a browser (GET, then POST the form with its CSRF token and the page's own Origin), reads the
summary the server wrote from the order's live state, and decides:

- ``approve``: approves whatever is asked (a trusting human: the agent's mistakes reach the store);
- ``decline``: declines everything;
- ``approve_if_target``: approves only when the summary names the ticket's order.

The guard stays on throughout: this is the same page and the same checks a person goes through.
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx2

__all__ = ["APPROVAL_LINK", "ScriptedHuman", "approval_ids"]

APPROVAL_LINK = re.compile(r"https?://[^\s\"'<>()]+/approvals/(?P<id>[0-9a-f]{32})/[0-9a-f]+")
_SUMMARY = re.compile(r'<p class="summary">(.*?)</p>', re.S)
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_HEADING = re.compile(r"<h1>(.*?)</h1>", re.S)


def approval_ids(text: str) -> list[str]:
    """The approval ids of the approval links in a tool result, in order."""
    return [m.group("id") for m in APPROVAL_LINK.finditer(text)]


class ScriptedHuman:
    def __init__(self, policy: str, target: str) -> None:
        if policy not in ("approve", "decline", "approve_if_target"):
            raise ValueError(f"unknown approval policy {policy!r}")
        self.policy = policy
        self.target = target
        self.decisions: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def decide(self, summary: str) -> str:
        if self.policy == "approve_if_target":
            return "approve" if re.search(rf"\b{re.escape(self.target)}\b", summary) else "decline"
        return self.policy

    async def review(self, text: str) -> None:
        """Decide every approval linked in ``text`` that this human has not seen yet."""
        for m in APPROVAL_LINK.finditer(text):
            if m.group("id") in self._seen:
                continue
            self._seen.add(m.group("id"))
            await self._answer(m.group(0), m.group("id"))

    async def _answer(self, url: str, approval_id: str) -> None:
        origin = url.split("/approvals/")[0]
        async with httpx2.AsyncClient(timeout=10) as http:
            page = await http.get(url)
            summary = html.unescape(m.group(1)) if (m := _SUMMARY.search(page.text)) else ""
            csrf = _CSRF.search(page.text)
            decision = self.decide(summary)
            record: dict[str, Any] = {"approval": approval_id, "summary": summary, "decision": decision}
            if page.status_code != 200 or csrf is None:  # expired, already decided, not found
                record["page"] = f"{page.status_code}: no form to decide on"
                self.decisions.append(record)
                return
            answer = await http.post(url, data={"decision": decision, "csrf": csrf.group(1)},
                                     headers={"Origin": origin})  # fmt: skip
            heading = _HEADING.search(answer.text)
            record["page"] = f"{answer.status_code}: {html.unescape(heading.group(1)) if heading else ''}"
            self.decisions.append(record)
