package domain

// UsageRecordedType is the event of a usage stream: what one API process
// counted for one tenant during one flush window, on the read side (SSE
// streams and the bytes they sent, MCP tool calls), where no other event
// records it. Like every event type it is hashed into the chain and never
// renamed.
const UsageRecordedType EventType = "usage.recorded"

// UsageRecorded is the counts of one API process for one tenant over one
// flush window. ProcessID and Window (the process's flush number) identify
// it: the event id is derived from them, so a flush retried after an
// ambiguous failure is stored once. Fields are listed in RFC 8785 order.
type UsageRecorded struct {
	// BytesStreamed is the bytes of SSE streams written to the tenant's
	// clients.
	BytesStreamed int64 `json:"bytes_streamed"`
	// MCPCalls is the MCP tool calls the tenant made.
	MCPCalls int64 `json:"mcp_calls"`
	// ProcessID names the API process (random per process start).
	ProcessID string `json:"process_id"`
	// StreamsOpened is the SSE streams the tenant opened.
	StreamsOpened int64 `json:"streams_opened"`
	// Window is the process's flush number, from 1.
	Window int64 `json:"window"`
}

// EventType returns UsageRecordedType.
func (UsageRecorded) EventType() EventType { return UsageRecordedType }

// StripeEventHandledType is the one event of a billing stream: a Stripe
// webhook event AxonTask has acted on, so that a replay of it is a no-op.
// Each Stripe event has a stream of its own, whose id derives from the
// Stripe event id.
const StripeEventHandledType EventType = "billing.stripe_event_handled"

// StripeEventHandled records a Stripe webhook event that was handled.
// Fields are listed in RFC 8785 order.
type StripeEventHandled struct {
	// StripeEventID is Stripe's event id (evt_…); StripeType its type
	// (customer.subscription.updated, …).
	StripeEventID string `json:"stripe_event_id"`
	StripeType    string `json:"stripe_type"`
}

// EventType returns StripeEventHandledType.
func (StripeEventHandled) EventType() EventType { return StripeEventHandledType }
