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
import { CallToolResultSchema, TaskStatusNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

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

// enforceStrictCapabilities: the SDK refuses a task-augmented call unless
// the server declared tasks.requests.tools.call.
const client = new Client({ name: "axontask-ts-test", version: "1.0.0" }, { enforceStrictCapabilities: true });
// notifications/tasks/status, which the server pushes where it has a
// connection to push on (stdio).
const pushed = [];
client.setNotificationHandler(TaskStatusNotificationSchema, (n) => pushed.push(n.params));
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

// MCP tasks (2025-11-25), through the SDK's experimental tasks client:
// start_task run as a task, polled to its end and its result read; another
// canceled; the tasks listed.
const tasks = client.experimental.tasks;
check(client.getServerCapabilities()?.tasks?.requests?.tools?.call, `no tasks capability: ${JSON.stringify(client.getServerCapabilities())}`);
check(tools.find((t) => t.name === "start_task")?.execution?.taskSupport === "optional", "start_task has no execution.taskSupport");
async function runAsTask(args, onCreated) {
  const run = { statuses: [], progress: [] };
  const options = { task: { ttl: 60000 }, onprogress: (p) => run.progress.push(p) };
  for await (const msg of tasks.callToolStream({ name: "start_task", arguments: args }, CallToolResultSchema, options)) {
    if (msg.type === "taskCreated") {
      run.created = msg.task;
      await onCreated?.(msg.task);
    } else if (msg.type === "taskStatus") run.statuses.push(msg.task);
    else if (msg.type === "result") run.result = msg.result;
    else if (msg.type === "error") run.error = msg.error;
  }
  return run;
}
const done = await runAsTask({
  name: `ts-task-${mode}`,
  adapter: "shell",
  args: { command: ["sh", "-c", "echo one; sleep 0.3; echo '::progress 50 half way'; sleep 0.3; echo two"] },
  timeout_s: 60,
});
check(!done.error, `the task-augmented start_task failed: ${done.error}`);
check(/^[0-9a-f-]{36}$/.test(done.created?.taskId) && done.created.status === "working", `created ${JSON.stringify(done.created)}`);
check(done.statuses.at(-1)?.status === "completed", `statuses ${JSON.stringify(done.statuses)}`);
check(done.result?.structuredContent?.task_id === done.created.taskId && done.result.structuredContent.state === "succeeded", `result ${JSON.stringify(done.result)}`);
check(done.result.content[0].text.includes("two"), `the result quotes no output: ${done.result.content[0].text}`);
const got = await tasks.getTask(done.created.taskId);
check(got.status === "completed" && got.taskId === done.created.taskId, `tasks/get ${JSON.stringify(got)}`);
const again = await tasks.getTaskResult(done.created.taskId, CallToolResultSchema);
check(again.structuredContent.state === "succeeded", `tasks/result ${JSON.stringify(again)}`);
// The MCP task id is the AxonTask task id.
check(structured(await call("get_task_status", { task_id: done.created.taskId }), "get_task_status of the task").state === "succeeded", "task ids differ");

const canceled = await runAsTask(
  { name: `ts-task-cancel-${mode}`, adapter: "mock", args: { steps: 600, interval_ms: 100 }, timeout_s: 120 },
  async (task) => {
    const c = await tasks.cancelTask(task.taskId);
    check(c.status === "cancelled", `tasks/cancel ${JSON.stringify(c)}`);
  },
);
check(String(canceled.error?.message).includes("cancelled"), `the canceled task ended with ${canceled.error} ${JSON.stringify(canceled.result)}`);
let listed = [];
for (let i = 0; i < 50; i++) {
  listed = (await tasks.listTasks()).tasks;
  const ids = new Map(listed.map((t) => [t.taskId, t.status]));
  if (ids.get(done.created.taskId) === "completed" && ids.get(canceled.created.taskId) === "cancelled") break;
  await new Promise((r) => setTimeout(r, 100));
}
const statusOf = (id) => listed.find((t) => t.taskId === id)?.status;
check(statusOf(done.created.taskId) === "completed" && statusOf(canceled.created.taskId) === "cancelled", `tasks/list ${JSON.stringify(listed)}`);
if (mode === "stdio") {
  for (let i = 0; i < 50 && !pushed.some((n) => n.taskId === done.created.taskId && n.status === "completed"); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const mine = pushed.filter((n) => n.taskId === done.created.taskId);
  check(mine.some((n) => n.statusMessage?.includes("half way")), `no status notification carried the progress: ${JSON.stringify(mine)}`);
  check(mine.at(-1)?.status === "completed", `status notifications ${JSON.stringify(mine)}`);
  // The call's progress token stays valid for the task's life.
  check(done.progress.some((p) => p.progress === 50 && p.total === 100 && p.message === "half way"), `progress ${JSON.stringify(done.progress)}`);
}
seen.tasks = { polls: done.statuses.length, listed: listed.length, notifications: pushed.length, progress: done.progress.length };

// A wrong key over HTTP: the SDK reports the server's 401 and its body,
// and starts no OAuth.
if (mode === "http") {
  const wrong = new Client({ name: "axontask-ts-test-wrong-key", version: "1.0.0" });
  let err;
  try {
    await wrong.connect(new StreamableHTTPClientTransport(new URL("/mcp", url), {
      requestInit: { headers: { Authorization: "Bearer axt_wrong_key" } },
    }));
  } catch (e) {
    err = e;
  }
  check(err?.code === 401 && String(err.message).includes("refused") && String(err.message).includes("Authorization: Bearer"), `a wrong key: ${err}`);
  check(!String(err.message).includes("axt_wrong_key"), "the 401 repeats the key");
  seen.unauthorized = String(err.message);
}

await client.close();
console.log(JSON.stringify(seen));
