// Package api holds the wire types of AxonTask's HTTP API: one Go type per
// resource and request body, with one spelling of each JSON field, shared
// by the server (readapi), the Go SDK (client) and the CLI (cmd/axontask),
// and described by the OpenAPI document the server serves
// (readapi/openapi.json).
//
// The types carry little behaviour beyond their JSON form: those holding a
// secret (StartedTask, Tokens, Key) print and log without it, so that
// neither the server's logs nor a client's show one. Optional instants
// are Time: RFC 3339 UTC with microseconds (domain.FormatTime), or null.
// Identifiers of tasks are UUIDs; those of users, tenants and keys are
// strings. Errors are Problem documents (RFC 9457), served as
// application/problem+json.
package api
