package integrity

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/axontask/axontask/domain"
)

// BinaryExportMagic opens a binary export (docs/integrity.md, "Binary
// exports"): the same events as a JSON Lines export, in length-prefixed
// records that a verifier reads without parsing JSON.
const BinaryExportMagic = "AXTBIN1\n"

// Sizes of a binary record's fixed part: position, event id, seq,
// occurred_at, payload digest, hash_prev, hash, flags.
const (
	binFixed      = 8 + 16 + 8 + 8 + 3*domain.HashSize + 1
	binHasPayload = 1 // flag: the salt and the payload follow
)

// AppendBinaryRecord appends e's record of a binary export to buf and
// returns the extended buffer. A text field longer than 65,535 bytes fails
// (identifiers are at most 200), as does a record longer than
// MaxExportLine.
func AppendBinaryRecord(buf []byte, e *domain.Event) ([]byte, error) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0) // the length, set below
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Position))
	buf = append(buf, e.EventID[:]...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Seq))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.OccurredAt.UnixMicro()))
	buf = append(buf, e.PayloadDigest[:]...)
	buf = append(buf, e.HashPrev[:]...)
	buf = append(buf, e.Hash[:]...)
	var flags byte
	if e.Payload != nil {
		flags |= binHasPayload
	}
	buf = append(buf, flags)
	for _, s := range [...]string{e.StreamID, string(e.StreamType), e.TenantID, string(e.Type),
		e.Metadata.Actor, e.Metadata.RequestID, e.Metadata.CausationID, e.Metadata.CorrelationID} {
		if len(s) > math.MaxUint16 {
			return buf[:start], fmt.Errorf("event %s: a text field of %d bytes does not fit a binary export", e.EventID, len(s))
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(s)))
		buf = append(buf, s...)
	}
	if e.Payload != nil {
		if len(e.PayloadSalt) != domain.SaltSize {
			return buf[:start], fmt.Errorf("event %s: its payload salt has %d bytes, not %d", e.EventID, len(e.PayloadSalt), domain.SaltSize)
		}
		buf = append(buf, e.PayloadSalt...)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(e.Payload)))
		buf = append(buf, e.Payload...)
	}
	n := len(buf) - start - 4
	if n > MaxExportLine {
		return buf[:start], fmt.Errorf("event %s: its record of %d bytes is longer than %d", e.EventID, n, MaxExportLine)
	}
	binary.BigEndian.PutUint32(buf[start:], uint32(n))
	return buf, nil
}

// ParseAnyExport reads an export in either form, told apart by its first
// bytes: a binary export (BinaryExportMagic, ParseBinaryExport) or JSON
// Lines (ParseExport). It calls fn for each event in order; fn must not
// keep e after it returns.
func ParseAnyExport(r io.Reader, fn func(e *domain.Event) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	head, err := br.Peek(len(BinaryExportMagic))
	if err == nil && string(head) == BinaryExportMagic {
		_, _ = br.Discard(len(BinaryExportMagic))
		return parseBinaryRecords(br, fn)
	}
	return ParseExport(br, fn)
}

// ParseBinaryExport reads a binary export, magic first, and calls fn for
// each event in order, as ParseExport does for JSON Lines. It stops at the
// first malformed record (the error names it by its number, from 1) or the
// first error from fn. Payloads are taken as they are: their digests bind
// their exact bytes.
func ParseBinaryExport(r io.Reader, fn func(e *domain.Event) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	head := make([]byte, len(BinaryExportMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != BinaryExportMagic {
		return fmt.Errorf("not a binary export: it does not begin with %q", BinaryExportMagic)
	}
	return parseBinaryRecords(br, fn)
}

// parseBinaryRecords reads the records after the magic.
func parseBinaryRecords(br *bufio.Reader, fn func(e *domain.Event) error) error {
	var (
		rec     []byte
		e       domain.Event
		lenBuf  [4]byte
		strings = internTable{}
	)
	for n := 1; ; n++ {
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("export record %d: its length is cut off: %w", n, err)
		}
		size := binary.BigEndian.Uint32(lenBuf[:])
		if size > MaxExportLine {
			return fmt.Errorf("export record %d claims %d bytes, more than the %d one event may take: the file is not a binary export, or it is damaged", n, size, MaxExportLine)
		}
		if cap(rec) < int(size) {
			rec = make([]byte, size, max(size, 64<<10))
		}
		rec = rec[:size]
		if _, err := io.ReadFull(br, rec); err != nil {
			return fmt.Errorf("export record %d: cut off after %d bytes: %w", n, len(rec), err)
		}
		if err := decodeBinaryRecord(rec, &e, strings); err != nil {
			return fmt.Errorf("export record %d: %w", n, err)
		}
		if err := fn(&e); err != nil {
			return fmt.Errorf("export record %d: %w", n, err)
		}
	}
}

// internTable keeps one copy of each text field value seen (stream ids,
// types, tenants): an export repeats them for every event.
type internTable map[string]string

func (t internTable) get(b []byte) string {
	if s, ok := t[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(t) < 1<<16 {
		t[s] = s
	}
	return s
}

// decodeBinaryRecord decodes one record's body into e, which it overwrites
// (the payload and salt point into rec until the next record).
func decodeBinaryRecord(rec []byte, e *domain.Event, strs internTable) error {
	if len(rec) < binFixed {
		return fmt.Errorf("is %d bytes, shorter than an event's %d fixed bytes", len(rec), binFixed)
	}
	*e = domain.Event{}
	e.Position = int64(binary.BigEndian.Uint64(rec))
	if e.Position < domain.NoPosition {
		return &domain.ValidationError{Field: "position", Reason: fmt.Sprintf("is %d; it must not be negative (-1 when the feed has not sealed the event)", e.Position)}
	}
	copy(e.EventID[:], rec[8:24])
	e.Seq = int64(binary.BigEndian.Uint64(rec[24:]))
	micros := int64(binary.BigEndian.Uint64(rec[32:]))
	e.OccurredAt = time.UnixMicro(micros).UTC()
	if y := e.OccurredAt.Year(); y < 1 || y > 9999 {
		return &domain.ValidationError{Field: "occurred_at", Reason: fmt.Sprintf("%d µs since 1970 is outside the years 0001–9999", micros)}
	}
	copy(e.PayloadDigest[:], rec[40:])
	copy(e.HashPrev[:], rec[72:])
	copy(e.Hash[:], rec[104:])
	flags := rec[136]
	if flags&^binHasPayload != 0 {
		return fmt.Errorf("has unknown flags %#x: it was written by a newer version, or is damaged", flags)
	}
	rest := rec[binFixed:]
	var fields [8]string
	for i := range fields {
		if len(rest) < 2 {
			return errors.New("is cut off in its text fields")
		}
		l := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+l {
			return errors.New("is cut off in its text fields")
		}
		fields[i] = strs.get(rest[2 : 2+l])
		rest = rest[2+l:]
	}
	e.StreamID, e.StreamType, e.TenantID, e.Type = fields[0], domain.StreamType(fields[1]), fields[2], domain.EventType(fields[3])
	e.Metadata = domain.Metadata{Actor: fields[4], RequestID: fields[5], CausationID: fields[6], CorrelationID: fields[7]}
	if flags&binHasPayload != 0 {
		if len(rest) < domain.SaltSize+4 {
			return errors.New("is cut off in its payload")
		}
		e.PayloadSalt = rest[:domain.SaltSize:domain.SaltSize]
		l := int(binary.BigEndian.Uint32(rest[domain.SaltSize:]))
		rest = rest[domain.SaltSize+4:]
		if len(rest) < l {
			return errors.New("is cut off in its payload")
		}
		e.Payload = rest[:l:l]
		rest = rest[l:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("has %d bytes after its last field", len(rest))
	}
	return nil
}
