// A minimal MCP Apps host, for tests/e2e/test_browser.py: what claude.ai does with a tool that names a
// ui:// resource, built on the ext-apps package's own host side (AppBridge, PostMessageTransport).
//
// The MCP session lives in the host's backend, as it does for a web host: the page asks the backend
// (POST /relay, served by the test) for tools/list, tools/call and resources/read, and the backend's
// MCP client (the Python SDK's, which declared io.modelcontextprotocol/ui with the MCP Apps MIME type)
// forwards them to the server. The View (the approval card) runs in a sandboxed iframe
// (sandbox="allow-scripts": an opaque origin) under the CSP the resource's _meta.ui.csp allows
// (nothing, for the card), and speaks to this page only through the bridge, over postMessage.
//
// Every JSON-RPC message between the bridge and the View is recorded in window.host.messages, every
// bridge error in window.host.errors: the test reads both.
import {
  AppBridge,
  PostMessageTransport,
  RESOURCE_MIME_TYPE,
  getToolUiResourceUri,
  isToolVisibilityModelOnly,
} from "@modelcontextprotocol/ext-apps/app-bridge";

const messages = [];
const errors = [];

async function relay(method, params) {
  const response = await fetch("/relay", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ method, params }),
  });
  const answer = await response.json();
  if (answer.error) throw new Error(answer.error.message);
  return answer.result;
}

// The CSP the spec asks a host to build from the resource's _meta.ui.csp (no declared domain: no
// network at all), delivered in a <meta> element since a srcdoc document has no response headers.
function contentSecurityPolicy(csp) {
  const resources = (csp && csp.resourceDomains ? csp.resourceDomains : []).join(" ");
  const connect = (csp && csp.connectDomains ? csp.connectDomains : []).join(" ");
  const frames = (csp && csp.frameDomains ? csp.frameDomains : []).join(" ");
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${resources}`,
    `style-src 'unsafe-inline' ${resources}`,
    `img-src data: ${resources}`,
    `font-src ${resources || "'none'"}`,
    `connect-src ${connect || "'none'"}`,
    `frame-src ${frames || "'none'"}`,
    "object-src 'none'",
    "base-uri 'none'",
  ].join("; ");
}

function withPolicy(html, policy) {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy.replaceAll('"', "&quot;")}">`;
  const head = /<head[^>]*>/i.exec(html);
  if (!head) throw new Error("the View is not an HTML document with a <head>");
  return html.slice(0, head.index + head[0].length) + meta + html.slice(head.index + head[0].length);
}

// Records what crosses the bridge, in both directions, then hands it on unchanged.
function recorded(transport) {
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    messages.push({ from: "host", message });
    return send(message, options);
  };
  const start = transport.start.bind(transport);
  transport.start = async () => {
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      messages.push({ from: "view", message });
      return deliver && deliver(message, extra);
    };
    return start();
  };
  return transport;
}

// Calls a tool as the model would and shows its View: resolves once the View is connected.
async function show(toolName, args) {
  const { tools } = await relay("tools/list", {});
  const tool = tools.find((t) => t.name === toolName);
  if (!tool) throw new Error(`the server does not list ${toolName}`);
  const uri = getToolUiResourceUri(tool);
  if (!uri) throw new Error(`${toolName} names no ui:// resource`);

  // The tool runs while the View loads (the spec's lifecycle): its result is sent once both are done.
  const called = relay("tools/call", { name: toolName, arguments: args });
  const { contents } = await relay("resources/read", { uri });
  const view = contents.find((c) => c.uri === uri);
  if (!view || view.mimeType !== RESOURCE_MIME_TYPE || typeof view.text !== "string") {
    throw new Error(`${uri} is not an MCP App (${view && view.mimeType})`);
  }
  const meta = (view._meta && view._meta.ui) || {};

  const iframe = document.createElement("iframe");
  iframe.id = "view";
  iframe.title = tool.title || toolName;
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.style.border = meta.prefersBorder ? "1px solid #ccc" : "0";
  iframe.style.width = "100%";
  document.getElementById("views").appendChild(iframe);

  const bridge = new AppBridge(
    null,
    { name: "vtex-orders-e2e-host", version: "1.0.0" },
    { serverTools: {}, serverResources: {}, logging: {} },
    {
      hostContext: {
        theme: "light",
        platform: "web",
        displayMode: "inline",
        availableDisplayModes: ["inline"],
        containerDimensions: { maxHeight: 2000 },
        locale: "en-US",
        toolInfo: { tool },
      },
    },
  );
  // A View may call the tools of its own server that are not model-only (spec: Visibility).
  bridge.oncalltool = async (params) => {
    const target = tools.find((t) => t.name === params.name);
    if (!target || isToolVisibilityModelOnly(target)) throw new Error(`the View may not call ${params.name}`);
    return relay("tools/call", params);
  };
  bridge.onreadresource = (params) => relay("resources/read", params);
  bridge.onsizechange = ({ height }) => {
    if (height != null) iframe.style.height = `${height}px`;
  };
  bridge.onloggingmessage = (params) => console.log("view:", JSON.stringify(params));
  bridge.onerror = (error) => errors.push(String(error && error.message ? error.message : error));
  const initialized = new Promise((resolve) => bridge.addEventListener("initialized", resolve));

  await bridge.connect(recorded(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow)));
  iframe.srcdoc = withPolicy(view.text, contentSecurityPolicy(meta.csp));

  await initialized;
  await bridge.sendToolInput({ arguments: args });
  const result = await called;
  await bridge.sendToolResult(result);
  window.host.bridge = bridge;
  return result;
}

// What a host sends a View on its own: a ping, and a teardown before it removes the View.
const ping = () => window.host.bridge.request({ method: "ping" }, { timeout: 5000 });
const teardown = () => window.host.bridge.teardownResource({}, { timeout: 5000 });

window.host = { show, ping, teardown, messages, errors, bridge: null };
