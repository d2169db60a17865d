package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// insertParams maps an event to EventsInsert's parameters: the id as
// lowercase text, the time as unix microseconds, metadata as JSON text.
func insertParams(e *domain.Event) (dbsqlc.EventsInsertParams, error) {
	metadata, err := json.Marshal(e.Metadata)
	if err != nil {
		return dbsqlc.EventsInsertParams{}, fmt.Errorf("encode metadata of event %s: %w", e.EventID, err)
	}
	return dbsqlc.EventsInsertParams{
		Position: e.Position, EventID: e.EventID.String(), StreamID: e.StreamID, StreamType: string(e.StreamType),
		Seq: e.Seq, TenantID: e.TenantID, Type: string(e.Type), Payload: e.Payload, PayloadSalt: e.PayloadSalt,
		PayloadDigest: e.PayloadDigest[:], Metadata: string(metadata), OccurredAt: e.OccurredAt.UnixMicro(),
		HashPrev: e.HashPrev[:], Hash: e.Hash[:],
	}, nil
}

// eventsOf maps the rows of a query for events; it takes the query's
// results as they come, and never returns a nil slice without an error.
func eventsOf(rows []dbsqlc.Event, err error) ([]domain.Event, error) {
	if err != nil {
		return nil, err
	}
	events := make([]domain.Event, len(rows))
	for i := range rows {
		if err := eventOf(&rows[i], &events[i]); err != nil {
			return nil, err
		}
	}
	return events, nil
}

// eventOf maps one row of the events table into e. Bytes are returned as
// stored: a payload altered in the file is read back altered, for
// verification to catch.
func eventOf(r *dbsqlc.Event, e *domain.Event) error {
	entry := dbsqlc.FeedEntriesReadRow{Position: r.Position, EventID: r.EventID, StreamID: r.StreamID, Seq: r.Seq,
		Type: r.Type, OccurredAt: r.OccurredAt, PayloadDigest: r.PayloadDigest, HashPrev: r.HashPrev}
	if err := entryOf(&entry, e); err != nil {
		return err
	}
	e.StreamType, e.TenantID = domain.StreamType(r.StreamType), r.TenantID
	e.Payload, e.PayloadSalt = r.Payload, r.PayloadSalt
	if err := scanHash(&e.Hash, r.Hash); err != nil {
		return fmt.Errorf("event at position %d: %w", r.Position, err)
	}
	if err := json.Unmarshal([]byte(r.Metadata), &e.Metadata); err != nil {
		return fmt.Errorf("event at position %d: decode metadata: %w", r.Position, err)
	}
	return nil
}

// entryOf maps the columns of an event's hashed entry, and its position,
// into e, whose other fields it clears.
func entryOf(r *dbsqlc.FeedEntriesReadRow, e *domain.Event) error {
	id, err := uuid.Parse(r.EventID)
	if err != nil {
		return fmt.Errorf("event at position %d: event id: %w", r.Position, err)
	}
	*e = domain.Event{Position: r.Position, EventID: id, StreamID: r.StreamID, Seq: r.Seq, Type: domain.EventType(r.Type),
		OccurredAt: time.UnixMicro(r.OccurredAt).UTC()}
	for _, h := range []struct {
		dst *domain.Hash
		src []byte
	}{{&e.PayloadDigest, r.PayloadDigest}, {&e.HashPrev, r.HashPrev}} {
		if err := scanHash(h.dst, h.src); err != nil {
			return fmt.Errorf("event at position %d: %w", r.Position, err)
		}
	}
	return nil
}

// scanHash copies a 32-byte BLOB into dst.
func scanHash(dst *domain.Hash, b []byte) error {
	if len(b) != domain.HashSize {
		return fmt.Errorf("want a %d-byte hash, got %d bytes", domain.HashSize, len(b))
	}
	copy(dst[:], b)
	return nil
}

// eventIDsJSON renders the events' ids as the JSON array EventsGetByIDs
// takes.
func eventIDsJSON(events []domain.NewEvent) string {
	buf := make([]byte, 0, 2+len(events)*39)
	buf = append(buf, '[')
	for i, e := range events {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, e.EventID.String()...)
		buf = append(buf, '"')
	}
	return string(append(buf, ']'))
}
