package integrity

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/axontask/axontask/domain"
)

// MaxExportLine bounds one line of an export, in bytes: an event with a
// payload at the store's 1 MiB limit fits several times over, even when a
// third party has re-escaped or pretty-printed it.
const MaxExportLine = 4 << 20

// ErrNoEvents is returned by VerifyExport for an export without events:
// nothing was verified, which an auditor must not mistake for success.
var ErrNoEvents = errors.New("the export holds no events, so nothing was verified")

// ParseExport reads an export, JSON Lines of events in the form of
// domain.Event.UnmarshalJSON (docs/integrity.md), and calls fn for each event
// in order. Blank lines are skipped and CRLF line ends are accepted. Each
// payload that is not in RFC 8785 canonical form already (IsCanonical) is
// canonicalized again, so an export whose payloads a third party has
// re-formatted still verifies; pruned payloads stay nil.
//
// fn must not keep e after it returns (copy *e to keep the event). ParseExport
// stops at the first malformed line or the first error from fn and returns it
// wrapped with the line number. A line longer than MaxExportLine fails.
func ParseExport(r io.Reader, fn func(e *domain.Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxExportLine+len("\r\n"))
	var e domain.Event
	line := 0
	tooLong := func() error {
		return fmt.Errorf("export line %d is longer than %d bytes, the most one event may take: the file is not an export, or its lines were joined", line, MaxExportLine)
	}
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if len(text) > MaxExportLine {
			return tooLong()
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if err := parseExportLine(text, &e); err != nil {
			return fmt.Errorf("export line %d: %w", line, err)
		}
		if err := fn(&e); err != nil {
			return fmt.Errorf("export line %d: %w", line, err)
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		line++
		return tooLong()
	case err != nil:
		return fmt.Errorf("read export after line %d: %w", line, err)
	}
	return nil
}

// parseExportLine decodes one event and canonicalizes its payload.
func parseExportLine(text []byte, e *domain.Event) error {
	if err := e.UnmarshalJSON(text); err != nil {
		return err
	}
	if e.Payload == nil || IsCanonical(e.Payload) {
		return nil
	}
	canonical, err := CanonicalPayload(e.Payload)
	if err != nil {
		return err
	}
	e.Payload = canonical
	return nil
}

// ReadExport verifies every event of an export, JSON Lines or binary (see
// ParseAnyExport), with v. A failed event is reported as a *VerifyError
// wrapped with its line or record number.
func (v *Verifier) ReadExport(r io.Reader) error {
	return ParseAnyExport(r, v.Add)
}

// VerifyExport verifies a complete export read from r: every stream must
// start at seq 1. It returns the summary of what verified (also on failure:
// the events before the first bad one) and the first failure: a malformed
// line, a *VerifyError (errors.As finds it), or ErrNoEvents. To verify a
// suffix from known heads, or a contiguous feed window, use a Verifier with
// Trust or RequireDenseFeed and its ReadExport.
func VerifyExport(r io.Reader) (Summary, error) {
	v := NewVerifier()
	err := v.ReadExport(r)
	s, _ := v.Done()
	if err == nil && s.Events == 0 {
		err = ErrNoEvents
	}
	return s, err
}
