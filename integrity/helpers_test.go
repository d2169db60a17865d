package integrity_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// baseTime is the occurred_at of every test chain's first event.
var baseTime = time.Date(2026, 1, 2, 15, 4, 5, 123456000, time.UTC)

// chain builds valid hash-chained events the way a store does (canonical
// payload, salt, digest, entry hash), deterministically: the n-th event built
// (from 0) has feed position n, salt bytes 32n … 32n+31 (mod 256), event id
// …-8000-<n> and occurred_at baseTime + n × 1.000111 s.
type chain struct {
	tenant string
	heads  map[string]head
	n      int64
}

type head struct {
	seq  int64
	hash domain.Hash
}

func newChain() *chain {
	return &chain{tenant: "tenant-acme", heads: make(map[string]head)}
}

// add appends an event carrying payload (any JSON text) to stream streamID.
func (c *chain) add(t testing.TB, streamID string, typ domain.EventType, payload string) domain.Event {
	t.Helper()
	canonical, err := integrity.CanonicalPayload([]byte(payload))
	if err != nil {
		t.Fatalf("canonicalize %s: %v", payload, err)
	}
	return c.addCanonical(streamID, typ, canonical, testSalt(c.n))
}

// addCanonical appends an event whose payload is already canonical.
func (c *chain) addCanonical(streamID string, typ domain.EventType, payload, salt []byte) domain.Event {
	h := c.heads[streamID]
	e := domain.Event{
		Position:      c.n,
		EventID:       testEventID(c.n),
		StreamID:      streamID,
		StreamType:    domain.StreamTask,
		Seq:           h.seq + 1,
		TenantID:      c.tenant,
		Type:          typ,
		Payload:       payload,
		PayloadSalt:   salt,
		PayloadDigest: integrity.PayloadDigest(salt, payload),
		OccurredAt:    baseTime.Add(time.Duration(c.n) * 1000111 * time.Microsecond),
		HashPrev:      h.hash,
	}
	e.Hash = integrity.EntryHash(&e)
	c.heads[streamID] = head{seq: e.Seq, hash: e.Hash}
	c.n++
	return e
}

func testSalt(n int64) []byte {
	salt := make([]byte, domain.SaltSize)
	for i := range salt {
		salt[i] = byte(n*domain.SaltSize + int64(i))
	}
	return salt
}

func testEventID(n int64) uuid.UUID {
	u := uuid.UUID{0x01, 0x92, 0xf1, 0xd2, 0x6b, 0x1e, 0x70, 0x00, 0x80}
	binary.BigEndian.PutUint64(u[8:], uint64(n))
	u[8] = 0x80 // RFC 9562 variant
	return u
}

// rehash recomputes e's hash after a test changed a hashed field, as a
// forger would.
func rehash(e *domain.Event) { e.Hash = integrity.EntryHash(e) }
