"""The MCP Apps approval card: a ``ui://`` app a host renders when a write needs approval.

The host (claude.ai, or any host implementing ``io.modelcontextprotocol/ui``) renders this
document in a sandboxed iframe for the write tool's result, and the card speaks the MCP Apps
protocol (2026-01-26) with it: JSON-RPC 2.0 over ``postMessage``, to and from ``window.parent``
only. Checked against the ``@modelcontextprotocol/ext-apps`` package's host bridge (``AppBridge``
over ``PostMessageTransport``, tests/e2e/test_browser.py):

1. the card asks to connect, ``ui/initialize`` {appInfo, appCapabilities, protocolVersion}; the
   host answers {protocolVersion, hostInfo, hostCapabilities, hostContext} (the card takes the
   host's theme and style variables from the context); then ``ui/notifications/initialized``,
   and ``ui/notifications/size-changed`` {width, height} whenever its content changes size;
2. the host sends ``ui/notifications/tool-input`` (the model's arguments: not shown, they are
   not what will be sent), then ``ui/notifications/tool-result``, the write tool's
   ``CallToolResult``: its structured content carries the approval (id, summary, the exact
   arguments, the order's state, expiry); ``ui/notifications/tool-cancelled`` says there is none;
3. Approve / Decline send ``tools/call`` for the app-only ``decide_approval`` tool, which the
   host forwards to the server; the answer's ``structuredContent.message`` (done, declined,
   failed; for an error, its text) is shown on the card;
4. the card answers the host's requests: ``ping`` and ``ui/resource-teardown`` with ``{}``,
   anything else with JSON-RPC error -32601. Other notifications are ignored.

The card is self-contained: no network access, no CDN, no external script (its resource declares
no CSP domain, so hosts allow none); its script is written here, by hand, and only speaks
``postMessage`` to its parent. Every value from the server (the summary quotes shopper data) is
written with ``textContent``, never as HTML.
"""

from __future__ import annotations

__all__ = ["CARD_HTML"]

CARD_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Approve a change</title>
<style>
  :root { color-scheme: light dark; }
  body {
    font: 14px/1.45 var(--font-sans, system-ui, sans-serif); margin: 0; padding: 12px;
    color: var(--color-text-primary, CanvasText); background: var(--color-background-primary, Canvas);
  }
  h1 { font-size: 15px; margin: 0 0 8px; }
  pre {
    font-family: var(--font-mono, ui-monospace, monospace); margin: 8px 0; padding: 8px;
    background: var(--color-background-secondary, rgba(127, 127, 127, 0.12));
    white-space: pre-wrap; word-break: break-word;
  }
  .muted { color: var(--color-text-secondary, GrayText); font-size: 12px; }
  .actions { margin-top: 10px; }
  button { font: inherit; padding: 6px 16px; margin-right: 8px; }
  #outcome { margin: 10px 0 0; font-weight: 600; }
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
  const PROTOCOL_VERSION = "2026-01-26";
  const CARD_TOOL = "decide_approval";
  const pending = new Map();
  let nextId = 1;
  let approval = null;
  let deciding = false;
  let resizes = null;

  const $ = (id) => document.getElementById(id);
  const show = (id, text) => { $(id).textContent = text == null ? "" : String(text); };
  const enable = (on) => { $("approve").disabled = $("decline").disabled = !on; };

  // JSON-RPC 2.0 with the host, over postMessage: requests, notifications, answers.
  const post = (message) => window.parent.postMessage(Object.assign({ jsonrpc: "2.0" }, message), "*");
  function request(method, params) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      post({ id, method, params });
    });
  }
  const notify = (method, params) => post({ method, params: params || {} });

  function structured(result) {
    const data = result && result.structuredContent;
    return data && typeof data === "object" ? data : {};
  }
  function firstText(result) {
    const blocks = result && Array.isArray(result.content) ? result.content : [];
    const text = blocks.find((block) => block && block.type === "text" && typeof block.text === "string");
    return text ? text.text : "";
  }

  function render(result) {
    const data = structured(result);
    if (data.status === "approval_required" && data.approval && typeof data.approval.id === "string") {
      approval = data.approval;
      show("title", "Approve this change?");
      show("summary", data.summary);
      show("arguments", JSON.stringify({ tool: approval.tool, arguments: approval.arguments }, null, 2));
      $("arguments").hidden = false;
      const state = approval.orderState
        ? "order state " + String(approval.orderState).slice(0, 8) : "not bound to an order's state";
      const expiry = typeof approval.expiresIn === "number"
        ? " · expires in " + Math.max(1, Math.round(approval.expiresIn / 60)) + " min" : "";
      show("facts", "Exactly this will be sent to VTEX · " + state + " · approval " + approval.id + expiry);
      show("outcome", "");
      $("actions").hidden = false;
      enable(true);
      return;
    }
    if (approval && data.approvalId === approval.id) {  // a host passing on a result about this approval
      settle(result);
      return;
    }
    approval = null;
    $("actions").hidden = true;
    $("arguments").hidden = true;
    show("facts", "");
    show("title", result && result.isError ? "Not executed" : data.status === "done" ? "Done" : "Nothing to approve");
    show("summary", data.summary || data.message || firstText(result));
  }

  function settle(result) {
    const said = structured(result).message || firstText(result);
    show("outcome", said || (result && result.isError ? "Not executed." : "Decided."));
    $("actions").hidden = true;
  }

  async function decide(approve) {
    if (!approval || deciding) return;
    deciding = true;
    enable(false);
    show("outcome", approve ? "Approving…" : "Declining…");
    try {
      settle(await request("tools/call", { name: CARD_TOOL, arguments: { approval_id: approval.id, approve } }));
    } catch (error) {
      show("outcome", "The host could not reach the server: " + (error && error.message ? error.message : error));
      enable(true);
    } finally {
      deciding = false;
    }
  }

  function applyContext(context) {
    if (!context || typeof context !== "object") return;
    const root = document.documentElement;
    if (context.theme === "light" || context.theme === "dark") root.style.colorScheme = context.theme;
    const variables = context.styles && context.styles.variables;
    if (!variables || typeof variables !== "object") return;
    for (const [name, value] of Object.entries(variables)) {
      if (/^--[a-z0-9-]+$/.test(name) && typeof value === "string") root.style.setProperty(name, value);
    }
  }

  let reported = "";
  function reportSize() {
    const width = Math.ceil(document.documentElement.getBoundingClientRect().width);
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (reported === width + "x" + height) return;
    reported = width + "x" + height;
    notify("ui/notifications/size-changed", { width, height });
  }

  const requests = new Map([
    ["ping", () => ({})],
    ["ui/resource-teardown", () => {
      if (resizes) resizes.disconnect();
      return {};
    }],
  ]);
  const notifications = new Map([
    ["ui/notifications/tool-input", () => { if (!approval) show("title", "Preparing the approval…"); }],
    ["ui/notifications/tool-result", render],
    ["ui/notifications/tool-cancelled", () => {
      if (approval) return;
      show("title", "Cancelled");
      show("summary", "The call was cancelled: there is nothing to approve.");
    }],
    ["ui/notifications/host-context-changed", applyContext],
  ]);

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const message = event.data;
    if (!message || typeof message !== "object" || message.jsonrpc !== "2.0") return;
    const isCall = typeof message.method === "string";
    const hasId = typeof message.id === "string" || typeof message.id === "number";
    if (isCall && hasId) {
      const handler = requests.get(message.method);
      if (handler) post({ id: message.id, result: handler(message.params || {}) });
      else post({ id: message.id, error: { code: -32601, message: "Method not found: " + message.method } });
    } else if (isCall) {
      const handler = notifications.get(message.method);
      if (handler) handler(message.params || {});
    } else if (hasId && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(message.error.message || "error " + message.error.code));
      else resolve(message.result);
    }
  });

  $("approve").addEventListener("click", () => decide(true));
  $("decline").addEventListener("click", () => decide(false));

  request("ui/initialize", {
    appInfo: { name: "vtex-orders-approval-card", version: "1.0.0" },
    appCapabilities: { availableDisplayModes: ["inline"] },
    protocolVersion: PROTOCOL_VERSION,
  }).then((result) => {
    applyContext(result && result.hostContext);
    notify("ui/notifications/initialized");
    reportSize();
    if (typeof ResizeObserver === "function") {
      resizes = new ResizeObserver(reportSize);
      resizes.observe(document.body);
    }
  }, () => show("title", "No MCP Apps host to talk to."));
})();
</script>
</body>
</html>
"""
