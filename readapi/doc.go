// Package readapi serves AxonTask's HTTP API (docs/api.md): start, status,
// cancel, the Server-Sent Events stream of a task's events with resume, a
// JSON page of events under /v1, and the identity endpoints.
//
//	POST /mcp/start_task            {"name","adapter","args","timeout_s"} → 201 {"task_id","stream_url","resume_token"}
//	GET  /mcp/tasks/{id}/status     → {"task_id","state","attempt","created_at","started_at","ended_at","last_seq"}
//	POST /mcp/tasks/{id}/cancel     → {"canceled":true}; 409 when the task ended otherwise
//	GET  /mcp/tasks/{id}/stream     ?since_seq=N, Last-Event-ID wins → SSE
//	POST /mcp/tasks/{id}/resume     {"last_seq":N} → the same SSE stream
//	GET  /v1/tasks/{id}/events      ?since_seq=N&limit=L → {"events","next_seq","ended"}
//	GET  /v1/tasks                  ?state=&limit=&cursor= → the task list
//	GET  /v1/events                 ?after=&limit=&include=projections&stream_type=&type= → the tenant's feed, JSON or SSE
//	POST /v1/auth/register|login|refresh|logout, POST|GET /v1/api-keys,
//	DELETE /v1/api-keys/{id}, POST /v1/members   identity (docs/api.md)
//	GET  /openapi.json              the OpenAPI 3.1 document of these routes (OpenAPI)
//
// Health and Ready answer the operators' probes, /healthz and /readyz; a
// process mounts them beside the handler of New.
//
// Request and answer bodies are the wire types of package api, which the
// Go SDK and the CLI share. Every JSON endpoint has one shape (serveJSON):
// admit the caller, decode the body, call, answer the result or a problem.
//
// Reads go to the event store directly (no projection), so a status or a
// stream right after a start already sees the task. Every request but the
// /v1/auth ones names its caller with "Authorization: Bearer <API key or
// access token>", which Config.Authenticator resolves to a commands.Principal:
// its tenant scopes every read and command, its role or scopes decide what
// it may do (403 otherwise, in its own tenant only). An optional Idempotency-Key header on start and
// cancel becomes the command's CommandID: a retry with the same key returns
// the first answer.
//
// Streams: a "retry: 2000" hint, then one frame per event with seq > N
// ("id: <seq>", "event: <type>", "data: <envelope>", the envelope of
// domain.Event.AppendJSON without the feed position, so a client can verify
// the hash chain as it reads), read from the store page by page; then live
// from the Hub, which takes each event from the bus; a ": ping" comment
// after Config.PingInterval of silence; the stream ends after the terminal
// event. The hub never waits for a stream: a stream whose queue overflows
// (HubConfig.QueueFrames, QueueBytes) is closed, as is one whose client
// takes longer than Config.WriteTimeout to accept a write, and the client
// resumes from its Last-Event-ID. Over HTTP/1 a caught-up stream leaves
// net/http and holds no goroutine while it idles. The engine behind this
// (the hub, parked streams, raw connection writes, framing) is the package
// readapi/internal/sse; this package decides who may read which stream.
//
// Resume tokens are base64url (unpadded) HMAC-SHA256 over "v1", the task id
// and the tenant id, NUL-separated, keyed by the key auth.ResumeTokenKey
// derives from Config.TokenKey, which signs nothing else: a resume token is
// no bearer credential, and an access token is no resume token. One grants
// read-only access (status, stream, resume, events) to one task, passed as
// ?token=; it does not expire: changing the secret revokes every token. A
// wrong token answers 404, like a task of another tenant or none at all.
//
// Errors are application/problem+json (RFC 9457) with type, title, status,
// detail and, when one input is wrong, field (a body field, a query
// parameter, "Idempotency-Key", "Last-Event-ID", "id" for the path, or
// "body" for a body that is not one JSON object of at most MaxBodyBytes).
// One function maps errors to problems. Logs hold the path only, never a
// query (it may hold a token) nor a body.
//
// Streaming routes write through http.NewResponseController: keep them out
// of timeout and compression middleware. A ResponseWriter wrapper with an
// Unwrap method lets a stream hijack the connection past the wrapper; one
// that alters the body must not have one (and must implement http.Flusher).
package readapi
