package readapi

import "github.com/axontask/axontask/readapi/internal/sse"

// HubConfig configures a Hub: its Subscriber (a fan-out subscriber: this
// process sees every message of bus.LiveTopics and bus.TopicEvents), the
// bounds of a stream's queue of live frames (QueueFrames, QueueBytes),
// past which its client is judged too slow and the stream is closed, and
// its Logger (default slog.Default()).
type HubConfig = sse.HubConfig

// Hub fans live events out to the SSE streams open on this process, never
// waiting for one. Call Subscribe, then Run (which ends every stream still
// open when it returns); Streams counts the streams open. It is safe for
// concurrent use.
type Hub = sse.Hub

// NewHub returns a hub; call Subscribe, then Run, before New's handler
// serves a stream.
func NewHub(cfg HubConfig) (*Hub, error) { return sse.NewHub(cfg) }

// TenantWatch is what a Hub has heard of one tenant's feed (Hub.WatchTenant).
type TenantWatch = sse.TenantWatch
