package integrity_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/axontask/axontask/integrity"
)

func TestIsCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json string
		want bool
	}{
		{`{"adapter":"mock","args":{"interval_ms":100,"steps":3},"name":"build","timeout_s":60}`, true},
		{`{"a":1,"é":2,"😀":3,"ﬁ":4}`, true},
		{`{"a":1,"ﬁ":4,"😀":3}`, false}, // UTF-8 byte order, not UTF-16
		{`{"s":"café 😀 tab\there / \u001f \"q\" \\ <&>"}`, true},
		{`[1000,1,0,0.000001,1e-7,100000000000000000000,1e+21,1.2345678901234568e+29,0.1,4.5,0.002,-5]`, true},
		{`[0,-1,999999999999999,1234567890123456,-9007199254740991]`, true},
		{`{}`, true}, {`[]`, true}, {`""`, true}, {`null`, true}, {`true`, true}, {`false`, true}, {`0`, true},
		{`{"":1,"a":{"":[]}}`, true},
		{`{"b":1,"a":2}`, false},
		{`{"a":1,"a":1}`, false},
		{`{"a": 1}`, false},
		{` {}`, false},
		{"{}\n", false},
		{`[1e3]`, false}, {`[1.0]`, false}, {`[-0]`, false}, {`[01]`, false}, {`[1E+21]`, false}, {`[1e+021]`, false},
		{`[12345678901234567890]`, false}, {`[1e400]`, false}, {`[.5]`, false}, {`[1.]`, false}, {`[-]`, false},
		{`["\u00e9"]`, false}, {`["\/"]`, false}, {`["\u000a"]`, false}, {`["\u001F"]`, false}, {`["\u0020"]`, false},
		{`["\ud800"]`, false}, {"[\"\x7f\"]", true}, {"[\"\xff\"]", false}, {"[\"\t\"]", false},
		{`{"a\"b":1}`, false}, // escaped names fall back to the canonicalizer
		{`[1,]`, false}, {`[1 2]`, false}, {`{"a":1,}`, false}, {`{"a"}`, false}, {`{1:2}`, false},
		{`[tru]`, false}, {`nul`, false}, {``, false}, {`"`, false}, {`["a`, false}, {`[`, false}, {`{`, false},
		{strings.Repeat("[", 10000) + strings.Repeat("]", 10000), true},
		{strings.Repeat("[", 10001) + strings.Repeat("]", 10001), false},
	}
	for _, tt := range tests {
		if got := integrity.IsCanonical([]byte(tt.json)); got != tt.want {
			t.Errorf("IsCanonical(%.60s) = %v, want %v", tt.json, got, tt.want)
		}
		if canonical, err := jcs.Transform([]byte(tt.json)); tt.want && (err != nil || !bytes.Equal(canonical, []byte(tt.json))) {
			t.Errorf("%.60s: the canonicalizer disagrees: %s, %v", tt.json, canonical, err)
		}
	}
}

// FuzzIsCanonical checks IsCanonical against the canonicalizer itself
// (jcs.Transform, since CanonicalPayload trusts IsCanonical): whatever it
// accepts canonicalizes to itself, and canonical output without escapes is
// accepted.
func FuzzIsCanonical(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"é":2,"😀":3,"ﬁ":4}`, `[1e3, 1.5, -0, 1e21, 0.000001]`, `{"s":"\u001f\n\"\\"}`,
		`{"b":[true,false,null],"a":{"c":"x"}}`, `[123456789012345678901234567890]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		canonical, err := jcs.Transform(data)
		if integrity.IsCanonical(data) && (err != nil || !bytes.Equal(canonical, data)) {
			t.Fatalf("IsCanonical accepts %q, which canonicalizes to %q (%v)", data, canonical, err)
		}
		if err == nil && !integrity.IsCanonical(canonical) && !bytes.Contains(canonical, []byte(`\`)) {
			t.Fatalf("IsCanonical rejects canonical %q", canonical)
		}
	})
}
