package domain

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSecretStringJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    SecretString
		wantErr string
	}{
		{in: `"plain"`, want: Lit("plain")},
		{in: `{"secret":"FLY_TOKEN"}`, want: SecretString{Ref: "FLY_TOKEN"}},
		{in: `{"secret":"1BAD"}`, wantErr: "not a valid secret name"},
		{in: `{"secret":"A","x":1}`, wantErr: "no other member"},
		{in: `{"secret":"A","secret":"B"}`, wantErr: "no other member"},
		{in: `{}`, wantErr: "secret reference"},
		{in: `42`, wantErr: "secret reference"},
	} {
		var got SecretString
		err := json.Unmarshal([]byte(tc.in), &got)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		out, _ := json.Marshal(got)
		if string(out) != strings.ReplaceAll(tc.in, " ", "") {
			t.Errorf("%s: marshals back as %s", tc.in, out)
		}
	}
}

func TestSecretStringResolve(t *testing.T) {
	secrets := map[string]string{"TOKEN": "s3cret"}
	if v, err := (SecretString{Ref: "TOKEN"}).Resolve(secrets); err != nil || v != "s3cret" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	if v, err := Lit("x").Resolve(nil); err != nil || v != "x" {
		t.Fatalf("literal Resolve = %q, %v", v, err)
	}
	if _, err := (SecretString{Ref: "GONE"}).Resolve(secrets); err == nil || !strings.Contains(err.Error(), `"GONE"`) {
		t.Fatalf("missing secret: %v", err)
	}
}
