// Package usage counts what happens only on the read side of AxonTask —
// SSE streams opened, the bytes they send, MCP tool calls — per tenant in
// each API process, and flushes the counts as usage.recorded events to the
// tenant's usage stream of the day, so that usage is in the log, auditable
// and verifiable like everything else (docs/billing.md).
//
// A Meter flushes every FlushInterval (one minute by default) and when it
// stops. Each flush of a tenant's counts is one event whose id is derived
// from the process's random id, the flush's number and the tenant, and it
// is built once: a flush retried after an ambiguous failure (a lost answer,
// a store outage) is stored once. What a process killed without warning
// (kill -9) loses is what it counted since its last flush: at most one
// flush interval of counts.
//
// Task-minutes, tasks started and output bytes need no meter: they are
// folded from the task events by the usage counters projection
// (projections.UsageCountersName).
package usage
