package eventstore

import (
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// Prepare validates events and turns them into stored events chained after
// (prevSeq, prevHash): canonical payloads, fresh salts, digests, seqs and
// hashes. Both store implementations call it, so the chain is computed by one
// piece of code. It does no I/O except reading salts from opts.Rand.
func Prepare(s Stream, prevSeq int64, prevHash domain.Hash, events []domain.NewEvent, opts Options) ([]domain.Event, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, &domain.ValidationError{Field: "events", Reason: "must hold at least one event"}
	}
	if len(events) > opts.MaxAppendEvents {
		return nil, &domain.ValidationError{Field: "events", Reason: fmt.Sprintf("holds %d events; one append takes at most %d, split it", len(events), opts.MaxAppendEvents)}
	}
	if prevSeq < 0 {
		return nil, &domain.ValidationError{Field: "expected_seq", Reason: "must not be negative"}
	}
	out := make([]domain.Event, len(events))
	salts := make([]byte, domain.SaltSize*len(events))
	if _, err := io.ReadFull(opts.Rand, salts); err != nil {
		return nil, fmt.Errorf("read payload salts: %w", err)
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for i, ne := range events {
		field := fmt.Sprintf("events[%d]", i)
		if ne.EventID == uuid.Nil {
			return nil, &domain.ValidationError{Field: field + ".event_id", Reason: "must be set (a random UUID makes retries idempotent)"}
		}
		if seen[ne.EventID] {
			return nil, &domain.ValidationError{Field: field + ".event_id", Reason: "appears twice in one append"}
		}
		seen[ne.EventID] = true
		if err := domain.ValidateIdentifier(field+".type", string(ne.Type)); err != nil {
			return nil, err
		}
		if !domain.KnownType(ne.Type) {
			return nil, &domain.ValidationError{Field: field + ".type", Reason: fmt.Sprintf("%q is not a registered event type", string(ne.Type))}
		}
		if ne.OccurredAt.IsZero() {
			return nil, &domain.ValidationError{Field: field + ".occurred_at", Reason: "must be set"}
		}
		if y := ne.OccurredAt.UTC().Year(); y < 1 || y > 9999 {
			return nil, &domain.ValidationError{Field: field + ".occurred_at", Reason: fmt.Sprintf("year %d is outside 0001–9999, which RFC 3339 cannot express", y)}
		}
		if len(ne.Payload) > opts.MaxPayloadBytes {
			return nil, &domain.ValidationError{Field: field + ".payload", Reason: fmt.Sprintf("is %d bytes; the limit is %d", len(ne.Payload), opts.MaxPayloadBytes)}
		}
		payload, err := integrity.CanonicalPayload(ne.Payload)
		if err != nil {
			var verr *domain.ValidationError
			if errors.As(err, &verr) {
				verr.Field = field + ".payload"
			}
			return nil, err
		}
		if len(payload) > opts.MaxPayloadBytes {
			return nil, &domain.ValidationError{Field: field + ".payload", Reason: fmt.Sprintf("is %d bytes in canonical form; the limit is %d", len(payload), opts.MaxPayloadBytes)}
		}
		salt := salts[i*domain.SaltSize : (i+1)*domain.SaltSize : (i+1)*domain.SaltSize]
		e := domain.Event{
			Position:      domain.NoPosition,
			EventID:       ne.EventID,
			StreamID:      s.ID,
			StreamType:    s.Type,
			Seq:           prevSeq + int64(i) + 1,
			TenantID:      s.TenantID,
			Type:          ne.Type,
			Payload:       payload,
			PayloadSalt:   salt,
			PayloadDigest: integrity.PayloadDigest(salt, payload),
			Metadata:      ne.Metadata,
			OccurredAt:    domain.NormalizeTime(ne.OccurredAt),
			HashPrev:      prevHash,
		}
		e.Hash = integrity.EntryHash(&e)
		prevHash = e.Hash
		out[i] = e
	}
	return out, nil
}
