package worker

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
)

type recordSink struct {
	out      map[domain.OutputStream]*strings.Builder
	progress []string
}

func (s *recordSink) Output(stream domain.OutputStream, data []byte) {
	if s.out[stream] == nil {
		s.out[stream] = &strings.Builder{}
	}
	s.out[stream].Write(data)
}

func (s *recordSink) Progress(_ float64, message string) { s.progress = append(s.progress, message) }

// TestMaskerAnySplit: whatever the chunks, the masked output is the
// output with every value replaced, and values pass on as soon as they are
// known not to be one.
func TestMaskerAnySplit(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{"A": "hunter22", "B": "abcabd", "C": "hun", "D": "ünïcødé-välue"}
	text := "x hunter22 y hunter2 abcabcabd hunhunter22 ünïcødé-välue ünïcødé z hunter22"
	want := "x *** y hunter2 abc*** hun*** *** ünïcødé z ***"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		sink := &recordSink{out: map[domain.OutputStream]*strings.Builder{}}
		m := newMasker(sink, secrets)
		for rest := text; rest != ""; {
			n := 1 + rng.IntN(min(len(rest), 12))
			m.Output(domain.Stdout, []byte(rest[:n]))
			rest = rest[n:]
		}
		m.flush()
		if got := sink.out[domain.Stdout].String(); got != want {
			t.Fatalf("masked %q, want %q", got, want)
		}
	}
	sink := &recordSink{out: map[domain.OutputStream]*strings.Builder{}}
	m := newMasker(sink, secrets)
	m.Output(domain.Stdout, []byte("plain text\n"))
	if got := sink.out[domain.Stdout].String(); got != "plain text\n" {
		t.Fatalf("output without a value's start is held back: %q", got)
	}
	m.Output(domain.Stdout, []byte("ends with hunt"))
	if got := sink.out[domain.Stdout].String(); got != "plain text\nends with " {
		t.Fatalf("only a value's possible start is held back: %q", got)
	}
	m.Progress(1, "using hunter22 now")
	if sink.progress[0] != "using *** now" {
		t.Fatalf("progress %q", sink.progress[0])
	}
	if newMasker(sink, map[string]string{"S": "abc"}) != nil {
		t.Fatal("values under the minimum are masked")
	}
}
