package integrity

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// Kind says which verification rule an event broke. The values are stable;
// String gives the snake_case name used in reports.
type Kind int

// The kinds of VerifyError, in the order Verifier.Add checks the rules
// (docs/integrity.md, "Verification rules").
const (
	// InvalidField: a field cannot be what the chain binds: an identifier
	// that is empty, too long, not UTF-8 or holds a control character (which
	// could forge entry lines), seq below 1, a nil event_id, an occurred_at
	// outside years 0000–9999, a salt of the wrong length, a payload without
	// its salt or the reverse, a negative position, or a stream_type or
	// tenant_id that changes within a stream.
	InvalidField Kind = iota + 1
	// FeedOrder: a feed position is not greater than the previous one.
	FeedOrder
	// FeedGap: in a log declared a contiguous feed window
	// (Verifier.RequireDenseFeed), a position was skipped or is missing.
	FeedGap
	// BadStart: a stream's first event is not seq 1 with hash_prev of 64
	// zeros, or does not follow the head given to Verifier.Trust.
	BadStart
	// SeqOrder: a seq repeats or goes back within its stream.
	SeqOrder
	// SeqGap: seqs are missing within a stream.
	SeqGap
	// BrokenLink: hash_prev is not the hash of the stream's previous event.
	BrokenLink
	// WrongDigest: payload_digest is not SHA-256(payload_salt || payload).
	WrongDigest
	// WrongHash: hash is not SHA-256 of the event's entry.
	WrongHash
)

var kindNames = [...]string{
	InvalidField: "invalid_field",
	FeedOrder:    "feed_order",
	FeedGap:      "feed_gap",
	BadStart:     "bad_start",
	SeqOrder:     "seq_order",
	SeqGap:       "seq_gap",
	BrokenLink:   "broken_link",
	WrongDigest:  "wrong_digest",
	WrongHash:    "wrong_hash",
}

// String returns the kind's snake_case name, e.g. "broken_link".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MarshalText renders the kind by its name, for JSON reports.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// VerifyError names the first event that failed verification and why.
type VerifyError struct {
	// Index is the event's 0-based place in the verified sequence.
	Index int64 `json:"index"`
	// StreamID and Seq identify the event as it claims to be.
	StreamID string `json:"stream_id"`
	Seq      int64  `json:"seq"`
	// Position is the event's feed position, or domain.NoPosition.
	Position int64 `json:"position"`
	// Kind is the rule the event broke.
	Kind Kind `json:"kind"`
	// Detail explains the failure for an auditor, with the values involved.
	Detail string `json:"detail"`
}

// Error says which event failed and why, e.g. `event #3 (stream "task-1",
// seq 2, position 17) fails verification: hash_prev … is not the hash …`.
func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "event #%d (stream %q, seq %d", e.Index+1, e.StreamID, e.Seq)
	if e.Position != domain.NoPosition {
		fmt.Fprintf(&b, ", position %d", e.Position)
	}
	fmt.Fprintf(&b, ") fails verification: %s", e.Detail)
	return b.String()
}

// Summary is what a Verifier has verified so far.
type Summary struct {
	// Events counts the events that verified.
	Events int64 `json:"events"`
	// Streams lists every stream seen or trusted, sorted by StreamID.
	Streams []StreamSummary `json:"streams"`
	// FirstPosition and LastPosition are the first and last feed positions
	// verified, domain.NoPosition when no event carried one.
	FirstPosition int64 `json:"first_position"`
	LastPosition  int64 `json:"last_position"`
}

// StreamSummary is one stream's verified chain.
type StreamSummary struct {
	StreamID string `json:"stream_id"`
	// StreamType and TenantID are those of the stream's events (empty for
	// a trusted stream without any).
	StreamType domain.StreamType `json:"stream_type,omitempty"`
	TenantID   string            `json:"tenant_id,omitempty"`
	// Events counts the stream's verified events.
	Events int64 `json:"events"`
	// FirstSeq is the seq of the first verified event (or that it would
	// have): 1, or one more than a trusted head's seq.
	FirstSeq int64 `json:"first_seq"`
	// HeadSeq and HeadHash are the last verified event's seq and hash (the
	// trusted head while no event followed it). Pass them to Verifier.Trust
	// to verify the events appended later.
	HeadSeq  int64       `json:"head_seq"`
	HeadHash domain.Hash `json:"head_hash"`
}

// streamHead is where a stream's chain stands.
type streamHead struct {
	seq        int64
	hash       domain.Hash
	firstSeq   int64
	events     int64
	tenantID   string
	streamType domain.StreamType
}

// Bounds of an occurred_at that TimeLayout can render (years 0000–9999).
var (
	minOccurredAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxOccurredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

// Verifier checks a sequence of events, one at a time, against the rules of
// docs/integrity.md: every stream is its own hash chain, streams may
// interleave as in the global feed, and feed positions, where events carry
// them, increase. It stops at the first failure: from then on Add and Done
// return that same *VerifyError.
//
// A Verifier does no I/O, keeps one entry buffer and one head per stream, and
// allocates nothing per event beyond a stream's first. It is not safe for
// concurrent use.
type Verifier struct {
	heads map[string]*streamHead
	// last caches the head of the most recent event's stream.
	last   *streamHead
	lastID string
	// lastType is the most recent event type that passed validation.
	lastType domain.EventType

	events        int64
	firstPosition int64
	lastPosition  int64
	denseFeed     bool

	entry []byte
	err   *VerifyError
}

// NewVerifier returns a Verifier that expects every stream to start at seq 1.
func NewVerifier() *Verifier {
	return &Verifier{
		heads:         make(map[string]*streamHead),
		firstPosition: domain.NoPosition,
		lastPosition:  domain.NoPosition,
		entry:         make([]byte, 0, 512),
	}
}

// Trust declares that stream streamID's events up to seq are not part of the
// input and that the one at seq has the given hash, known from an earlier
// verification (a StreamSummary's head) or a signed receipt. The stream's
// next event must then be seq+1 chained to hash. Trust(id, 0, domain.ZeroHash)
// is the default. Call it before the stream's first event is added; it fails
// for a stream that already has a head.
func (v *Verifier) Trust(streamID string, seq int64, hash domain.Hash) error {
	if err := domain.ValidateIdentifier("stream_id", streamID); err != nil {
		return fmt.Errorf("trust head of stream %q: %w", streamID, err)
	}
	if seq < 0 || (seq == 0 && hash != domain.ZeroHash) {
		return fmt.Errorf("trust head of stream %q: seq must be positive, or 0 with a hash of 64 zeros", streamID)
	}
	if _, ok := v.heads[streamID]; ok {
		return fmt.Errorf("trust head of stream %q: the stream already has a head; trust it before adding its events", streamID)
	}
	v.heads[streamID] = &streamHead{seq: seq, hash: hash, firstSeq: seq + 1}
	return nil
}

// RequireDenseFeed declares the events a contiguous window of the global
// feed: from then on every event must carry a position, one more than the
// previous event's. It lets the verifier detect events removed from the end
// of a stream, which the stream's own chain cannot show. Without it, positions
// are only required to increase, as in a single stream's export, whose
// positions skip the other streams' events.
func (v *Verifier) RequireDenseFeed() { v.denseFeed = true }

// Add verifies the next event. It returns a *VerifyError for the first
// event that breaks a rule, and that same error for every later call. e is
// not retained after Add returns.
func (v *Verifier) Add(e *domain.Event) error {
	if v.err != nil {
		return v.err
	}
	if err := v.check(e); err != nil {
		v.err = err
		v.err.Index = v.events
		return v.err
	}
	v.events++
	return nil
}

// Done returns the summary of what has verified and, if an event failed,
// its *VerifyError. It may be called more than once, and events added after
// it continue the verification.
func (v *Verifier) Done() (Summary, error) {
	s := Summary{
		Events:        v.events,
		Streams:       make([]StreamSummary, 0, len(v.heads)),
		FirstPosition: v.firstPosition,
		LastPosition:  v.lastPosition,
	}
	for id, h := range v.heads {
		s.Streams = append(s.Streams, StreamSummary{
			StreamID: id, StreamType: h.streamType, TenantID: h.tenantID,
			Events: h.events, FirstSeq: h.firstSeq, HeadSeq: h.seq, HeadHash: h.hash,
		})
	}
	slices.SortFunc(s.Streams, func(a, b StreamSummary) int { return strings.Compare(a.StreamID, b.StreamID) })
	if v.err != nil {
		return s, v.err
	}
	return s, nil
}

// Verify checks events of one or more streams, in the order given, as a
// fresh Verifier does, and returns the first failure as a *VerifyError.
func Verify(events []domain.Event) error {
	v := NewVerifier()
	for i := range events {
		if err := v.Add(&events[i]); err != nil {
			return err
		}
	}
	return nil
}

// check applies the rules to e and advances the verifier's state when e
// passes. The order of the checks decides which kind a tampering reports.
func (v *Verifier) check(e *domain.Event) *VerifyError {
	head := v.last
	if head == nil || e.StreamID != v.lastID {
		head = v.heads[e.StreamID]
	}
	if err := v.checkFields(e, head); err != nil {
		return err
	}
	if err := v.checkPosition(e); err != nil {
		return err
	}
	if err := checkLink(e, head); err != nil {
		return err
	}
	if e.Payload != nil {
		if d := PayloadDigest(e.PayloadSalt, e.Payload); d != e.PayloadDigest {
			return fail(e, WrongDigest, fmt.Sprintf(
				"payload_digest %x is not SHA-256(payload_salt || payload) = %x: the payload or its salt was changed after it was hashed", e.PayloadDigest, d))
		}
	}
	v.entry = AppendEntry(v.entry[:0], e)
	if h := sha256.Sum256(v.entry); h != e.Hash {
		return fail(e, WrongHash, fmt.Sprintf(
			"hash %x is not SHA-256 of the event's entry = %x: a hashed field (stream_id, seq, event_id, type, occurred_at, payload_digest or hash_prev) was changed, or the hash itself", e.Hash, h))
	}

	if head == nil {
		head = &streamHead{firstSeq: 1}
		v.heads[e.StreamID] = head
	}
	if head.events == 0 {
		head.tenantID, head.streamType = e.TenantID, e.StreamType
	}
	head.seq, head.hash = e.Seq, e.Hash
	head.events++
	v.last, v.lastID = head, e.StreamID
	if e.Position != domain.NoPosition {
		if v.firstPosition == domain.NoPosition {
			v.firstPosition = e.Position
		}
		v.lastPosition = e.Position
	}
	return nil
}

// checkFields checks what the entry and the envelope must hold before any
// hash is worth computing. A stream's id and tenant are validated once: later
// events must repeat them exactly.
func (v *Verifier) checkFields(e *domain.Event, head *streamHead) *VerifyError {
	invalid := func(err error) *VerifyError { return fail(e, InvalidField, err.Error()) }
	if head == nil || head.events == 0 {
		for _, f := range [...]struct{ name, value string }{
			{"stream_id", e.StreamID}, {"stream_type", string(e.StreamType)}, {"tenant_id", e.TenantID},
		} {
			if err := domain.ValidateIdentifier(f.name, f.value); err != nil {
				return invalid(err)
			}
		}
	} else if e.TenantID != head.tenantID || e.StreamType != head.streamType {
		return fail(e, InvalidField, fmt.Sprintf(
			"stream_type %q and tenant_id %q differ from the stream's earlier events (%q, %q); they are not hashed, so this event's envelope was altered",
			e.StreamType, e.TenantID, head.streamType, head.tenantID))
	}
	if e.Type != v.lastType {
		if err := domain.ValidateIdentifier("type", string(e.Type)); err != nil {
			return invalid(err)
		}
		v.lastType = e.Type
	}
	switch {
	case e.Seq < 1:
		return fail(e, InvalidField, "seq must be 1 or more")
	case e.EventID == uuid.Nil:
		return fail(e, InvalidField, "event_id is the nil UUID; every event has a unique id")
	case (e.Payload == nil) != (e.PayloadSalt == nil):
		return fail(e, InvalidField, "payload and payload_salt must be pruned together: one is present without the other")
	case e.PayloadSalt != nil && len(e.PayloadSalt) != domain.SaltSize:
		return fail(e, InvalidField, fmt.Sprintf("payload_salt holds %d bytes; it must hold %d", len(e.PayloadSalt), domain.SaltSize))
	}
	if t := e.OccurredAt.Unix(); t < minOccurredAt || t >= maxOccurredAt {
		return fail(e, InvalidField, "occurred_at lies outside the years 0000–9999 that its format can hold")
	}
	return nil
}

// checkPosition checks e's feed position against the previous one.
func (v *Verifier) checkPosition(e *domain.Event) *VerifyError {
	switch p, last := e.Position, v.lastPosition; {
	case p == domain.NoPosition:
		if v.denseFeed {
			return fail(e, FeedGap, "the event has no feed position, but the log was declared a contiguous window of the feed")
		}
	case p < 0:
		return fail(e, InvalidField, fmt.Sprintf("position %d is negative", p))
	case last == domain.NoPosition:
	case p <= last:
		return fail(e, FeedOrder, fmt.Sprintf(
			"position %d does not follow position %d: feed positions must increase, so events were reordered or repeated", p, last))
	case v.denseFeed && p != last+1:
		return fail(e, FeedGap, fmt.Sprintf(
			"position %d follows position %d: %s", p, last, missing("the feed event at position", "the feed events at positions", last+1, p-1)))
	}
	return nil
}

// origin is the head of a stream that has not been seen or trusted: the
// chain starts at seq 1 after 64 zeros.
var origin = streamHead{firstSeq: 1}

// checkLink checks e's seq and hash_prev against its stream's head (nil
// when the stream has not been seen or trusted).
func checkLink(e *domain.Event, head *streamHead) *VerifyError {
	if head == nil {
		head = &origin
	}
	switch start := head.events == 0; {
	case start && e.Seq != head.seq+1 && head.seq == 0:
		detail := fmt.Sprintf("the stream's first event in this log has seq %d, but a stream starts at seq 1", e.Seq)
		if e.Seq > 1 {
			detail += fmt.Sprintf(": %s (to verify only the later events, trust the head at seq %d)", missing("seq", "seqs", 1, e.Seq-1), e.Seq-1)
		}
		return fail(e, BadStart, detail)
	case start && e.Seq != head.seq+1:
		return fail(e, BadStart, fmt.Sprintf(
			"the stream's first event in this log has seq %d, but it must be %d to follow the trusted head at seq %d", e.Seq, head.seq+1, head.seq))
	case start && e.HashPrev != head.hash && head.seq == 0:
		return fail(e, BadStart, fmt.Sprintf(
			"seq 1 has hash_prev %x, but the first event of a stream must have 64 zeros", e.HashPrev))
	case start && e.HashPrev != head.hash:
		return fail(e, BadStart, fmt.Sprintf(
			"hash_prev %x is not the hash %x of the trusted head at seq %d: the log does not continue the trusted chain", e.HashPrev, head.hash, head.seq))
	case e.Seq <= head.seq:
		return fail(e, SeqOrder, fmt.Sprintf(
			"seq %d comes after seq %d: seqs must increase by one within a stream, so events were reordered, repeated or inserted", e.Seq, head.seq))
	case e.Seq > head.seq+1:
		return fail(e, SeqGap, fmt.Sprintf(
			"seq %d follows seq %d: %s from the stream (removed, or out of order)", e.Seq, head.seq, missing("seq", "seqs", head.seq+1, e.Seq-1)))
	case e.HashPrev != head.hash:
		return fail(e, BrokenLink, fmt.Sprintf(
			"hash_prev %x is not the hash %x of seq %d: the chain is broken, so an earlier event was altered or replaced, or this event does not belong here", e.HashPrev, head.hash, head.seq))
	}
	return nil
}

func fail(e *domain.Event, k Kind, detail string) *VerifyError {
	return &VerifyError{StreamID: e.StreamID, Seq: e.Seq, Position: e.Position, Kind: k, Detail: detail}
}

// missing says that the items from..to (inclusive) are missing.
func missing(one, many string, from, to int64) string {
	if from == to {
		return fmt.Sprintf("%s %d is missing", one, from)
	}
	return fmt.Sprintf("%s %d to %d are missing", many, from, to)
}
