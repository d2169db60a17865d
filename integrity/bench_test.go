package integrity_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// manyEvents builds n valid events of task.output, round-robin over the given
// number of task streams, each with a canonical payload of about 300 bytes.
// Payloads and salts share one backing array, as rows read in a batch would.
func manyEvents(tb testing.TB, n, streams int) []domain.Event {
	tb.Helper()
	const text = "2026-01-02 15:04:05 step 42/100: compiling package github.com/axontask/axontask/integrity " +
		"and writing the object files to the build cache; 17 warnings, 0 errors so far; cache hits 93% of 1,204 lookups; " +
		"elapsed 00:01:23, peak memory 412 MiB, 2 workers busy"
	ids := make([]string, streams)
	for i := range ids {
		ids[i] = fmt.Sprintf("task-0192f1d2-6b1e-7c3a-9f00-%012x", i)
	}
	c := newChain()
	arena := make([]byte, 0, n*(len(text)+80+domain.SaltSize))
	events := make([]domain.Event, n)
	for i := range events {
		start := len(arena)
		arena = fmt.Appendf(arena, `{"data":"line %07d %s\n","offset":%d,"stream":"stdout"}`, i, text, i*(len(text)+14))
		payload := arena[start:len(arena):len(arena)]
		start = len(arena)
		arena = append(arena, testSalt(int64(i))...)
		salt := arena[start:len(arena):len(arena)]
		events[i] = c.addCanonical(ids[i%streams], domain.TaskOutputType, payload, salt)
	}
	return events
}

var (
	benchOnce   sync.Once
	benchEvents []domain.Event
)

// benchmarkEvents returns one million events over 100 streams, built once.
func benchmarkEvents(b *testing.B) []domain.Event {
	benchOnce.Do(func() { benchEvents = manyEvents(b, 1_000_000, 100) })
	return benchEvents
}

func TestManyEventsVerify(t *testing.T) {
	t.Parallel()
	events := manyEvents(t, 3000, 7)
	if n := len(events[0].Payload); n < 280 || n > 320 {
		t.Errorf("payloads are %d bytes, want about 300", n)
	}
	if err := integrity.Verify(events); err != nil {
		t.Fatal(err)
	}
}

// reportRate reports events per second of wall time and, where measured,
// per second of CPU time since cpuStart: on a shared machine the second is the
// steadier figure for "events per second on one core".
func reportRate(b *testing.B, events int, cpuStart time.Duration) {
	n := float64(events * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpuStart; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkVerify verifies one million events of 100 interleaved streams
// held in memory: offline verification without parsing. Beside the rates it
// reports how close it comes to the raw ceiling measured right after it:
// computing the two SHA-256 sums each event needs, and nothing else.
func BenchmarkVerify(b *testing.B) {
	events := benchmarkEvents(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		if err := integrity.Verify(events); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, len(events), cpu)
	b.StopTimer()
	start := time.Now()
	for range b.N {
		hashOnly(events)
	}
	b.ReportMetric(100*time.Since(start).Seconds()/b.Elapsed().Seconds(), "%-of-sha256-ceiling")
}

// hashOnly computes what Verify must hash per event, SHA-256 of salt ||
// payload and of an entry-sized buffer, and nothing else.
func hashOnly(events []domain.Event) domain.Hash {
	entry := integrity.AppendEntry(nil, &events[0])
	var sum domain.Hash
	for i := range events {
		sum = integrity.PayloadDigest(events[i].PayloadSalt, events[i].Payload)
		entry[0] = sum[0]
		sum = sha256.Sum256(entry)
	}
	return sum
}

// BenchmarkVerifyExport verifies the same events from their JSON Lines
// export: parsing, re-canonicalizing every payload (RFC 8785) and verifying.
func BenchmarkVerifyExport(b *testing.B) {
	events := benchmarkEvents(b)[:200_000]
	var export bytes.Buffer
	var line []byte
	for i := range events {
		var err error
		if line, err = events[i].AppendJSON(line[:0]); err != nil {
			b.Fatal(err)
		}
		export.Write(line)
		export.WriteByte('\n')
	}
	b.SetBytes(int64(export.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		sum, err := integrity.VerifyExport(bytes.NewReader(export.Bytes()))
		if err != nil || sum.Events != int64(len(events)) {
			b.Fatalf("%d events, %v", sum.Events, err)
		}
	}
	reportRate(b, len(events), cpu)
}

// BenchmarkVerifyBinaryExport verifies the same events from their binary
// export: length-prefixed records, no JSON.
func BenchmarkVerifyBinaryExport(b *testing.B) {
	events := benchmarkEvents(b)[:200_000]
	export := []byte(integrity.BinaryExportMagic)
	for i := range events {
		var err error
		if export, err = integrity.AppendBinaryRecord(export, &events[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(export)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		sum, err := integrity.VerifyExport(bytes.NewReader(export))
		if err != nil || sum.Events != int64(len(events)) {
			b.Fatalf("%d events, %v", sum.Events, err)
		}
	}
	reportRate(b, len(events), cpu)
}

// BenchmarkCanonicalPayload isolates the RFC 8785 step of an export, for a
// payload that is canonical already (checked by IsCanonical) and for the same
// payload re-formatted (canonicalized by the jcs library).
func BenchmarkCanonicalPayload(b *testing.B) {
	text := strings.Repeat("x", 250)
	for _, bc := range []struct{ name, payload string }{
		{"canonical", `{"data":"line 0000001 ` + text + `\n","offset":0,"stream":"stdout"}`},
		{"reformatted", `{"stream": "stdout", "offset": 0, "data": "line 0000001 ` + text + `\n"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			payload := []byte(bc.payload)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := integrity.CanonicalPayload(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
