package worker

import (
	"bytes"
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
)

// maskText replaces a secret's value in a task's output.
const maskText = "***"

// masker is the Sink between an executor and the task's output when the
// task was given secrets: it replaces every occurrence of a secret's value
// in output and progress messages by maskText before anything is queued.
//
// A value may be split across two output chunks. Of each stream, masker
// holds back only the end of a chunk that is the start of a value (at most
// the longest value's length less one byte) until the next chunk shows
// whether the value follows, or until flush. Everything else passes at
// once, in order; offsets count the masked output, as it is appended.
// Like every Sink, it is called from one goroutine at a time.
type masker struct {
	out    executors.Sink
	values [][]byte // longest first, so that a value inside another never leaves part of it
	held   map[domain.OutputStream][]byte
}

// newMasker returns a masker of values in front of out, or nil when there
// is nothing to mask. Values shorter than domain.MinSecretValueLen are
// not masked (the API refuses them).
func newMasker(out executors.Sink, secrets map[string]string) *masker {
	var values [][]byte
	for _, v := range secrets {
		if len(v) >= domain.MinSecretValueLen {
			values = append(values, []byte(v))
		}
	}
	if len(values) == 0 {
		return nil
	}
	// Longest first, equal values side by side for CompactFunc.
	slices.SortFunc(values, func(a, b []byte) int { return cmp.Or(len(b)-len(a), bytes.Compare(a, b)) })
	return &masker{out: out, values: slices.CompactFunc(values, bytes.Equal), held: map[domain.OutputStream][]byte{}}
}

// Output implements executors.Sink.
func (m *masker) Output(stream domain.OutputStream, data []byte) {
	buf := append(m.held[stream], data...)
	masked, rest := m.mask(buf)
	m.held[stream] = append([]byte(nil), rest...)
	if len(masked) > 0 {
		m.out.Output(stream, masked)
	}
}

// Progress implements executors.Sink.
func (m *masker) Progress(percent float64, message string) {
	m.out.Progress(percent, m.maskString(message))
}

// flush passes on what is held back: the task's output has ended.
func (m *masker) flush() {
	for _, stream := range []domain.OutputStream{domain.Stdout, domain.Stderr} {
		if held := m.held[stream]; len(held) > 0 {
			delete(m.held, stream)
			m.out.Output(stream, held)
		}
	}
}

// maskString masks every value in s (a whole text, nothing held back).
func (m *masker) maskString(s string) string {
	if m == nil {
		return s
	}
	masked, rest := m.mask([]byte(s))
	return string(masked) + string(rest)
}

// mask returns buf with every value in it masked, less its end that could
// be the start of a value (rest, unmasked), cut so that no UTF-8 character
// is split between the two.
func (m *masker) mask(buf []byte) (masked, rest []byte) {
	var out []byte
	i := 0
	for i < len(buf) {
		at, n := m.next(buf[i:])
		if n == 0 {
			break
		}
		out = append(append(out, buf[i:i+at]...), maskText...)
		i += at + n
	}
	cut := m.partialStart(buf, i)
	for cut > i && cut < len(buf) && !utf8.RuneStart(buf[cut]) {
		cut--
	}
	if out == nil { // no value in buf (i is 0): nothing to copy
		return buf[:cut], buf[cut:]
	}
	return append(out, buf[i:cut]...), buf[cut:]
}

// next returns where the first value in b starts and its length (the
// longest of those starting there); length 0 when there is none.
func (m *masker) next(b []byte) (at, n int) {
	at = -1
	for _, v := range m.values {
		if j := bytes.Index(b, v); j >= 0 && (at < 0 || j < at) {
			at, n = j, len(v)
		}
	}
	if at < 0 {
		return 0, 0
	}
	return at, n
}

// partialStart returns the first index at or after from where the rest of
// buf is a proper start of some value, or len(buf) when there is none.
func (m *masker) partialStart(buf []byte, from int) int {
	longest := len(m.values[0])
	start := max(from, len(buf)-longest+1)
	for j := start; j < len(buf); j++ {
		for _, v := range m.values {
			if len(buf)-j < len(v) && bytes.HasPrefix(v, buf[j:]) {
				return j
			}
		}
	}
	return len(buf)
}

// maskOutcome masks the values in what an outcome says (an executor's
// error may quote its environment).
func (m *masker) maskOutcome(o domain.RunOutcome) domain.RunOutcome {
	if m == nil {
		return o
	}
	o.Error, o.Summary = m.maskString(o.Error), m.maskString(o.Summary)
	return o
}
