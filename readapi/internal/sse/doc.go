// Package sse is the Server-Sent Events engine of the HTTP API: it serves a
// stream of the store's events to a client, first the stored ones page by
// page, then the live ones, until the stream's terminal event.
//
// A Hub takes each event from the bus once (bus.TopicLive right after its
// commit, bus.TopicEvents again from the feed), renders its frame once
// ("id: <seq>", "event: <type>", "data: <envelope>", the envelope of
// domain.Event.AppendJSON without the feed position) and queues it for
// every stream of its task, never waiting for one. A Server serves one
// stream per request: it registers the stream with the hub before it reads
// the store, skips what it has sent by seq, and fills any gap in what the
// hub handed it from the store, so the client gets every event exactly
// once, in order. A ": ping" comment goes out after PingInterval of
// silence, and the stream then also looks in the store, in case a message
// was lost. A stream whose queue overflows (HubConfig.QueueFrames,
// QueueBytes) is closed, as is one whose client takes longer than
// WriteTimeout to accept a write; the client resumes from its
// Last-Event-ID.
//
// Over HTTP/1 a stream's body ends when its connection closes
// ("Transfer-Encoding: identity"). Once a stream has caught up, it leaves
// net/http: it hijacks its connection and hands it to the hub (it parks).
// The hub writes a live frame that continues an idle stream itself, as far
// as the socket takes it without waiting; a goroutine runs for the stream
// only for the rest (a full socket, a gap to fill from the store, a ping).
// An idle stream holds no goroutine and no buffer, and a client that left
// is noticed at the stream's next ping (on a plain socket; otherwise when a
// write fails). Where the connection cannot be hijacked (HTTP/2, or a
// ResponseWriter wrapper without Unwrap), the stream stays in its handler.
//
// The package knows nothing of routes, credentials or tasks' tenants: its
// caller authorizes the request and says which stream to serve from which
// seq.
package sse
