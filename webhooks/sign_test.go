package webhooks_test

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/axontask/axontask/webhooks"
)

// post sends a signed delivery of body to url through g's client.
func post(t *testing.T, g *webhooks.Guard, url, id string, at time.Time, body []byte, keys ...[]byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.HeaderID, id)
	req.Header.Set(webhooks.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(webhooks.HeaderSignature, webhooks.Sign(id, at, body, keys...))
	resp, err := g.Client(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// The standardwebhooks npm library (not our code) verifies our signatures:
// with one secret, and during a rotation, when a delivery carries both
// signatures, a receiver holding either secret accepts it; a receiver
// holding another secret does not.
func TestSignVerifiesWithStandardWebhooks(t *testing.T) {
	t.Parallel()
	oldKey, _ := webhooks.NewSecret()
	newKey, _ := webhooks.NewSecret()
	stranger, _ := webhooks.NewSecret()
	r := startNodeReceiver(t, webhooks.FormatSecret(oldKey), webhooks.FormatSecret(newKey), webhooks.FormatSecret(stranger))
	g, err := webhooks.ParseAllowedHosts("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event_id":"0190d2a4-6c1e-7b3a-9f00-000000000001","payload":{"note":"<a> & \u2028 ü"}}`)
	for _, tc := range []struct {
		name string
		keys [][]byte
		want []bool
	}{
		{"one secret", [][]byte{oldKey}, []bool{true, false, false}},
		{"rotation", [][]byte{newKey, oldKey}, []bool{true, true, false}},
	} {
		status := post(t, g, r.URL, "msg_"+tc.name, time.Now(), body, tc.keys...)
		v := r.next(t)
		if !slices.Equal(v.Verified, tc.want) || v.EventID != "0190d2a4-6c1e-7b3a-9f00-000000000001" || status != http.StatusNoContent {
			t.Errorf("%s: verified by secrets %v (want %v), event id %q, status %d, library error %q", tc.name, v.Verified, tc.want, v.EventID, status, v.Error)
		}
	}
	// A timestamp outside the library's five minutes of tolerance fails
	// even with the right secret: the timestamp is signed.
	post(t, g, r.URL, "msg_old", time.Now().Add(-time.Hour), body, oldKey)
	if v := r.next(t); v.Verified[0] {
		t.Errorf("a delivery an hour old verified")
	}
}

func TestSecretFormat(t *testing.T) {
	t.Parallel()
	key, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s := webhooks.FormatSecret(key)
	back, err := webhooks.ParseSecret(s)
	if err != nil || !bytes.Equal(back, key) || len(key) != webhooks.SecretSize {
		t.Fatalf("ParseSecret(FormatSecret(key)) = %x, %v; want the key", back, err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!", "sk_abc"} {
		if _, err := webhooks.ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted it", bad)
		}
	}
}
