// Package mcpserver is AxonTask's Model Context Protocol server (docs/api.md),
// built on the official Go SDK (github.com/modelcontextprotocol/go-sdk). Its tools talk to the AxonTask
// HTTP API through the Go SDK of this module (client.Client), so the same
// code serves both transports:
//
//   - stdio, through `axontask mcp`: New with StaticClient, one client with
//     the URL and API key the command was given;
//   - Streamable HTTP at /mcp on the API server: New with BearerClient, a
//     client per call that carries the caller's own bearer credential to the
//     server's loopback address, served by NewHTTPHandler, which refuses a
//     request without a valid credential (401) before any MCP processing.
//
// # Tools
//
// start_task, get_task_status, read_task_events, cancel_task, list_tasks,
// verify_task, get_task_receipt and get_usage. Each has a JSON Schema derived from its typed input struct,
// with descriptions, bounds and defaults an LLM can follow, and an output
// schema: a result carries the typed output as structured content and a
// readable text for the model. Wrong input (a schema violation, a task_id
// that is not a UUID, an unknown adapter, an API answer 4xx) is a tool error
// (IsError) whose text says what to change; a 401 of the API says that the
// API key is missing or invalid. A task of another tenant is "not found",
// exactly as over HTTP.
//
// read_task_events waits, when there is nothing after since_seq yet and the
// task has not ended, up to wait_s (at most MaxWait) for new events. It waits
// on the task's Server-Sent Events stream (client.Stream), not by polling:
// the first event, or the task's end, wakes it, and it then reads a page of
// events from GET /v1/tasks/{id}/events. While it waits, and while
// verify_task reads a long log, it sends a progress notification every
// Config.ProgressInterval (10 s by default, never more than 15 s) when the
// client asked for progress (gave a progress token), so that clients with a
// 60 s tool timeout keep the call alive.
//
// Each task's events are also a resource, axontask://tasks/{id}/events
// (application/json), bounded to its first MaxResourceEvents events.
//
// # Task ids and seqs
//
// Tools and resources use the API's own identifiers unchanged: a task_id is
// the task's UUID (its event stream's id), seqs are the stream's seqs (1, 2,
// 3 … without gaps), next_seq is the since_seq of the next read, and events
// are the API's full envelopes, hash-chain fields included.
//
// # MCP tasks
//
// start_task runs as an MCP task (tasks.go) under the tasks utility of
// protocol 2025-11-25 (a "task" param on tools/call; tasks/get,
// tasks/result, tasks/list, tasks/cancel; notifications/tasks/status over
// stdio) and under the io.modelcontextprotocol/tasks extension of
// 2026-07-28 (declared per request; the result inlined in tasks/get). An
// MCP task id is the AxonTask task_id, its status follows the task's state,
// its status message the task's latest progress, and its result is
// start_task's output with the task's final state. The SDK (v1.8.0) has no
// support for either yet; what it lacks is supplied in one adapter file,
// taskwire.go, that gives way to the SDK's own support when it comes.
// Over stdio the transport must be wrapped in Transport.
package mcpserver
