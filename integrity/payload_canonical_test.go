package integrity

import (
	"testing"

	"github.com/axontask/axontask/domain"
)

// Every registered payload type, written by domain.MarshalPayload, is
// canonical already, so appends take the fast path.
func TestMarshalPayloadIsCanonical(t *testing.T) {
	t.Parallel()
	samples := domain.Samples()
	for typ := range samples {
		if !domain.KnownType(typ) {
			t.Errorf("sample of unregistered type %s", typ)
		}
	}
	for _, typ := range domain.KnownTypes() {
		v, ok := samples[typ]
		if !ok {
			t.Errorf("no sample payload for %s", typ)
			continue
		}
		b, err := domain.MarshalPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		if !IsCanonical(b) {
			c, _ := CanonicalPayload(b)
			t.Errorf("%s payload is not canonical:\n got %s\nwant %s", typ, b, c)
		}
		if _, err := domain.Decode(typ, b); err != nil {
			t.Errorf("%s payload does not decode: %v", typ, err)
		}
	}
}
