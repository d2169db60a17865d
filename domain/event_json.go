package domain

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
)

// This file holds the JSON form of an Event (spelled out in
// docs/integrity.md): one line per event, snake_case fields, hashes as
// lowercase hex, occurred_at as the exact string that was hashed, and the
// payload written as the very bytes that were digested. The encoder appends
// bytes without reflection; the decoder is a small strict parser, because
// encoding/json can neither reject duplicate fields nor keep hex and time
// fields in the one form that was hashed.

// ParseHash parses a hash or digest written as 64 lowercase hex digits, the
// only form AppendJSON writes and docs/integrity.md allows.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if !decodeLowerHex(h[:], s) {
		return Hash{}, &ValidationError{Field: "hash", Reason: hexReason(len(s), HashSize)}
	}
	return h, nil
}

// AppendText appends h as 64 lowercase hex digits (encoding.TextAppender).
func (h Hash) AppendText(b []byte) ([]byte, error) {
	return appendHex(b, h[:]), nil
}

// MarshalText renders h as 64 lowercase hex digits (encoding.TextMarshaler),
// so a Hash inside any JSON document is a hex string.
func (h Hash) MarshalText() ([]byte, error) {
	return h.AppendText(make([]byte, 0, 2*HashSize))
}

// UnmarshalText parses 64 lowercase hex digits (encoding.TextUnmarshaler).
func (h *Hash) UnmarshalText(text []byte) error {
	v, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// AppendTime appends t the way FormatTime renders it (TimeLayout), several
// times faster than time.Time.AppendFormat; years outside 0000–9999, which
// the layout cannot hold, fall back to AppendFormat.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	n := len(b)
	b = append(b, "0000-00-00T00:00:00.000000Z"...)
	d := b[n:]
	putDigits(d[0:4], year)
	putDigits(d[5:7], int(month))
	putDigits(d[8:10], day)
	putDigits(d[11:13], hour)
	putDigits(d[14:16], minute)
	putDigits(d[17:19], sec)
	putDigits(d[20:26], t.Nanosecond()/1000)
	return b
}

// putDigits writes v in decimal into dst, zero-padded to len(dst) digits.
func putDigits(dst []byte, v int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// MarshalJSON renders e with AppendJSON. Beware that json.Marshal and a
// json.Encoder (unless SetEscapeHTML(false)) re-escape <, > and & inside the
// result: the payload keeps its value but no longer its exact bytes. Writers
// of exports and SSE frames call AppendJSON instead.
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 512+len(e.Payload)))
}

// AppendJSON appends e's JSON form to buf, on one line without a trailing
// newline: the fields in the order of docs/integrity.md, position left out
// when it is NoPosition, payload written verbatim (null when pruned), salt,
// digest and hashes as lowercase hex, metadata as an object of its non-empty
// fields. It reuses buf's capacity and does not use reflection.
//
// e.Payload must hold valid JSON, as every stored event's canonical payload
// does; AppendJSON does not re-validate it. A payload that spans several lines
// (not canonical) is compacted so the result stays on one line, and fails
// when it is not valid JSON.
func (e *Event) AppendJSON(buf []byte) ([]byte, error) {
	buf = append(buf, '{')
	if e.Position != NoPosition {
		buf = append(buf, `"position":`...)
		buf = strconv.AppendInt(buf, e.Position, 10)
		buf = append(buf, ',')
	}
	buf = append(buf, `"event_id":"`...)
	buf = AppendUUID(buf, e.EventID)
	buf = append(buf, `","stream_id":`...)
	buf = appendJSONString(buf, e.StreamID)
	buf = append(buf, `,"stream_type":`...)
	buf = appendJSONString(buf, string(e.StreamType))
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendInt(buf, e.Seq, 10)
	buf = append(buf, `,"tenant_id":`...)
	buf = appendJSONString(buf, e.TenantID)
	buf = append(buf, `,"type":`...)
	buf = appendJSONString(buf, string(e.Type))
	buf = append(buf, `,"occurred_at":"`...)
	buf = AppendTime(buf, e.OccurredAt)
	buf = append(buf, `","payload":`...)
	buf, err := appendPayload(buf, e.Payload)
	if err != nil {
		return nil, fmt.Errorf("event %s seq %d: %w", e.StreamID, e.Seq, err)
	}
	buf = append(buf, `,"payload_salt":`...)
	if e.PayloadSalt == nil {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '"')
		buf = appendHex(buf, e.PayloadSalt)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"payload_digest":"`...)
	buf = appendHex(buf, e.PayloadDigest[:])
	buf = append(buf, `","hash_prev":"`...)
	buf = appendHex(buf, e.HashPrev[:])
	buf = append(buf, `","hash":"`...)
	buf = appendHex(buf, e.Hash[:])
	buf = append(buf, `","metadata":{`...)
	sep := false
	for _, f := range [...]struct{ name, value string }{
		{"actor", e.Metadata.Actor},
		{"request_id", e.Metadata.RequestID},
		{"causation_id", e.Metadata.CausationID},
		{"correlation_id", e.Metadata.CorrelationID},
	} {
		if f.value == "" {
			continue
		}
		if sep {
			buf = append(buf, ',')
		}
		sep = true
		buf = append(buf, '"')
		buf = append(buf, f.name...)
		buf = append(buf, `":`...)
		buf = appendJSONString(buf, f.value)
	}
	buf = append(buf, "}}"...)
	return buf, nil
}

// appendPayload appends a payload verbatim, null when it is pruned (nil or
// empty), compacted when it holds line breaks or other control bytes, which
// canonical JSON never does.
func appendPayload(buf, payload []byte) ([]byte, error) {
	if len(payload) == 0 {
		return append(buf, "null"...), nil
	}
	if hasControlByte(payload) {
		out := bytes.NewBuffer(buf)
		if err := json.Compact(out, payload); err != nil {
			return nil, fmt.Errorf("payload is not valid JSON: %w", err)
		}
		return out.Bytes(), nil
	}
	return append(buf, payload...), nil
}

// hasControlByte reports whether b holds a byte below 0x20, eight bytes at a
// time: a word has one when (w - 0x20…20) & ^w & 0x80…80 is not zero.
func hasControlByte(b []byte) bool {
	const ones, highs = 0x2020202020202020, 0x8080808080808080
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if (w-ones)&^w&highs != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// appendHex appends src as lowercase hex; a table of digit pairs makes it
// about twice as fast as hex.AppendEncode.
func appendHex(buf, src []byte) []byte {
	n := len(buf)
	buf = slices.Grow(buf, 2*len(src))[:n+2*len(src)]
	dst := buf[n:]
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], hexPairs[v])
	}
	return buf
}

// hexPairs holds the two lowercase hex digits of every byte, the first digit
// in the low byte.
var hexPairs = func() (t [256]uint16) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = uint16(digits[i>>4]) | uint16(digits[i&0xf])<<8
	}
	return t
}()

// AppendUUID appends u in its lowercase 8-4-4-4-12 form, the form the hash
// chain binds, without the allocation of uuid.UUID.String.
func AppendUUID(buf []byte, u uuid.UUID) []byte {
	n := len(buf)
	buf = append(buf, "00000000-0000-0000-0000-000000000000"...)
	d := buf[n:]
	appendHex(d[0:0], u[0:4])
	appendHex(d[9:9], u[4:6])
	appendHex(d[14:14], u[6:8])
	appendHex(d[19:19], u[8:10])
	appendHex(d[24:24], u[10:16])
	return buf
}

// appendJSONString appends s as a JSON string. It escapes what JSON requires
// (quote, backslash, control characters) plus U+2028 and U+2029, never <, >
// or &, and writes invalid UTF-8 as U+FFFD, like encoding/json.
func appendJSONString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// eventField numbers the fields of an event's JSON form; it indexes
// eventFieldNames and is a bit in the decoder's set of fields seen.
type eventField uint

const (
	fieldPosition eventField = iota
	fieldEventID
	fieldStreamID
	fieldStreamType
	fieldSeq
	fieldTenantID
	fieldType
	fieldOccurredAt
	fieldPayload
	fieldPayloadSalt
	fieldPayloadDigest
	fieldHashPrev
	fieldHash
	fieldMetadata
	eventFieldCount
)

var eventFieldNames = [eventFieldCount]string{
	"position", "event_id", "stream_id", "stream_type", "seq", "tenant_id", "type",
	"occurred_at", "payload", "payload_salt", "payload_digest", "hash_prev", "hash", "metadata",
}

// optionalFields may be left out of an event's JSON; every other field is required.
const optionalFields = 1<<fieldPosition | 1<<fieldMetadata

func lookupEventField(name []byte) (eventField, bool) {
	for i, n := range eventFieldNames {
		if string(name) == n {
			return eventField(i), true
		}
	}
	return 0, false
}

// UnmarshalJSON parses an event's JSON form strictly: it rejects unknown and
// repeated fields, missing fields (all but position and metadata are
// required), wrong types, hex that is not lowercase or not of the right
// length, a non-canonical occurred_at (see ParseTime), an event_id that is not
// a lowercase UUID, and trailing data. Errors are *ValidationError naming the
// field. A pruned payload is "payload": null with "payload_salt": null.
//
// It checks form, not meaning: identifiers, seq order and hashes are the
// verifier's job (package integrity). The payload is kept exactly as given,
// copied out of data, without canonicalizing it. On error e is left unchanged.
func (e *Event) UnmarshalJSON(data []byte) error {
	out := Event{Position: NoPosition}
	d := jsonDecoder{data: data}
	var seen uint
	err := d.object("event", func(name []byte) error {
		f, ok := lookupEventField(name)
		if !ok {
			return &ValidationError{Field: "event", Reason: fmt.Sprintf("has unknown field %s; an event has only %s", quoteField(name), strings.Join(eventFieldNames[:], ", "))}
		}
		if seen&(1<<f) != 0 {
			return &ValidationError{Field: eventFieldNames[f], Reason: "appears twice; each field may appear once"}
		}
		seen |= 1 << f
		return d.eventField(&out, f)
	})
	if err != nil {
		return err
	}
	if d.skipSpace(); d.pos != len(d.data) {
		return d.syntaxError("event", "unexpected data after the event object")
	}
	for f := range eventFieldCount {
		if seen&(1<<f) == 0 && optionalFields&(1<<f) == 0 {
			return &ValidationError{Field: eventFieldNames[f], Reason: "is missing"}
		}
	}
	*e = out
	return nil
}

// eventField decodes the value of field f into out.
func (d *jsonDecoder) eventField(out *Event, f eventField) error {
	name := eventFieldNames[f]
	var err error
	switch f {
	case fieldPosition:
		if d.null() {
			return nil
		}
		if out.Position, err = d.integer(name); err == nil && out.Position < 0 {
			err = &ValidationError{Field: name, Reason: "must not be negative (null when the feed has not sealed the event)"}
		}
	case fieldEventID:
		var s []byte
		if s, err = d.rawString(name); err == nil && !parseUUID(&out.EventID, s) {
			err = &ValidationError{Field: name, Reason: "must be a lowercase UUID like 0190a5c0-7f3e-7000-8000-000000000001"}
		}
	case fieldStreamID:
		out.StreamID, err = d.string(name)
	case fieldStreamType:
		var s string
		s, err = d.internedString(name)
		out.StreamType = StreamType(s)
	case fieldSeq:
		out.Seq, err = d.integer(name)
	case fieldTenantID:
		out.TenantID, err = d.string(name)
	case fieldType:
		var s string
		s, err = d.internedString(name)
		out.Type = EventType(s)
	case fieldOccurredAt:
		var s string
		if s, err = d.string(name); err == nil {
			out.OccurredAt, err = ParseTime(s)
		}
	case fieldPayload:
		if d.null() {
			return nil
		}
		start := d.pos
		if err = d.skipValue(name, 0); err == nil {
			out.Payload = bytes.Clone(d.data[start:d.pos])
		}
	case fieldPayloadSalt:
		if d.null() {
			return nil
		}
		out.PayloadSalt = make([]byte, SaltSize)
		err = d.hex(name, out.PayloadSalt)
	case fieldPayloadDigest:
		err = d.hex(name, out.PayloadDigest[:])
	case fieldHashPrev:
		err = d.hex(name, out.HashPrev[:])
	case fieldHash:
		err = d.hex(name, out.Hash[:])
	case fieldMetadata:
		err = d.metadata(&out.Metadata)
	case eventFieldCount:
		// Not a field: it counts them, and callers range below it.
	}
	return err
}

// metadata decodes the metadata object: string fields, each at most once.
func (d *jsonDecoder) metadata(m *Metadata) error {
	fields := [...]struct {
		name, field string
		dst         *string
	}{
		{"actor", "metadata.actor", &m.Actor},
		{"request_id", "metadata.request_id", &m.RequestID},
		{"causation_id", "metadata.causation_id", &m.CausationID},
		{"correlation_id", "metadata.correlation_id", &m.CorrelationID},
	}
	var seen uint
	return d.object("metadata", func(name []byte) error {
		for i, f := range fields {
			if string(name) != f.name {
				continue
			}
			field := f.field
			if seen&(1<<i) != 0 {
				return &ValidationError{Field: field, Reason: "appears twice; each field may appear once"}
			}
			seen |= 1 << i
			var err error
			*f.dst, err = d.string(field)
			return err
		}
		return &ValidationError{Field: "metadata", Reason: fmt.Sprintf("has unknown field %s; metadata has only actor, request_id, causation_id and correlation_id", quoteField(name))}
	})
}

// quoteField quotes a field name taken from the input for an error message,
// cut short so that hostile input cannot flood a log.
func quoteField(name []byte) string {
	const limit = 64
	if len(name) > limit {
		return strconv.Quote(string(name[:limit])) + "…"
	}
	return strconv.Quote(string(name))
}

// maxJSONDepth bounds the nesting of a payload, as the canonicalizer does.
const maxJSONDepth = 10000

// jsonDecoder is a strict, allocation-light reader of one JSON document
// (RFC 8259). It reports *ValidationError naming the field being read.
type jsonDecoder struct {
	data []byte
	pos  int
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, or 0 at the end.
func (d *jsonDecoder) peek() byte {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// consume skips white space and the byte c if it comes next.
func (d *jsonDecoder) consume(c byte) bool {
	if d.peek() == c {
		d.pos++
		return true
	}
	return false
}

func (d *jsonDecoder) syntaxError(field, what string) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf("is not valid JSON: %s at byte %d", what, d.pos)}
}

// unexpected describes the byte at the current position for a syntax error.
func (d *jsonDecoder) unexpected(field string) error {
	if d.pos >= len(d.data) {
		return d.syntaxError(field, "unexpected end of input")
	}
	return d.syntaxError(field, fmt.Sprintf("unexpected %q", d.data[d.pos]))
}

// null consumes a null literal if one comes next.
func (d *jsonDecoder) null() bool {
	if d.peek() == 'n' && bytes.HasPrefix(d.data[d.pos:], []byte("null")) {
		d.pos += len("null")
		return true
	}
	return false
}

// object reads an object, calling member for each member name with the
// decoder placed on its value; member must consume the value.
func (d *jsonDecoder) object(field string, member func(name []byte) error) error {
	if !d.consume('{') {
		if d.peek() == 0 {
			return d.unexpected(field)
		}
		return &ValidationError{Field: field, Reason: "must be a JSON object"}
	}
	if d.consume('}') {
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.unexpected(field)
		}
		raw, escaped, err := d.scanString(field)
		if err != nil {
			return err
		}
		name := raw
		if escaped {
			if name, err = unescape(field, raw); err != nil {
				return err
			}
		}
		if !d.consume(':') {
			return d.unexpected(field)
		}
		d.skipSpace()
		if err := member(name); err != nil {
			return err
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return nil
		}
		return d.unexpected(field)
	}
}

// scanString reads a string token at d.pos and returns its raw contents
// (between the quotes, escapes left in place) and whether it holds escapes.
// It rejects control characters, bad escapes and invalid UTF-8.
func (d *jsonDecoder) scanString(field string) (raw []byte, escaped bool, err error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, false, &ValidationError{Field: field, Reason: "must be a string"}
	}
	d.pos++
	start := d.pos
	for d.pos < len(d.data) {
		i, data := d.pos, d.data
		for i < len(data) && plainStringByte[data[i]] {
			i++
		}
		if d.pos = i; i == len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			raw = d.data[start:d.pos]
			d.pos++
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if d.pos+1 >= len(d.data) {
				d.pos++
				return nil, false, d.unexpected(field)
			}
			switch d.data[d.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos += 2
			case 'u':
				if d.pos+6 > len(d.data) || !isHex4(d.data[d.pos+2:d.pos+6]) {
					return nil, false, d.syntaxError(field, `\u not followed by 4 hex digits`)
				}
				d.pos += 6
			default:
				return nil, false, d.syntaxError(field, "invalid escape sequence")
			}
		case c < 0x20:
			return nil, false, d.syntaxError(field, "control character in string")
		case c < utf8.RuneSelf:
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, d.syntaxError(field, "invalid UTF-8 in string")
			}
			d.pos += size
		}
	}
	return nil, false, d.unexpected(field)
}

// plainStringByte marks the bytes a JSON string holds as they are: ASCII
// from the space up, except the quote and the backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if hexValue(c) < 0 && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// hexValue returns the value of a lowercase hex digit, or -1.
func hexValue(c byte) int { return int(hexValues[c]) }

var hexValues = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range []byte("0123456789abcdef") {
		t[c] = int8(i)
	}
	return t
}()

// unescape decodes the escapes of a raw string that scanString has checked.
// A \u escape of a lone UTF-16 surrogate is rejected: it is no character.
func unescape(field string, raw []byte) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			out = append(out, raw[i])
			i++
			continue
		}
		switch c := raw[i+1]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := parseHex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				var r2 rune = -1
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = parseHex4(raw[i+2:])
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, &ValidationError{Field: field, Reason: `is not valid JSON: \u escape of a lone UTF-16 surrogate`}
				}
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, c)
		}
		i += 2
	}
	return out, nil
}

func parseHex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		r = r<<4 | rune(hexValue(c))
	}
	return r
}

// rawString reads a string value that must hold no escapes and that the
// caller checks byte by byte (hex, UUIDs): it finds the closing quote
// without checking the bytes in between.
func (d *jsonDecoder) rawString(field string) ([]byte, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, &ValidationError{Field: field, Reason: "must be a string"}
	}
	n := bytes.IndexByte(d.data[d.pos+1:], '"')
	if n < 0 {
		d.pos = len(d.data)
		return nil, d.unexpected(field)
	}
	raw := d.data[d.pos+1 : d.pos+1+n]
	if bytes.IndexByte(raw, '\\') >= 0 {
		return nil, &ValidationError{Field: field, Reason: "must be written without escape sequences"}
	}
	d.pos += n + 2
	return raw, nil
}

// string reads a string value.
func (d *jsonDecoder) string(field string) (string, error) {
	raw, escaped, err := d.scanString(field)
	if err != nil {
		return "", err
	}
	if escaped {
		if raw, err = unescape(field, raw); err != nil {
			return "", err
		}
	}
	return string(raw), nil
}

// knownNames holds the names of the registered event types and stream
// types, so that decoding them does not allocate.
var knownNames = func() map[string]string {
	m := make(map[string]string, len(registry)+len(knownStreamTypes))
	for t := range registry {
		m[string(t)] = string(t)
	}
	for t := range knownStreamTypes {
		m[string(t)] = string(t)
	}
	return m
}()

// internedString reads a string value that is usually one of knownNames.
func (d *jsonDecoder) internedString(field string) (string, error) {
	start := d.pos
	raw, escaped, err := d.scanString(field)
	if err == nil && !escaped {
		if s, ok := knownNames[string(raw)]; ok {
			return s, nil
		}
	}
	d.pos = start
	return d.string(field)
}

// hex reads a string of exactly 2*len(dst) lowercase hex digits into dst.
func (d *jsonDecoder) hex(field string, dst []byte) error {
	raw, err := d.rawString(field)
	if err != nil {
		return err
	}
	if !decodeLowerHex(dst, raw) {
		return &ValidationError{Field: field, Reason: hexReason(len(raw), len(dst))}
	}
	return nil
}

func hexReason(got, size int) string {
	return fmt.Sprintf("must be %d lowercase hex digits (%d bytes); got %d characters", 2*size, size, got)
}

// decodeLowerHex decodes exactly 2*len(dst) lowercase hex digits into dst.
func decodeLowerHex[T string | []byte](dst []byte, s T) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := hexValue(s[2*i]), hexValue(s[2*i+1])
		if hi < 0 || lo < 0 {
			return false
		}
		dst[i] = byte(hi<<4 | lo)
	}
	return true
}

// parseUUID parses the lowercase 8-4-4-4-12 form that AppendUUID writes.
func parseUUID(u *uuid.UUID, s []byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	return decodeLowerHex(u[0:4], s[0:8]) &&
		decodeLowerHex(u[4:6], s[9:13]) &&
		decodeLowerHex(u[6:8], s[14:18]) &&
		decodeLowerHex(u[8:10], s[19:23]) &&
		decodeLowerHex(u[10:16], s[24:36])
}

// integer reads a JSON integer (no fraction, no exponent) that fits in int64.
func (d *jsonDecoder) integer(field string) (int64, error) {
	start := d.pos
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	s := d.data[start:d.pos]
	bad := d.pos == digits || (d.data[digits] == '0' && d.pos-digits > 1)
	if !bad && d.pos < len(d.data) {
		switch d.data[d.pos] {
		case '.', 'e', 'E':
			bad = true
		}
	}
	if bad {
		return 0, &ValidationError{Field: field, Reason: "must be an integer like 3"}
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return 0, &ValidationError{Field: field, Reason: "is out of range for a 64-bit integer"}
	}
	return v, nil
}

// skipValue reads one JSON value of any kind, checking its syntax.
func (d *jsonDecoder) skipValue(field string, depth int) error {
	switch c := d.peek(); c {
	case '{', '[':
		if depth >= maxJSONDepth {
			return &ValidationError{Field: field, Reason: fmt.Sprintf("is nested deeper than %d levels", maxJSONDepth)}
		}
		if c == '{' {
			return d.object(field, func([]byte) error { return d.skipValue(field, depth+1) })
		}
		d.pos++
		if d.consume(']') {
			return nil
		}
		for {
			if err := d.skipValue(field, depth+1); err != nil {
				return err
			}
			if d.consume(',') {
				continue
			}
			if d.consume(']') {
				return nil
			}
			return d.unexpected(field)
		}
	case '"':
		_, _, err := d.scanString(field)
		return err
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(d.data[d.pos:], []byte(lit)) {
				d.pos += len(lit)
				return nil
			}
		}
		return d.unexpected(field)
	default:
		return d.number(field)
	}
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) number(field string) error {
	digits := func() int {
		start := d.pos
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
		}
		return d.pos - start
	}
	at := func(c byte) bool { return d.pos < len(d.data) && d.data[d.pos] == c }
	if at('-') {
		d.pos++
	}
	start := d.pos
	n := digits()
	if n == 0 || (n > 1 && d.data[start] == '0') {
		return d.unexpected(field)
	}
	if at('.') {
		d.pos++
		if digits() == 0 {
			return d.unexpected(field)
		}
	}
	if at('e') || at('E') {
		d.pos++
		if at('+') || at('-') {
			d.pos++
		}
		if digits() == 0 {
			return d.unexpected(field)
		}
	}
	return nil
}
