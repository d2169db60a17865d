package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/gowebpki/jcs"

	"github.com/axontask/axontask/domain"
)

// EntryVersion is the first line of every hashed entry.
const EntryVersion = "axontask-event/v1"

// CanonicalPayload returns the RFC 8785 canonical form of a JSON payload.
// It fails with a *domain.ValidationError when raw is not valid JSON.
func CanonicalPayload(raw []byte) ([]byte, error) {
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

// AppendEntry appends e's hashed entry (DESIGN.md section 4) to buf and
// returns the extended buffer. Callers reuse buf to avoid allocations.
// It trusts that the text fields hold no control characters
// (domain.ValidateIdentifier); Verify checks that separately.
func AppendEntry(buf []byte, e *domain.Event) []byte {
	buf = append(buf, EntryVersion...)
	buf = append(buf, '\n')
	buf = append(buf, e.StreamID...)
	buf = append(buf, '\n')
	buf = strconv.AppendInt(buf, e.Seq, 10)
	buf = append(buf, '\n')
	var idText [36]byte
	encodeUUID(idText[:], e.EventID)
	buf = append(buf, idText[:]...)
	buf = append(buf, '\n')
	buf = append(buf, e.Type...)
	buf = append(buf, '\n')
	buf = e.OccurredAt.UTC().AppendFormat(buf, domain.TimeLayout)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, e.PayloadDigest[:])
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, e.HashPrev[:])
	buf = append(buf, '\n')
	return buf
}

// EntryHash returns SHA-256 of e's entry: the value e.Hash must hold.
func EntryHash(e *domain.Event) domain.Hash {
	var scratch [512]byte
	return sha256.Sum256(AppendEntry(scratch[:0], e))
}

// encodeUUID writes u in its lowercase 8-4-4-4-12 form into dst (36 bytes),
// without the allocation of uuid.UUID.String.
func encodeUUID(dst []byte, u [16]byte) {
	hex.Encode(dst[0:8], u[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], u[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], u[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], u[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:], u[10:])
}
