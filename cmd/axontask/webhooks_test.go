package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/webhooks"
)

// hookReceiver records the deliveries it gets; it is down (503) for the
// first second of its life, and until it knows the endpoint's secret.
// It verifies every delivery's signature with the Standard Webhooks Go
// library, answering 401 to one that does not verify.
type hookReceiver struct {
	mu         sync.Mutex
	wh         *standardwebhooks.Webhook // nil until the endpoint exists
	positions  []int64                   // the position of each request, in arrival order
	ids        map[string]bool           // event ids received
	hookIDs    map[string]string
	unverified []string // why deliveries did not verify
}

// verifyWith makes h verify deliveries with secret ("whsec_…").
func (h *hookReceiver) verifyWith(t *testing.T, secret string) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wh = wh
}

// checkVerified fails t if a delivery did not verify.
func (h *hookReceiver) checkVerified(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.unverified) > 0 {
		t.Fatalf("%d deliveries did not verify with the endpoint's secret: %s", len(h.unverified), strings.Join(h.unverified, "; "))
	}
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request, up time.Time) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	wh := h.wh
	h.mu.Unlock()
	if time.Now().Before(up) || wh == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if err := wh.Verify(body, r.Header); err != nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.unverified = append(h.unverified, fmt.Sprintf("%s: %v", r.Header.Get(webhooks.HeaderID), err))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var env struct {
		Position int64  `json:"position"`
		EventID  string `json:"event_id"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev, ok := h.hookIDs[env.EventID]; ok && prev != r.Header.Get(webhooks.HeaderID) {
		w.WriteHeader(http.StatusConflict) // the test fails on the id below
		return
	}
	h.hookIDs[env.EventID] = r.Header.Get(webhooks.HeaderID)
	if !h.ids[env.EventID] {
		h.positions = append(h.positions, env.Position)
	}
	h.ids[env.EventID] = true
	w.WriteHeader(http.StatusNoContent)
}

// Production processes deliver every task event to a tenant's endpoint,
// in feed order, each under one webhook-id and signed with the secret the
// endpoint was created with (verified by the Standard Webhooks Go
// library), through a receiver that is down at first and a kill -9 of the
// API process that dispatches and sends (Postgres and Redis; the retry
// schedule shortened by WEBHOOK_RETRY_SCHEDULE).
func TestWebhooksSurviveKill9(t *testing.T) {
	t.Parallel()
	h := &hookReceiver{ids: map[string]bool{}, hookIDs: map[string]string{}}
	up := time.Now().Add(time.Second)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r, up) }))
	t.Cleanup(recv.Close)
	env := prodEnv(t, testpg.NewDatabase(t, testpg.Fast), testredis.URL(t),
		"WEBHOOK_ALLOWED_HOSTS=127.0.0.1", "WEBHOOK_ALLOW_HTTP=true", "WEBHOOK_RETRY_SCHEDULE=200ms,300ms,500ms,1s,1s,1s,1s,1s,1s,1s", "WEBHOOK_TIMEOUT=2s")
	apiA := startProc(t, env, "serve", "-port", "0")
	worker := startWorker(t, env, "w1", 2*time.Second)
	token := register(t, apiA.base, "hooks@example.com")
	authorize(t, apiA.base, token)
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if s := call(t, "POST", apiA.base+"/v1/webhooks", token, `{"url":"`+recv.URL+`/hook","events":["task.*"]}`, &created); s != http.StatusCreated || created.Secret == "" {
		t.Fatalf("POST /v1/webhooks: %d %+v", s, created)
	}
	h.verifyWith(t, created.Secret)
	const task = `{"name":"hook","adapter":"mock","args":{"steps":3,"interval_ms":20}}`
	var ids []string
	for range 5 {
		ids = append(ids, startTask(t, apiA.base, task))
	}
	testwait.For(t, "a first delivery", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.ids) > 0 || len(h.unverified) > 0 })
	h.checkVerified(t)
	apiA.kill9(t)
	apiB := startProc(t, env, "serve", "-port", "0")
	authorize(t, apiB.base, token)
	for range 5 {
		ids = append(ids, startTask(t, apiB.base, task))
	}
	var want []string
	var waiting string // the first task not ended, and its last event
	if !testwait.Until(testwait.Timeout, func() bool {
		want = want[:0]
		for _, id := range ids {
			events, ended := taskEvents(t, apiB.base, id)
			if !ended {
				waiting = id + " (no event)"
				if len(events) > 0 {
					waiting = fmt.Sprintf("%s, at seq %d: %s", id, events[len(events)-1].Seq, events[len(events)-1].Type)
				}
				return false
			}
			for _, e := range events {
				if e.Type != domain.TaskOutputType {
					want = append(want, e.EventID.String())
				}
			}
		}
		return true
	}) {
		t.Fatalf("after %s, task %s has not ended; the worker's log:\n%s\nthe API's log:\n%s", testwait.Timeout, waiting, worker.logs.String(), apiB.logs.String())
	}
	if !testwait.Until(testwait.Timeout, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, id := range want {
			if !h.ids[id] {
				return false
			}
		}
		return true
	}) {
		h.checkVerified(t)
		h.mu.Lock()
		defer h.mu.Unlock()
		t.Fatalf("%d of %d task events delivered in %s; the API's log:\n%s", len(h.ids), len(want), testwait.Timeout, apiB.logs.String())
	}
	h.checkVerified(t)
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := 1; i < len(h.positions); i++ {
		if h.positions[i] <= h.positions[i-1] {
			t.Fatalf("delivery %d came at position %d after %d: not in feed order", i, h.positions[i], h.positions[i-1])
		}
	}
	if len(h.ids) != len(want) {
		t.Errorf("%d distinct events delivered, want the %d task events (output off)", len(h.ids), len(want))
	}
	// The secret, in either form, is in no process's log (at debug level).
	for _, p := range []*proc{apiA, apiB} {
		if logs := p.logs.String(); strings.Contains(logs, created.Secret) || strings.Contains(logs, strings.TrimPrefix(created.Secret, "whsec_")) {
			t.Error("a process logged the webhook's signing secret")
		}
	}
}
