package webhooks_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

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

// The Standard Webhooks Go library (not our code) verifies our signatures
// the way docs/webhooks.md's Go receiver does: a receiver holding either
// secret of a rotation accepts a delivery that carries both signatures,
// one holding another secret refuses it, and a body changed in transit is
// refused.
func TestSignVerifiesWithTheGoLibrary(t *testing.T) {
	t.Parallel()
	oldKey, _ := webhooks.NewSecret()
	newKey, _ := webhooks.NewSecret()
	stranger, _ := webhooks.NewSecret()
	g, err := webhooks.ParseAllowedHosts("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// The receiver of docs/webhooks.md, holding secret.
	receiver := func(secret []byte) string {
		wh, err := standardwebhooks.NewWebhook(webhooks.FormatSecret(secret))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err := wh.Verify(body, r.Header); err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	holdsOld, holdsNew, holdsOther := receiver(oldKey), receiver(newKey), receiver(stranger)
	body := []byte(`{"event_id":"0190d2a4-6c1e-7b3a-9f00-000000000001","payload":{"note":"<a> & \u2028 ü"}}`)
	for _, tc := range []struct {
		url  string
		keys [][]byte
		want int
	}{
		{holdsOld, [][]byte{oldKey}, http.StatusNoContent},
		{holdsNew, [][]byte{oldKey}, http.StatusUnauthorized},
		{holdsOld, [][]byte{newKey, oldKey}, http.StatusNoContent},
		{holdsNew, [][]byte{newKey, oldKey}, http.StatusNoContent},
		{holdsOther, [][]byte{newKey, oldKey}, http.StatusUnauthorized},
	} {
		if got := post(t, g, tc.url, "msg_go", time.Now(), body, tc.keys...); got != tc.want {
			t.Errorf("%d keys to %s: answered %d, want %d", len(tc.keys), tc.url, got, tc.want)
		}
	}
	// A body changed after signing.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, holdsOld, bytes.NewReader(append(body, ' ')))
	at := time.Now()
	req.Header.Set(webhooks.HeaderID, "msg_go")
	req.Header.Set(webhooks.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(webhooks.HeaderSignature, webhooks.Sign("msg_go", at, body, oldKey))
	resp, err := g.Client(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a body changed after signing: answered %d, want 401", resp.StatusCode)
	}
}
