package domain

import (
	"time"

	"github.com/google/uuid"
)

// HashSize is the length in bytes of every hash and digest in the chain (SHA-256).
const HashSize = 32

// SaltSize is the length in bytes of a payload salt.
const SaltSize = 32

// Hash is a SHA-256 value: an event's chain hash or a payload digest.
type Hash [HashSize]byte

// ZeroHash is the hash_prev of the first event of every stream.
var ZeroHash Hash

// NoPosition marks an event that the global feed has not sealed yet.
const NoPosition int64 = -1

// Metadata describes who caused an event and in answer to what. It is stored
// beside the event but is not part of the hashed entry.
type Metadata struct {
	// Actor is who caused the event: a user id, an API key id, "worker:<id>", "system".
	Actor string `json:"actor,omitempty"`
	// RequestID is the id of the HTTP or MCP request that caused the event.
	RequestID string `json:"request_id,omitempty"`
	// CausationID is the event id (or command id) that directly caused this event.
	CausationID string `json:"causation_id,omitempty"`
	// CorrelationID ties together every event of one logical operation.
	CorrelationID string `json:"correlation_id,omitempty"`
}

// NewEvent is an event decided by the domain and not yet stored: the store
// assigns its seq, salt, digest, hashes and feed position.
type NewEvent struct {
	// EventID makes an append idempotent: appending the same ids again is a no-op.
	EventID uuid.UUID
	// Type names the event; it must be a registered type (see KnownType).
	Type EventType
	// Payload is the event's JSON body. The store canonicalizes it (RFC 8785)
	// before hashing and keeps the canonical bytes.
	Payload []byte
	// Metadata is stored beside the event, outside the hash.
	Metadata Metadata
	// OccurredAt is when the event happened; the store truncates it to
	// microseconds and converts it to UTC.
	OccurredAt time.Time
}

// Event is a stored event: the envelope of docs/integrity.md. Every field
// the hash chain needs is here, so a reader can verify the chain as it reads.
type Event struct {
	// Position is the event's place in the global feed, or NoPosition while
	// the sealer has not reached it.
	Position   int64
	EventID    uuid.UUID
	StreamID   string
	StreamType StreamType
	// Seq is 1, 2, 3 … within the stream, without gaps.
	Seq      int64
	TenantID string
	Type     EventType
	// Payload is the exact RFC 8785 canonical JSON bytes that were digested.
	// It is nil when the payload was pruned (the digest still verifies the chain).
	Payload []byte
	// PayloadSalt is the 32 random bytes mixed into the digest; nil when pruned.
	PayloadSalt []byte
	// PayloadDigest is SHA-256(PayloadSalt || Payload).
	PayloadDigest Hash
	Metadata      Metadata
	// OccurredAt is UTC with microsecond precision; FormatTime renders the
	// exact string that was hashed.
	OccurredAt time.Time
	HashPrev   Hash
	Hash       Hash
}

// TimeLayout renders occurred_at as hashed: RFC 3339, UTC, exactly six
// fractional digits, "Z".
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime renders t the way the hash chain binds it.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

// ParseTime parses a time rendered by FormatTime and rejects any other form,
// so that a verifier hashes exactly the string it was given.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, &ValidationError{Field: "occurred_at", Reason: "must be RFC 3339 UTC with exactly 6 fractional digits and Z, like 2026-01-02T15:04:05.000000Z"}
	}
	if FormatTime(t) != s {
		return time.Time{}, &ValidationError{Field: "occurred_at", Reason: "is not in canonical form " + TimeLayout}
	}
	return t, nil
}

// NormalizeTime truncates t to microseconds in UTC, the precision every store keeps.
func NormalizeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
