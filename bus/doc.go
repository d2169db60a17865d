// Package bus carries committed events from the event store to everything
// that reacts to them, through Watermill (Redis Streams in production, the
// in-process GoChannel in the embedded default); docs/architecture.md
// shows where it sits.
//
// The Relay reads the store's global feed in position order from a
// checkpoint and publishes each event on TopicEvents, each task.queued as a
// work message on TopicTasks, and each task.cancel_requested as a control
// message on TopicControl (where the cancel command also publishes its
// holds, PublishHold). Delivery is at-least-once: after a restart the
// relay resumes from its last saved checkpoint and may publish some events
// again, so every consumer is idempotent (by position, or, for workers, by
// the claim that only one attempt can win).
package bus
