package integrity_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

func goldenExport(t testing.TB) string {
	t.Helper()
	return goldenExportAt(t, exportFile)
}

func goldenExportAt(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifyExport(t *testing.T) {
	t.Parallel()
	golden := goldenExport(t)
	replace := func(old, new string) string {
		if !strings.Contains(golden, old) {
			t.Fatalf("golden export lacks %s", old)
		}
		return strings.Replace(golden, old, new, 1)
	}
	tests := []struct {
		name   string
		export string
		events int64
		kind   integrity.Kind // 0: no *VerifyError
		phrase string         // in the error; "" when the export verifies
	}{
		{name: "golden", export: golden, events: 4},
		{name: "re-formatted payloads", events: 4, export: strings.NewReplacer(
			`"payload":{"attempt":1}`, `"payload":{ "attempt" : 1.0 }`,
			`"payload":{"data":"héllo wörld ✓\n","offset":0,"stream":"stdout"}`, `"payload":{"stream":"stdout","offset":0e0,"data":"h\u00e9llo w\u00f6rld \u2713\u000a"}`,
		).Replace(golden)},
		{name: "CRLF, blank lines, no final newline", events: 4, export: "\n" + strings.TrimSuffix(strings.ReplaceAll(golden, "\n", "\r\n\r\n  \t\n"), "\r\n\r\n  \t\n")},
		{name: "edited payload", export: replace(`"payload":{"attempt":1}`, `"payload":{"attempt":2}`), events: 1,
			kind: integrity.WrongDigest, phrase: `export line 2: event #2 (stream "task-0192f1d2-6b1e-7c3a-9f00-3d5e8a1b2c4d", seq 2, position 1) fails verification: payload_digest`},
		{name: "edited metadata is not hashed", export: replace(`"actor":"system"`, `"actor":"mallory"`), events: 4},
		{name: "deleted line", export: strings.Replace(golden, strings.SplitAfter(golden, "\n")[1], "", 1), events: 2,
			kind: integrity.SeqGap, phrase: "export line 3: event #3"},
		{name: "duplicate key in payload", export: replace(`{"attempt":1}`, `{"attempt":1,"attempt":2}`), events: 1,
			phrase: "export line 2: payload must be valid JSON: Duplicate key"},
		{name: "malformed line", export: replace(`"seq":3`, `"seq":"3"`), events: 3,
			phrase: "export line 4: seq must be an integer"},
		{name: "truncated last line", export: golden[:len(golden)-40], events: 3,
			phrase: "export line 4: hash is not valid JSON: unexpected end of input"},
		{name: "empty", export: "", phrase: integrity.ErrNoEvents.Error()},
		{name: "blank lines only", export: "\n \r\n\t\n", phrase: integrity.ErrNoEvents.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sum, err := integrity.VerifyExport(strings.NewReader(tt.export))
			if sum.Events != tt.events {
				t.Errorf("summary counts %d events, want %d", sum.Events, tt.events)
			}
			if tt.phrase == "" {
				if err != nil {
					t.Fatalf("a valid export fails: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.phrase) {
				t.Fatalf("got %v, want an error with %q", err, tt.phrase)
			}
			var ve *integrity.VerifyError
			if errors.As(err, &ve) != (tt.kind != 0) || (ve != nil && ve.Kind != tt.kind) {
				t.Errorf("got %#v, want kind %v", ve, tt.kind)
			}
		})
	}
}

func TestParseExportHandsOnCanonicalPayloads(t *testing.T) {
	t.Parallel()
	export := strings.Replace(goldenExport(t), `"payload":{"attempt":1}`, `"payload":{ "attempt" : 1.0 }`, 1)
	var got []string
	err := integrity.ParseExport(strings.NewReader(export), func(e *domain.Event) error {
		got = append(got, string(e.Payload))
		return nil
	})
	if err != nil || len(got) != 4 || got[1] != `{"attempt":1}` {
		t.Fatalf("payloads %q, %v", got, err)
	}
	pruned, err := os.ReadFile(prunedExportFile)
	if err != nil {
		t.Fatal(err)
	}
	err = integrity.ParseExport(bytes.NewReader(pruned), func(e *domain.Event) error {
		if e.Seq == 2 && (e.Payload != nil || e.PayloadSalt != nil) {
			t.Errorf("pruned payload came back as %q, salt %x", e.Payload, e.PayloadSalt)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err = integrity.ParseExport(strings.NewReader(export), func(*domain.Event) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 || !strings.HasPrefix(err.Error(), "export line 1: ") {
		t.Errorf("fn's error: %v after %d calls", err, calls)
	}
}

func TestParseExportBoundsLines(t *testing.T) {
	t.Parallel()
	for _, tail := range []string{"", "\n", "\r\n", strings.Repeat("y", 1<<20)} {
		long := io.MultiReader(strings.NewReader(goldenExport(t)), strings.NewReader(strings.Repeat("x", integrity.MaxExportLine+1)+tail))
		err := integrity.ParseExport(long, func(*domain.Event) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "export line 5 is longer than 4194304 bytes") {
			t.Fatalf("line of %d bytes: got %v", integrity.MaxExportLine+1, err)
		}
	}
	// A line of exactly the limit is read (and then fails as JSON).
	exact := strings.Repeat(" ", integrity.MaxExportLine-2) + "[]\r\n"
	err := integrity.ParseExport(strings.NewReader(exact), func(*domain.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "must be a JSON object") {
		t.Fatalf("got %v", err)
	}
}

func TestReadExportFromTrustedHeads(t *testing.T) {
	t.Parallel()
	vf := readVectors(t)
	lines := strings.SplitAfter(goldenExport(t), "\n")
	v := integrity.NewVerifier()
	if err := v.Trust(vectorStreamA, 2, mustHash(t, vf.Events[1].Hash)); err != nil {
		t.Fatal(err)
	}
	if err := v.ReadExport(strings.NewReader(lines[2] + lines[3])); err != nil {
		t.Fatal(err)
	}
	sum, err := v.Done()
	if err != nil || sum.Events != 2 || sum.Streams[0].FirstSeq != 3 || sum.Streams[0].HeadSeq != 3 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
}

func mustHash(t *testing.T, s string) domain.Hash {
	t.Helper()
	h, err := domain.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func FuzzParseExport(f *testing.F) {
	golden, err := os.ReadFile(exportFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(bytes.SplitAfter(golden, []byte("\n"))[2])
	f.Add([]byte("{}\n\n{\"payload\":[1,2,{\"a\":\"\\ud800\"}]}"))
	f.Add([]byte(`{"position":null,"payload":null,"payload_salt":null,"metadata":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var events []domain.Event
		err := integrity.ParseExport(bytes.NewReader(data), func(e *domain.Event) error {
			events = append(events, *e)
			return nil
		})
		_, verr := integrity.VerifyExport(bytes.NewReader(data))
		if err != nil {
			if verr == nil {
				t.Fatalf("VerifyExport accepted what ParseExport rejects: %v", err)
			}
			return
		}
		// What parses re-exports to lines that parse to the same events.
		for i := range events {
			line, err := events[i].AppendJSON(nil)
			if err != nil {
				t.Fatalf("re-export: %v", err)
			}
			var back domain.Event
			if err := back.UnmarshalJSON(line); err != nil || !bytes.Equal(back.Payload, events[i].Payload) || back.Hash != events[i].Hash {
				t.Fatalf("re-export of %s does not parse back: %v", line, err)
			}
		}
	})
}
