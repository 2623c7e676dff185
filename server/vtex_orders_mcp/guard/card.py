"""The MCP Apps approval card: a ``ui://`` app a host renders when a write needs approval.

The host (claude.ai, or any host implementing ``io.modelcontextprotocol/ui``) renders this
document in a sandboxed iframe next to the write tool's result, and relays messages between the
card and the server over ``postMessage`` (JSON-RPC 2.0, the MCP Apps protocol):

1. the card asks the host to connect (``ui/initialize``), then says it is ready
   (``ui/notifications/initialized``);
2. the host sends the tool's result (``ui/notifications/tool-result``): its structured content
   carries the approval (id, summary, the exact arguments, the order's state, expiry);
3. Approve / Decline call the app-only ``decide_approval`` tool through the host (``tools/call``);
   the answer (done, declined, failed) is shown on the card.

The card is self-contained: no network access, no CDN, no external script; its script only
speaks ``postMessage`` to its parent. Every value from the server (the summary quotes shopper
data) is written with ``textContent``, never as HTML.
"""

from __future__ import annotations

__all__ = ["CARD_HTML"]

CARD_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Approve a change</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; padding: 12px; color: #1b1b1b; }
  h1 { font-size: 15px; margin: 0 0 8px; }
  pre { background: #f4f4f4; padding: 8px; white-space: pre-wrap; word-break: break-word; margin: 8px 0; }
  .muted { color: #666; font-size: 12px; }
  .actions { margin-top: 10px; }
  button { font-size: 14px; padding: 6px 16px; margin-right: 8px; }
  #outcome { margin-top: 10px; font-weight: 600; }
</style>
</head>
<body>
<h1 id="title">Waiting for the approval…</h1>
<p id="summary"></p>
<pre id="arguments" hidden></pre>
<p class="muted" id="facts"></p>
<div class="actions" id="actions" hidden>
  <button id="approve" type="button">Approve</button>
  <button id="decline" type="button">Decline</button>
</div>
<p id="outcome" role="status"></p>
<script>
(() => {
  "use strict";
  const CARD_TOOL = "decide_approval";
  const pending = new Map();
  let nextId = 1;
  let approval = null;

  const $ = (id) => document.getElementById(id);
  const show = (id, text) => { $(id).textContent = text; };

  function send(message) { window.parent.postMessage({ jsonrpc: "2.0", ...message }, "*"); }
  function request(method, params) {
    const id = nextId++;
    send({ id, method, params });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }
  function notify(method, params) { send({ method, params: params || {} }); }

  function render(result) {
    const data = (result && result.structuredContent) || {};
    if (data.status !== "approval_required" || !data.approval) {
      show("title", data.status === "done" ? "Done" : "Nothing to approve");
      show("summary", data.summary || "");
      return;
    }
    approval = data.approval;
    show("title", "Approve this change?");
    show("summary", data.summary || "");
    $("arguments").hidden = false;
    show("arguments", JSON.stringify({ tool: approval.tool, arguments: approval.arguments }, null, 2));
    const state = approval.orderState ? "order state " + approval.orderState.slice(0, 8) : "not bound to an order";
    show("facts", "Exactly this will be sent to VTEX · " + state + " · approval " + approval.id);
    $("actions").hidden = false;
  }

  async function decide(approve) {
    if (!approval) return;
    $("approve").disabled = $("decline").disabled = true;
    show("outcome", approve ? "Approving…" : "Declining…");
    try {
      const result = await request("tools/call", { name: CARD_TOOL, arguments: { approval_id: approval.id, approve } });
      const data = (result && result.structuredContent) || {};
      show("outcome", data.message || (result && result.isError ? "Not executed." : "Decided."));
      $("actions").hidden = true;
    } catch (error) {
      show("outcome", "The host could not reach the server: " + (error && error.message ? error.message : error));
      $("approve").disabled = $("decline").disabled = false;
    }
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.id !== undefined && pending.has(message.id) && !message.method) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(message.error.message || "error"));
      else resolve(message.result);
      return;
    }
    if (message.method === "ui/notifications/tool-result") render(message.params);
    else if (message.method === "ui/resource-teardown" && message.id !== undefined) {
      send({ id: message.id, result: {} });
    }
  });

  $("approve").addEventListener("click", () => decide(true));
  $("decline").addEventListener("click", () => decide(false));

  request("ui/initialize", {
    appInfo: { name: "vtex-orders-approval", version: "1" },
    appCapabilities: {},
    protocolVersion: "2026-01-26",
  }).then(() => notify("ui/notifications/initialized"), () => show("title", "No host to talk to."));
})();
</script>
</body>
</html>
"""
