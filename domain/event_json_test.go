package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

func fill(b []byte, start byte) []byte {
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// sampleEvent is a fully populated event whose text fields need escaping.
func sampleEvent() domain.Event {
	e := domain.Event{
		Position:    42,
		EventID:     uuid.MustParse("0190a5c0-7f3e-7000-8000-00000000000a"),
		StreamID:    "task-0190a5c0",
		StreamType:  domain.StreamTask,
		Seq:         3,
		TenantID:    "tenant-1",
		Type:        domain.TaskOutputType,
		Payload:     []byte(`{"data":"<b>a & b</b>\n","offset":0,"stream":"stdout"}`),
		PayloadSalt: fill(make([]byte, domain.SaltSize), 0),
		Metadata: domain.Metadata{
			Actor:         `worker:"w1"` + "\t\u2028é",
			RequestID:     "req<1>&",
			CorrelationID: "corr\x01",
		},
		OccurredAt: time.Date(2026, 1, 2, 15, 4, 5, 123456000, time.UTC),
	}
	fill(e.PayloadDigest[:], 0x40)
	fill(e.HashPrev[:], 0x80)
	fill(e.Hash[:], 0xc0)
	return e
}

func appendJSON(t *testing.T, e domain.Event) []byte {
	t.Helper()
	b, err := e.AppendJSON(nil)
	if err != nil {
		t.Fatalf("AppendJSON: %v", err)
	}
	return b
}

func TestEventJSONRoundTrip(t *testing.T) {
	t.Parallel()
	pruned := sampleEvent()
	pruned.Payload, pruned.PayloadSalt = nil, nil
	unsealed := sampleEvent()
	unsealed.Position = domain.NoPosition
	unsealed.Metadata = domain.Metadata{}
	tests := []struct {
		name  string
		event domain.Event
		want  []string // substrings of the JSON
	}{
		{"full", sampleEvent(), []string{
			`{"position":42,"event_id":"0190a5c0-7f3e-7000-8000-00000000000a","stream_id":"task-0190a5c0",`,
			`"payload":{"data":"<b>a & b</b>\n","offset":0,"stream":"stdout"},`,
			`"payload_salt":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"`,
			`"occurred_at":"2026-01-02T15:04:05.123456Z"`,
			`"metadata":{"actor":"worker:\"w1\"\t\u2028é","request_id":"req<1>&","correlation_id":"corr\u0001"}}`,
		}},
		{"pruned", pruned, []string{`"payload":null,"payload_salt":null,`}},
		{"unsealed", unsealed, []string{`{"event_id":`, `"metadata":{}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := appendJSON(t, tt.event)
			if bytes.ContainsAny(b, "\n\r") || !json.Valid(b) {
				t.Fatalf("not one line of valid JSON: %s", b)
			}
			for _, w := range tt.want {
				if !bytes.Contains(b, []byte(w)) {
					t.Errorf("JSON lacks %s\nin %s", w, b)
				}
			}
			var got domain.Event
			if err := got.UnmarshalJSON(b); err != nil {
				t.Fatalf("UnmarshalJSON: %v\n%s", err, b)
			}
			if !reflect.DeepEqual(got, tt.event) {
				t.Errorf("round trip changed the event:\n got %+v\nwant %+v", got, tt.event)
			}
			// encoding/json reaches the same methods.
			var viaStd []domain.Event
			if err := json.Unmarshal([]byte("["+string(b)+"]"), &viaStd); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(viaStd[0], tt.event) {
				t.Errorf("json.Unmarshal differs from UnmarshalJSON")
			}
		})
	}
}

func TestEventMarshalJSONEscapesHTMLOnlyThroughEncodingJSON(t *testing.T) {
	t.Parallel()
	e := sampleEvent()
	direct := appendJSON(t, e)
	m, err := e.MarshalJSON()
	if err != nil || !bytes.Equal(m, direct) {
		t.Fatalf("MarshalJSON = %s, %v; want AppendJSON's bytes", m, err)
	}
	var enc bytes.Buffer
	je := json.NewEncoder(&enc)
	je.SetEscapeHTML(false)
	if err := je.Encode(e); err != nil {
		t.Fatal(err)
	}
	if got := bytes.TrimSuffix(enc.Bytes(), []byte("\n")); !bytes.Equal(got, direct) {
		t.Errorf("Encoder without HTML escaping changed the bytes:\n got %s\nwant %s", got, direct)
	}
	std, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(std, []byte("<b>")) {
		t.Errorf("json.Marshal no longer HTML-escapes; update MarshalJSON's doc comment")
	}
}

func TestEventUnmarshalJSONKeepsPayloadAsGiven(t *testing.T) {
	t.Parallel()
	b := appendJSON(t, sampleEvent())
	pretty := `{ "stream": "stdout",
	  "data": "x", "offset": 1e0 }`
	b = bytes.Replace(b, []byte(`{"data":"<b>a & b</b>\n","offset":0,"stream":"stdout"}`), []byte(pretty), 1)
	var e domain.Event
	if err := e.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if string(e.Payload) != pretty {
		t.Fatalf("payload = %q, want it as given", e.Payload)
	}
	// A multi-line payload is compacted on the way out so the line stays one line.
	out := appendJSON(t, e)
	if !bytes.Contains(out, []byte(`"payload":{"stream":"stdout","data":"x","offset":1e0},`)) {
		t.Errorf("multi-line payload not compacted: %s", out)
	}
	e.Payload = []byte("{\n")
	if _, err := e.AppendJSON(nil); err == nil {
		t.Error("AppendJSON accepted an invalid multi-line payload")
	}
}

func TestEventUnmarshalJSONRejects(t *testing.T) {
	t.Parallel()
	valid := string(appendJSON(t, sampleEvent()))
	const hash = `"hash":"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"`
	replace := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("test input lacks %s", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	tests := []struct {
		name, input, field, reason string
	}{
		{"unknown field", replace(`{"position"`, `{"extra":1,"position"`), "event", `unknown field "extra"`},
		{"repeated field", replace(hash, hash+","+hash), "hash", "twice"},
		{"missing field", replace(","+hash, ""), "hash", "missing"},
		{"short hash", replace(hash, hash[:len(hash)-2]+`"`), "hash", "got 63 characters"},
		{"uppercase hash", replace(`"hash":"c0`, `"hash":"C0`), "hash", "lowercase hex"},
		{"escaped hex", replace(`"hash":"c0`, `"hash":"\u00630`), "hash", "escape"},
		{"short salt", replace(`"payload_salt":"00`, `"payload_salt":"`), "payload_salt", "64 lowercase hex"},
		{"salt of wrong type", replace(`"payload_salt":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"`, `"payload_salt":1`), "payload_salt", "must be a string"},
		{"millisecond time", replace(`15:04:05.123456Z`, `15:04:05.123Z`), "occurred_at", "6 fractional digits"},
		{"offset time", replace(`15:04:05.123456Z`, `15:04:05.123456+00:00`), "occurred_at", "6 fractional digits"},
		{"fractional seq", replace(`"seq":3`, `"seq":3.0`), "seq", "integer"},
		{"exponent seq", replace(`"seq":3`, `"seq":3e0`), "seq", "integer"},
		{"string seq", replace(`"seq":3`, `"seq":"3"`), "seq", "integer"},
		{"leading zero seq", replace(`"seq":3`, `"seq":03`), "seq", "integer"},
		{"huge seq", replace(`"seq":3`, `"seq":99999999999999999999`), "seq", "out of range"},
		{"negative position", replace(`"position":42`, `"position":-1`), "position", "negative"},
		{"uppercase event id", replace(`0190a5c0-7f3e`, `0190A5C0-7f3e`), "event_id", "lowercase UUID"},
		{"braced event id", replace(`"0190a5c0-7f3e-7000-8000-00000000000a"`, `"{0190a5c0-7f3e-7000-8000-00000000000a}"`), "event_id", "lowercase UUID"},
		{"invalid payload", replace(`"offset":0`, `"offset":}`), "payload", "not valid JSON"},
		{"payload with bad literal", replace(`"offset":0`, `"offset":nul`), "payload", "not valid JSON"},
		{"trailing data", valid + `{}`, "event", "after the event object"},
		{"trailing comma", replace(`}}`, `},}`), "event", "not valid JSON"},
		{"array", `[]`, "event", "must be a JSON object"},
		{"empty", ``, "event", "unexpected end"},
		{"truncated", valid[:len(valid)/2], "", "not valid JSON"},
		{"unknown metadata", replace(`"metadata":{`, `"metadata":{"who":"x",`), "metadata", `unknown field "who"`},
		{"metadata of wrong type", replace(`"request_id":"req<1>&"`, `"request_id":7`), "metadata.request_id", "string"},
		{"null metadata", replace(`"metadata":{`, `"metadata":null,"x":{`), "metadata", "object"},
		{"null stream id", replace(`"stream_id":"task-0190a5c0"`, `"stream_id":null`), "stream_id", "string"},
		{"raw control character", replace(`"stream_id":"task`, "\"stream_id\":\"\ttask"), "stream_id", "control character"},
		{"invalid UTF-8", replace(`"stream_id":"task`, "\"stream_id\":\"\xfftask"), "stream_id", "UTF-8"},
		{"lone surrogate", replace(`"stream_id":"task`, `"stream_id":"\ud800task`), "stream_id", "surrogate"},
		{"bad escape", replace(`"stream_id":"task`, `"stream_id":"\qtask`), "stream_id", "escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := sampleEvent()
			before := e
			err := e.UnmarshalJSON([]byte(tt.input))
			var ve *domain.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("UnmarshalJSON(%s) = %v, want a *ValidationError", tt.input, err)
			}
			if (tt.field != "" && ve.Field != tt.field) || !strings.Contains(ve.Reason, tt.reason) {
				t.Errorf("error %q: want field %q and a reason with %q", err, tt.field, tt.reason)
			}
			if strings.HasPrefix(err.Error(), "error") {
				t.Errorf("error %q starts with error", err)
			}
			if !reflect.DeepEqual(e, before) {
				t.Errorf("a failed UnmarshalJSON changed the event")
			}
		})
	}
}

func TestEventUnmarshalJSONAccepts(t *testing.T) {
	t.Parallel()
	valid := string(appendJSON(t, sampleEvent()))
	tests := []struct {
		name, input string
		check       func(domain.Event) bool
	}{
		{"null position", strings.Replace(valid, `"position":42`, `"position":null`, 1),
			func(e domain.Event) bool { return e.Position == domain.NoPosition }},
		{"no metadata", valid[:strings.Index(valid, `,"metadata"`)] + "}",
			func(e domain.Event) bool { return e.Metadata == domain.Metadata{} }},
		{"white space and escaped names", strings.NewReplacer(`{"position":`, "\r\n{ \"p\\u006fsition\" :\t", `"seq":3`, `"seq" : 3 `).Replace(valid) + "\n",
			func(e domain.Event) bool { return e.Position == 42 && e.Seq == 3 }},
		{"escaped text", strings.Replace(valid, `"stream_id":"task-0190a5c0"`, `"stream_id":"t\u00e9\ud83d\ude00\/\""`, 1),
			func(e domain.Event) bool { return e.StreamID == "té😀/\"" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e domain.Event
			if err := e.UnmarshalJSON([]byte(tt.input)); err != nil {
				t.Fatalf("UnmarshalJSON: %v", err)
			}
			if !tt.check(e) {
				t.Errorf("unexpected event %+v", e)
			}
		})
	}
}

func TestAppendTimeMatchesFormatTime(t *testing.T) {
	t.Parallel()
	east := time.FixedZone("east", 5*3600+1800)
	times := []time.Time{
		{},
		time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, east),
		time.Date(1999, 2, 28, 0, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(1<<40, 0),
		time.Now(),
	}
	for i := range 1000 {
		times = append(times, time.Unix(int64(i)*7919*104729, int64(i)*999331))
	}
	for _, tm := range times {
		if got, want := string(domain.AppendTime([]byte("x"), tm)), "x"+domain.FormatTime(tm); got != want {
			t.Errorf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestParseHash(t *testing.T) {
	t.Parallel()
	var h domain.Hash
	fill(h[:], 0xe0)
	text, err := h.MarshalText()
	if err != nil || string(text) != "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff" {
		t.Fatalf("MarshalText = %s, %v", text, err)
	}
	var back domain.Hash
	if err := back.UnmarshalText(text); err != nil || back != h {
		t.Fatalf("UnmarshalText = %x, %v", back, err)
	}
	for _, bad := range []string{"", strings.ToUpper(string(text)), string(text[:62]), string(text) + "00", strings.Replace(string(text), "e", "g", 1)} {
		if _, err := domain.ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "\x00\x1f\x7f", "quote\" back\\ slash/", "é😀\u2028\u2029", "bad \xff utf8 \xe2\x82", "<>&"} {
		e := sampleEvent()
		e.StreamID = s
		var back domain.Event
		if err := back.UnmarshalJSON(appendJSON(t, e)); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if strings.Contains(s, "\xe2\x82") { // a cut rune: each byte becomes U+FFFD, as in encoding/json
			var std string
			b, _ := json.Marshal(s)
			_ = json.Unmarshal(b, &std)
			want = std
		}
		if back.StreamID != want {
			t.Errorf("%q came back as %q, want %q", s, back.StreamID, want)
		}
	}
}

func FuzzEventUnmarshalJSON(f *testing.F) {
	valid := sampleEvent()
	b, _ := valid.AppendJSON(nil)
	f.Add(b)
	f.Add([]byte(`{"payload":[1,{"a":[true,false,null,-0.5e+3]}],"x":1}`))
	f.Add([]byte(`{"stream_id":"\ud83d\ude00","seq":-0}`))
	f.Add([]byte(`{"payload":` + strings.Repeat("[", 100)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e domain.Event
		if err := e.UnmarshalJSON(data); err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		out, err := e.AppendJSON(nil)
		if err != nil {
			t.Fatalf("AppendJSON of a decoded event: %v", err)
		}
		var back domain.Event
		if err := back.UnmarshalJSON(out); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if !bytes.Equal(bytes.Join(bytes.Fields(back.Payload), nil), bytes.Join(bytes.Fields(e.Payload), nil)) {
			t.Fatalf("payload changed: %q -> %q", e.Payload, back.Payload)
		}
	})
}

func BenchmarkEventAppendJSON(b *testing.B) {
	e := sampleEvent()
	e.Payload = bytes.Repeat([]byte("x"), 300)
	e.Payload[0], e.Payload[299] = '"', '"'
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = e.AppendJSON(buf[:0])
	}
}

func BenchmarkEventUnmarshalJSON(b *testing.B) {
	e := sampleEvent()
	data, _ := e.AppendJSON(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}
