// A real MCP client (the official TypeScript SDK) driven by tests/e2e/test_mcp.py.
//
// Reads one JSON job on stdin:
//   { "transport": "http", "url": "...", "token": "..." }           Streamable HTTP
//   { "transport": "stdio", "command": "...", "args": [...], "env": {...} }   stdio
//   plus "calls": [{ "name": tool, "arguments": {...} }, ...]
// connects, lists the tools, makes the calls in order and prints one JSON
// report on stdout: what the server said at initialize, the tool list, and
// for each call either its result or the error the SDK raised. Assertions
// live in the Python test; this script only reports.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

function describeError(e) {
  return {
    ok: false,
    name: e?.constructor?.name ?? "Error",
    code: e?.code ?? null,
    message: String(e?.message ?? e),
  };
}

function makeTransport(job) {
  if (job.transport === "http") {
    const headers = {};
    if (job.token !== undefined) headers["Authorization"] = `Bearer ${job.token}`;
    return new StreamableHTTPClientTransport(new URL(job.url), { requestInit: { headers } });
  }
  if (job.transport === "stdio") {
    return new StdioClientTransport({
      command: job.command,
      args: job.args ?? [],
      env: job.env ?? {},
      stderr: "pipe",
    });
  }
  throw new Error(`unknown transport ${job.transport}`);
}

const job = JSON.parse(await readStdin());
const report = { connected: false, results: [] };
const transport = makeTransport(job);
let stderrText = "";
if (job.transport === "stdio" && transport.stderr) {
  transport.stderr.on("data", (d) => { stderrText += d.toString(); });
}
const client = new Client({ name: "hivebox-e2e", version: "1.0.0" });
try {
  await client.connect(transport);
  report.connected = true;
  report.protocolVersion = transport.protocolVersion ?? null;
  report.sessionId = transport.sessionId ?? null;
  report.serverInfo = client.getServerVersion();
  report.capabilities = client.getServerCapabilities();
  report.instructions = client.getInstructions();
  report.ping = await client.ping();
  const listed = await client.listTools();
  report.tools = listed.tools;
  for (const call of job.calls ?? []) {
    try {
      const result = await client.callTool({ name: call.name, arguments: call.arguments ?? {} });
      report.results.push({ ok: true, result });
    } catch (e) {
      report.results.push(describeError(e));
    }
  }
  if (job.transport === "http" && job.terminate) {
    await transport.terminateSession();
    report.terminated = transport.sessionId === undefined;
  }
} catch (e) {
  report.connect_error = describeError(e);
} finally {
  try { await client.close(); } catch (e) { report.close_error = describeError(e); }
}
report.stderr = stderrText;
process.stdout.write(JSON.stringify(report) + "\n");
