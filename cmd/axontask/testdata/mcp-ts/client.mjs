// An MCP client we did not write — the official TypeScript SDK — driving
// AxonTask's MCP server over Streamable HTTP or stdio. Run by
// cmd/axontask's TestMCPTypeScriptClient:
//
//   node client.mjs http   (AXONTASK_URL, AXONTASK_API_KEY)
//   node client.mjs stdio  (AXONTASK_BIN, AXONTASK_URL, AXONTASK_API_KEY)
//
// It prints one JSON line with what it saw and exits 0, or prints the
// failure and exits 1.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const mode = process.argv[2];
const url = process.env.AXONTASK_URL;
const key = process.env.AXONTASK_API_KEY;

function check(cond, what) {
  if (!cond) throw new Error(what);
}

let transport;
if (mode === "http") {
  transport = new StreamableHTTPClientTransport(new URL("/mcp", url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
} else if (mode === "stdio") {
  transport = new StdioClientTransport({
    command: process.env.AXONTASK_BIN,
    args: ["mcp"],
    env: { ...process.env, AXONTASK_URL: url, AXONTASK_API_KEY: key },
    stderr: "inherit",
  });
} else {
  throw new Error(`unknown mode ${mode}; use http or stdio`);
}

// The negotiated protocol version, read off the initialize result.
let protocolVersion;
const start = transport.start.bind(transport);
transport.start = async () => {
  await start();
  const onmessage = transport.onmessage;
  transport.onmessage = (msg, extra) => {
    if (msg?.result?.protocolVersion) protocolVersion = msg.result.protocolVersion;
    onmessage?.(msg, extra);
  };
};

const client = new Client({ name: "axontask-ts-test", version: "1.0.0" });
await client.connect(transport);
const seen = { mode, protocolVersion, server: client.getServerVersion() };

// The tools, with schemas.
const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
const want = ["cancel_task", "get_task_receipt", "get_task_status", "get_usage", "list_tasks", "read_task_events", "start_task", "verify_task"];
check(JSON.stringify(names) === JSON.stringify(want), `tools are ${names}, want ${want}`);
for (const t of tools) {
  check(t.description && t.description.length > 20, `tool ${t.name} has no real description`);
  check(t.inputSchema?.type === "object", `tool ${t.name} has no input schema`);
}
seen.tools = names;

async function call(name, args) {
  return client.callTool({ name, arguments: args });
}

function structured(res, what) {
  check(!res.isError, `${what} failed: ${JSON.stringify(res.content)}`);
  check(res.structuredContent, `${what} has no structured content`);
  return res.structuredContent;
}

// A shell task followed to its end with read_task_events.
const started = structured(
  await call("start_task", {
    name: `ts-${mode}`,
    adapter: "shell",
    args: { command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done"] },
    timeout_s: 60,
  }),
  "start_task",
);
check(/^[0-9a-f-]{36}$/.test(started.task_id), `task id ${started.task_id}`);
let since = 0;
let ended = false;
const events = [];
for (let i = 0; i < 50 && !ended; i++) {
  const page = structured(await call("read_task_events", { task_id: started.task_id, since_seq: since, wait_s: 5 }), "read_task_events");
  for (const e of page.events) {
    check(e.seq === since + 1, `event seq ${e.seq} after ${since}`);
    since = e.seq;
    events.push(e);
  }
  ended = page.ended;
}
check(ended, "the task never ended");
const output = events.filter((e) => e.type === "task.output").map((e) => e.payload.data).join("");
check(output.includes("line 1") && output.includes("line 5"), `output was ${JSON.stringify(output)}`);
check(events.at(-1).type === "task.succeeded", `last event ${events.at(-1).type}`);
seen.events = events.length;

const status = structured(await call("get_task_status", { task_id: started.task_id }), "get_task_status");
check(status.state === "succeeded", `state ${status.state}`);
const verified = structured(await call("verify_task", { task_id: started.task_id }), "verify_task");
check(verified.verified === true, `verify_task: ${JSON.stringify(verified)}`);

// Another task, canceled while it runs.
const slow = structured(
  await call("start_task", { name: "slow", adapter: "shell", args: { command: ["sleep", "30"] }, timeout_s: 60 }),
  "start_task slow",
);
structured(await call("cancel_task", { task_id: slow.task_id }), "cancel_task");
let state;
for (let i = 0; i < 100; i++) {
  state = structured(await call("get_task_status", { task_id: slow.task_id }), "get_task_status slow").state;
  if (state === "canceled") break;
  await new Promise((r) => setTimeout(r, 100));
}
check(state === "canceled", `the canceled task is ${state}`);
const list = structured(await call("list_tasks", { limit: 10 }), "list_tasks");
check(Array.isArray(list.tasks), "list_tasks has no tasks array");

// Every tool's error path: a tool error (isError) that says what to change,
// or a protocol error for input the schema refuses.
async function refused(name, args, mention) {
  let text;
  try {
    const res = await call(name, args);
    check(res.isError, `${name} ${JSON.stringify(args)} succeeded`);
    text = res.content.map((c) => c.text ?? "").join(" ");
  } catch (err) {
    text = String(err.message ?? err);
  }
  check(text.toLowerCase().includes(mention), `${name} error ${JSON.stringify(text)} does not mention ${mention}`);
}
await refused("start_task", { name: "x", adapter: "nope", args: {} }, "adapter");
await refused("get_task_status", { task_id: "not-a-uuid" }, "task_id");
await refused("read_task_events", { task_id: started.task_id, limit: 100000 }, "limit");
await refused("cancel_task", { task_id: started.task_id }, "succeeded");
await refused("list_tasks", { state: "sleeping" }, "state");
await refused("verify_task", { task_id: "00000000-0000-4000-8000-000000000000" }, "no task of yours");
seen.errorPaths = 6;

await client.close();
console.log(JSON.stringify(seen));
