package integrity

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/gowebpki/jcs"

	"github.com/axontask/axontask/domain"
)

// EntryVersion is the first line of every hashed entry.
const EntryVersion = "axontask-event/v1"

// CanonicalPayload returns the RFC 8785 canonical form of a JSON payload, in
// a slice of its own. It fails with a *domain.ValidationError when raw is not
// valid JSON. Payloads that are canonical already (domain.MarshalPayload
// writes them so) take a fast path that only checks them.
func CanonicalPayload(raw []byte) ([]byte, error) {
	if IsCanonical(raw) {
		return bytes.Clone(raw), nil
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		return nil, &domain.ValidationError{Field: "payload", Reason: "must be valid JSON: " + err.Error()}
	}
	return out, nil
}

// PayloadDigest returns SHA-256(salt || payload).
func PayloadDigest(salt, payload []byte) domain.Hash {
	h := sha256.New()
	h.Write(salt)
	h.Write(payload)
	var d domain.Hash
	h.Sum(d[:0])
	return d
}

// AppendEntry appends e's hashed entry (docs/integrity.md) to buf and
// returns the extended buffer. Callers reuse buf to avoid allocations.
// The stores' MerkleLeavesRead reads exactly the fields it uses: a field
// added here must be read there too.
// It trusts that the text fields hold no control characters
// (domain.ValidateIdentifier); Verify checks that separately.
func AppendEntry(buf []byte, e *domain.Event) []byte {
	buf = append(buf, EntryVersion...)
	buf = append(buf, '\n')
	buf = append(buf, e.StreamID...)
	buf = append(buf, '\n')
	buf = strconv.AppendInt(buf, e.Seq, 10)
	buf = append(buf, '\n')
	buf = domain.AppendUUID(buf, e.EventID)
	buf = append(buf, '\n')
	buf = append(buf, e.Type...)
	buf = append(buf, '\n')
	buf = domain.AppendTime(buf, e.OccurredAt)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, e.PayloadDigest[:])
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, e.HashPrev[:])
	buf = append(buf, '\n')
	return buf
}

// EntryHash returns SHA-256 of e's entry: the value e.Hash must hold.
func EntryHash(e *domain.Event) domain.Hash {
	var scratch [1024]byte // room for 200-byte identifiers: no heap allocation
	return sha256.Sum256(AppendEntry(scratch[:0], e))
}
