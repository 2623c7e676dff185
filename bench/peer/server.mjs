// A peer-shaped VTEX orders MCP server: the official TypeScript SDK, each tool one pass-through GET
// to VTEX answered as pretty-printed JSON text, as the best-known VTEX MCP peer answers. bench/
// measures vtex-orders-mcp against it over stdio, against the same sandbox (VTEX_BASE_URL).
//
//   VTEX_BASE_URL=http://127.0.0.1:8787 VTEX_APP_KEY=... VTEX_APP_TOKEN=... node server.mjs
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const base = process.env.VTEX_BASE_URL;
const headers = {
  "X-VTEX-API-AppKey": process.env.VTEX_APP_KEY ?? "",
  "X-VTEX-API-AppToken": process.env.VTEX_APP_TOKEN ?? "",
  Accept: "application/json",
};

async function vtex(path, query) {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (!response.ok) {
    return { content: [{ type: "text", text: `VTEX error ${response.status}: ${body}` }], isError: true };
  }
  return { content: [{ type: "text", text: JSON.stringify(JSON.parse(body), null, 2) }] };
}

const server = new McpServer({ name: "vtex-peer", version: "1.0.0" });

server.tool("get_order", "Get an order by its id", { orderId: z.string() }, async ({ orderId }) =>
  vtex(`/api/oms/pvt/orders/${encodeURIComponent(orderId)}`),
);

server.tool(
  "list_orders",
  "List orders",
  { page: z.number().optional(), per_page: z.number().optional(), f_status: z.string().optional() },
  async (args) => vtex("/api/oms/pvt/orders", args),
);

await server.connect(new StdioServerTransport());
