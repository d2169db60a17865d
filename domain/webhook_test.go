package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
)

func TestEventFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		patterns []string
		match    []domain.EventType
		miss     []domain.EventType
	}{
		{nil, []domain.EventType{domain.TaskSucceededType, domain.WebhookDisabledType, domain.APIKeyCreatedType, domain.UsageRecordedType},
			[]domain.EventType{domain.TaskOutputType, domain.UserRegisteredType, domain.SessionStartedType}},
		{[]string{"task.*"}, []domain.EventType{domain.TaskCreatedType, domain.TaskFailedType},
			[]domain.EventType{domain.TaskOutputType, domain.TenantCreatedType}},
		{[]string{"usage.*"}, []domain.EventType{domain.UsageRecordedType},
			[]domain.EventType{domain.TaskCreatedType, domain.TenantCreatedType}},
		{[]string{"usage.recorded"}, []domain.EventType{domain.UsageRecordedType}, []domain.EventType{domain.TaskSucceededType}},
		{[]string{"task.output", "task.succeeded"}, []domain.EventType{domain.TaskOutputType, domain.TaskSucceededType},
			[]domain.EventType{domain.TaskFailedType}},
	}
	for _, tc := range tests {
		f, err := domain.ParseEventFilter(tc.patterns)
		if err != nil {
			t.Fatalf("ParseEventFilter(%q): %v", tc.patterns, err)
		}
		for _, typ := range tc.match {
			if !f.Match(typ) {
				t.Errorf("filter %q does not match %s", f, typ)
			}
		}
		for _, typ := range tc.miss {
			if f.Match(typ) {
				t.Errorf("filter %q matches %s", f, typ)
			}
		}
	}
	for _, bad := range [][]string{{"user.*"}, {"session.started"}, {"task.nope"}, {"usage.nope"}, {"task"}, {"**"}} {
		var ve *domain.ValidationError
		if _, err := domain.ParseEventFilter(bad); !errors.As(err, &ve) || ve.Field != "events" {
			t.Errorf("ParseEventFilter(%q) = %v, want a validation error of events", bad, err)
		}
	}
}

func TestParseWebhookURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://hooks.example.com/x", "https://10.0.0.1:8443/"} {
		if _, err := domain.ParseWebhookURL(ok, false); err != nil {
			t.Errorf("ParseWebhookURL(%q): %v", ok, err)
		}
	}
	if _, err := domain.ParseWebhookURL("http://hooks.example.com/x", true); err != nil {
		t.Errorf("http allowed: %v", err)
	}
	for _, bad := range []string{"http://hooks.example.com/x", "ftp://h/x", "https:///x", "https://u:p@h/x", "https://h/x#f", "/relative", "https://h/\x01"} {
		if _, err := domain.ParseWebhookURL(bad, false); err == nil {
			t.Errorf("ParseWebhookURL(%q) accepted it", bad)
		}
	}
}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	settings := domain.WebhookSettings{URL: "https://hooks.example.com/a", Events: domain.EventFilter{"task.*"}, Enabled: true}
	created, err := domain.NewWebhookCreated(settings, "s1", "ada", false)
	if err != nil {
		t.Fatal(err)
	}
	var w domain.Webhook
	givenPayloads(t, &w, created)
	if !w.Wants(domain.TaskSucceededType) || w.Wants(domain.TenantCreatedType) || w.SecretID() != "s1" {
		t.Fatalf("new endpoint: wants task.succeeded %v, tenant.created %v, secret %s", w.Wants(domain.TaskSucceededType), w.Wants(domain.TenantCreatedType), w.SecretID())
	}
	if same, err := w.DecideChange(settings, "ada", false); same != nil || err != nil {
		t.Fatalf("changing to the same settings = (%v, %v), want nothing", same, err)
	}
	now := t0.Add(time.Hour)
	rotated, err := w.DecideRotateSecret("s2", now, 24*time.Hour, "ada")
	if err != nil {
		t.Fatal(err)
	}
	disabled := w.DecideDisable("the receiver answered 410 Gone")
	givenMore(t, &w, append(rotated, disabled...)...)
	if got := w.SigningSecretIDs(now.Add(time.Minute)); !slices.Equal(got, []string{"s2", "s1"}) {
		t.Errorf("signing secrets during the overlap = %v, want [s2 s1]", got)
	}
	if got := w.SigningSecretIDs(now.Add(25 * time.Hour)); !slices.Equal(got, []string{"s2"}) {
		t.Errorf("signing secrets after the overlap = %v, want [s2]", got)
	}
	if w.Wants(domain.TaskSucceededType) || w.DisabledReason() == "" || w.DecideDisable("again") != nil {
		t.Errorf("a disabled endpoint wants deliveries, has no reason or is disabled again")
	}
	if !w.EnabledAt().Equal(t0.Add(time.Second)) {
		t.Errorf("enabled at %v, want its creation (seq 1)", w.EnabledAt())
	}
	// Changed while disabled, it stays so; enabled again, its enabling
	// time moves; changed while enabled, it does not.
	renamed := settings
	renamed.Enabled, renamed.Description = false, "renamed"
	change, err := w.DecideChange(renamed, "ada", false)
	if err != nil {
		t.Fatal(err)
	}
	givenMore(t, &w, change...)
	renamed.Enabled = true
	enable, err := w.DecideChange(renamed, "ada", false)
	if err != nil {
		t.Fatal(err)
	}
	givenMore(t, &w, enable...)
	enabledAt := t0.Add(time.Duration(w.Seq()) * time.Second)
	renamed.Description = "renamed again"
	change, err = w.DecideChange(renamed, "ada", false)
	if err != nil {
		t.Fatal(err)
	}
	givenMore(t, &w, change...)
	if !w.EnabledAt().Equal(enabledAt) {
		t.Errorf("enabled at %v, want when it was enabled again (%v)", w.EnabledAt(), enabledAt)
	}
	givenMore(t, &w, w.DecideDelete("ada")...)
	if w.Exists() || w.DecideDelete("ada") != nil {
		t.Errorf("a deleted endpoint exists or is deleted again")
	}
	if _, err := w.DecideChange(settings, "ada", false); !errors.Is(err, domain.ErrWebhookDeleted) {
		t.Errorf("changing a deleted endpoint: %v, want ErrWebhookDeleted", err)
	}
}

// givenMore applies payloads after the events agg has seen.
func givenMore(t *testing.T, w *domain.Webhook, payloads ...domain.Payload) {
	t.Helper()
	for _, p := range payloads {
		if err := w.Apply(payloadEvent(t, w.Seq()+1, p)); err != nil {
			t.Fatalf("apply %T: %v", p, err)
		}
	}
}
