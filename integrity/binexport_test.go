package integrity_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// binaryExport writes events as a binary export.
func binaryExport(t testing.TB, events []domain.Event) []byte {
	t.Helper()
	out := []byte(integrity.BinaryExportMagic)
	for i := range events {
		var err error
		if out, err = integrity.AppendBinaryRecord(out, &events[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// parseAll parses an export of either form into events.
func parseAll(data []byte) ([]domain.Event, error) {
	var events []domain.Event
	err := integrity.ParseAnyExport(bytes.NewReader(data), func(e *domain.Event) error {
		c := *e
		c.Payload, c.PayloadSalt = bytes.Clone(e.Payload), bytes.Clone(e.PayloadSalt)
		events = append(events, c)
		return nil
	})
	return events, err
}

// The golden export, pruned payloads included, reads back the same from
// its binary form, and verifies the same.
func TestBinaryExportRoundTrip(t *testing.T) {
	t.Parallel()
	for _, file := range []string{exportFile, "testdata/export-pruned.jsonl"} {
		jsonl := []byte(goldenExportAt(t, file))
		events, err := parseAll(jsonl)
		if err != nil {
			t.Fatal(err)
		}
		bin := binaryExport(t, events)
		back, err := parseAll(bin)
		if err != nil {
			t.Fatalf("%s: parse the binary export: %v", file, err)
		}
		if !reflect.DeepEqual(back, events) {
			t.Fatalf("%s: the binary export reads back\n%+v\nnot\n%+v", file, back, events)
		}
		want, werr := integrity.VerifyExport(bytes.NewReader(jsonl))
		got, gerr := integrity.VerifyExport(bytes.NewReader(bin))
		if !reflect.DeepEqual(got, want) || (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: binary verifies as %+v, %v; JSON Lines as %+v, %v", file, got, gerr, want, werr)
		}
		if len(bin) >= len(jsonl) {
			t.Errorf("%s: the binary export (%d bytes) is not smaller than JSON Lines (%d)", file, len(bin), len(jsonl))
		}
	}
}

// Every damage to a binary export is found, named by its record.
func TestBinaryExportDamage(t *testing.T) {
	t.Parallel()
	events, err := parseAll([]byte(goldenExport(t)))
	if err != nil {
		t.Fatal(err)
	}
	bin := binaryExport(t, events)
	second := bytes.Index(bin, []byte(`{"attempt":1}`))
	if second < 0 {
		t.Fatal("the golden export's second payload is not in its binary form")
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(bin)) }
	for _, tc := range []struct {
		name, phrase string
		data         []byte
		kind         integrity.Kind
	}{
		{name: "an edited payload", data: edit(func(b []byte) []byte { b[second+11] = '2'; return b }),
			kind: integrity.WrongDigest, phrase: "export record 2: event #2"},
		{name: "cut off in a record", data: bin[:len(bin)-40], phrase: "export record 4: cut off"},
		{name: "cut off in a length", data: bin[:len(integrity.BinaryExportMagic)+2], phrase: "export record 1: its length is cut off"},
		{name: "a record claiming 4 GiB", data: append([]byte(integrity.BinaryExportMagic), 0xff, 0xff, 0xff, 0xff), phrase: "claims 4294967295 bytes"},
		{name: "unknown flags", data: edit(func(b []byte) []byte { b[len(integrity.BinaryExportMagic)+4+136] |= 0x80; return b }), phrase: "unknown flags"},
		{name: "a negative position", data: edit(func(b []byte) []byte { b[len(integrity.BinaryExportMagic)+4] = 0xf0; return b }), phrase: "position"},
		{name: "magic only", data: []byte(integrity.BinaryExportMagic), phrase: integrity.ErrNoEvents.Error()},
	} {
		_, err := integrity.VerifyExport(bytes.NewReader(tc.data))
		var verr *integrity.VerifyError
		if err == nil || !strings.Contains(err.Error(), tc.phrase) || (tc.kind != 0 && (!errors.As(err, &verr) || verr.Kind != tc.kind)) {
			t.Errorf("%s: %v; want an error containing %q (kind %v)", tc.name, err, tc.phrase, tc.kind)
		}
	}
	if err := integrity.ParseBinaryExport(strings.NewReader(goldenExport(t)), func(*domain.Event) error { return nil }); err == nil || !strings.Contains(err.Error(), "not a binary export") {
		t.Errorf("ParseBinaryExport of JSON Lines: %v", err)
	}
}

func FuzzParseBinaryExport(f *testing.F) {
	events, err := parseAll([]byte(goldenExportAt(f, exportFile)))
	if err != nil {
		f.Fatal(err)
	}
	bin := binaryExport(f, events)
	f.Add(bin)
	f.Add(bin[:len(bin)/2])
	f.Add([]byte(integrity.BinaryExportMagic + "\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := parseAll(append([]byte(integrity.BinaryExportMagic), data...))
		if err != nil {
			return
		}
		// What parses writes back to the same bytes.
		again := binaryExport(t, events)
		if !bytes.Equal(again[len(integrity.BinaryExportMagic):], data) {
			t.Fatalf("%x re-exports as %x", data, again[len(integrity.BinaryExportMagic):])
		}
	})
}
