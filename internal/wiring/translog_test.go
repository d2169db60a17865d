package wiring_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/wiring"
)

// TestTransparencyLog: the log's keys come from the environment; without
// LOG_SIGNING_KEY there is no log; bad values name their variable and
// never quote a key.
func TestTransparencyLog(t *testing.T) {
	t.Parallel()
	s := teststores.OpenSQLite(t, eventstore.Options{})
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)), "log.example.org/axontask")
	if err != nil {
		t.Fatal(err)
	}
	seed := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	// A C2SP tlog-cosignature key (algorithm 0x04), as litewitness prints it.
	const witnessKey = "witness.example/test+29d98f37+BFM5ZLQEeZFBWLvi9X0Ei0MBKhCdwNeNNKTLJhjwhZXt"
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	if l, err := wiring.TransparencyLog(s, env(nil), nil); l != nil || err != nil {
		t.Fatalf("without a key: %v, %v", l, err)
	}
	l, err := wiring.TransparencyLog(s, env(map[string]string{wiring.EnvLogSigningKey: skey, wiring.EnvReceiptSigningKey: seed,
		wiring.EnvLogOldKeys: " " + vkey + " ,", wiring.EnvReceiptOldKeys: vkey, wiring.EnvLogCheckpointInterval: "500ms",
		wiring.EnvLogWitnesses: witnessKey + " https://witness.example/w1, " + vkey}), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := l.Keys()
	if keys.Origin != "log.example.org/axontask" || keys.Log[0] != vkey || len(keys.Log) != 2 || len(keys.Receipts) != 2 || keys.Receipts[1] != vkey ||
		!strings.HasPrefix(keys.Receipts[0], "log.example.org/axontask/receipts+") || len(keys.Witnesses) != 2 || keys.Witnesses[0] != witnessKey {
		t.Fatalf("keys %+v", keys)
	}
	for name, bad := range map[string]map[string]string{
		wiring.EnvLogSigningKey:          {wiring.EnvLogSigningKey: skey[:len(skey)-8] + "AAAAAAAA"},
		wiring.EnvReceiptSigningKey:      {wiring.EnvLogSigningKey: skey, wiring.EnvReceiptSigningKey: "c2VjcmV0LXNlZWQ="},
		wiring.EnvLogCheckpointInterval:  {wiring.EnvLogSigningKey: skey, wiring.EnvLogCheckpointInterval: "1ms"},
		wiring.EnvLogWitnesses + " key":  {wiring.EnvLogSigningKey: skey, wiring.EnvLogWitnesses: "witness.example+00000000+BAAA"},
		wiring.EnvLogWitnesses + " url":  {wiring.EnvLogSigningKey: skey, wiring.EnvLogWitnesses: witnessKey + " ftp://witness.example"},
		wiring.EnvLogWitnesses + " form": {wiring.EnvLogSigningKey: skey, wiring.EnvLogWitnesses: witnessKey + " https://a https://b"},
	} {
		_, err := wiring.TransparencyLog(s, env(bad), nil)
		if err == nil || !strings.Contains(err.Error(), strings.Fields(name)[0]) || strings.Contains(err.Error(), "c2VjcmV0") || strings.Contains(err.Error(), skey[20:]) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
