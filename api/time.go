package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/axontask/axontask/domain"
)

// Time is an instant on the wire: RFC 3339 in UTC with exactly six
// fractional digits (domain.FormatTime), or null for the zero time, when
// the resource has not got there yet. Decoding takes any RFC 3339 time;
// null, or a string that does not parse, is the zero time.
type Time struct{ time.Time }

// MarshalJSON renders t as domain.FormatTime does, or null when t is zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(domain.FormatTime(t.Time))
}

// UnmarshalJSON reads an RFC 3339 string or null; a value that does not
// parse leaves t zero rather than failing the whole answer.
func (t *Time) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return nil
	}
	if parsed, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time = parsed
	}
	return nil
}

// ParseTimeParam reads the RFC 3339 time of the parameter field (with its
// offset, to the microsecond: domain.NormalizeTime), for the API, its
// clients and its tools alike; a value that is not one is a
// *domain.ValidationError naming field and showing the form it needs.
func ParseTimeParam(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &domain.ValidationError{Field: field, Reason: "is " + strconv.Quote(v) +
			"; it must be an RFC 3339 time with its offset, such as 2026-12-01T09:30:00Z"}
	}
	return domain.NormalizeTime(t), nil
}
