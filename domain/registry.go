package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Payload is the typed body of an event. Every payload struct of this
// package knows its event type, so that a type and a payload can never
// disagree: decisions return payloads, and the event builder takes the type
// from them.
type Payload interface {
	EventType() EventType
}

// registry maps every known event type to a constructor of its payload,
// keyed by the type the payload itself names.
var registry = newRegistry(
	func() Payload { return new(TaskCreated) },
	func() Payload { return new(TaskQueued) },
	func() Payload { return new(TaskStarted) },
	func() Payload { return new(TaskOutput) },
	func() Payload { return new(TaskProgress) },
	func() Payload { return new(TaskCancelRequested) },
	func() Payload { return new(TaskLeaseLost) },
	func() Payload { return new(TaskSucceeded) },
	func() Payload { return new(TaskFailed) },
	func() Payload { return new(TaskCanceled) },
	func() Payload { return new(TaskTimedOut) },
	func() Payload { return new(TaskWaiting) },
	func() Payload { return new(TaskAttemptFailed) },

	func() Payload { return new(TenantCreated) },
	func() Payload { return new(TenantMemberAdded) },
	func() Payload { return new(TenantMemberRoleChanged) },
	func() Payload { return new(TenantMemberRemoved) },
	func() Payload { return new(TenantPlanChanged) },
	func() Payload { return new(TenantMemberInvited) },
	func() Payload { return new(TenantInvitationAccepted) },
	func() Payload { return new(TenantInvitationDeclined) },
	func() Payload { return new(TenantInvitationRevoked) },
	func() Payload { return new(InboxInvitationReceived) },
	func() Payload { return new(TenantBillingCustomerSet) },
	func() Payload { return new(TenantPaymentFailed) },
	func() Payload { return new(TenantPaymentRecovered) },
	func() Payload { return new(UserRegistered) },
	func() Payload { return new(UserPasswordChanged) },
	func() Payload { return new(APIKeyCreated) },
	func() Payload { return new(APIKeyRevoked) },
	func() Payload { return new(SessionStarted) },
	func() Payload { return new(SessionRefreshed) },
	func() Payload { return new(SessionRevoked) },

	func() Payload { return new(WebhookCreated) },
	func() Payload { return new(WebhookChanged) },
	func() Payload { return new(WebhookSecretRotated) },
	func() Payload { return new(WebhookDisabled) },
	func() Payload { return new(WebhookDeleted) },
	func() Payload { return new(WebhookTestRequested) },

	func() Payload { return new(SecretCreated) },
	func() Payload { return new(SecretRotated) },
	func() Payload { return new(SecretDeleted) },
	func() Payload { return new(UsageRecorded) },
	func() Payload { return new(StripeEventHandled) },
)

func newRegistry(constructors ...func() Payload) map[EventType]func() Payload {
	r := make(map[EventType]func() Payload, len(constructors))
	for _, c := range constructors {
		t := c().EventType()
		if _, dup := r[t]; dup {
			panic("domain: two payload types name event type " + string(t))
		}
		r[t] = c
	}
	return r
}

// MarshalPayload renders a payload struct as JSON without HTML escaping.
// For the payload types of this package the bytes are RFC 8785 canonical
// whenever the values are (integers, strings without U+2028/U+2029), which
// lets the store skip re-canonicalizing them.
func MarshalPayload(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("marshal payload: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Samples returns one example payload of every registered event type, for
// tests that must cover them all.
func Samples() map[EventType]Payload {
	exit := 2
	return map[EventType]Payload{
		TaskCreatedType:         &TaskCreated{Adapter: "shell", Args: json.RawMessage(`{"command":["make","test"]}`), Name: "tests", TimeoutS: 600},
		TaskQueuedType:          &TaskQueued{Attempt: 1, Reason: "created"},
		TaskAttemptFailedType:   &TaskAttemptFailed{Attempt: 1, Error: "exited with status 1", ExitCode: &exit, WorkerID: "worker-1"},
		TaskStartedType:         &TaskStarted{Attempt: 1, WorkerID: "worker-1"},
		TaskOutputType:          &TaskOutput{Data: "ok <pkg> & done\n", Offset: 120, Stream: Stdout},
		TaskProgressType:        &TaskProgress{Message: "building", Percent: 40},
		TaskCancelRequestedType: &TaskCancelRequested{Reason: "user asked"},
		TaskLeaseLostType:       &TaskLeaseLost{Attempt: 1, WorkerID: "worker-1"},
		TaskSucceededType:       &TaskSucceeded{ExitCode: 0, Summary: "all passed"},
		TaskFailedType:          &TaskFailed{Error: "exit status 2", ExitCode: &exit},
		TaskCanceledType:        &TaskCanceled{Reason: "user asked"},
		TaskTimedOutType:        &TaskTimedOut{TimeoutS: 600},
		TaskWaitingType:         &TaskWaiting{Reason: "the trial plan runs 2 tasks at once; 2 are running"},

		TenantCreatedType:           &TenantCreated{Name: "Acme", OwnerID: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		TenantMemberAddedType:       &TenantMemberAdded{Role: RoleMember, UserID: "0190d2a4-6c1e-7b3a-9f00-000000000002"},
		TenantMemberRoleChangedType: &TenantMemberRoleChanged{Role: RoleViewer, UserID: "0190d2a4-6c1e-7b3a-9f00-000000000002"},
		TenantMemberRemovedType:     &TenantMemberRemoved{UserID: "0190d2a4-6c1e-7b3a-9f00-000000000002"},
		TenantPlanChangedType:       &TenantPlanChanged{Plan: PlanPro},
		TenantMemberInvitedType: &TenantMemberInvited{Email: "grace@example.com", ExpiresAt: "2026-12-25T00:00:00.000000Z", InvitationID: "0190d2a4-6c1e-7b3a-9f00-0000000000d1",
			InvitedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", Role: RoleMember},
		TenantInvitationAcceptedType: &TenantInvitationAccepted{InvitationID: "0190d2a4-6c1e-7b3a-9f00-0000000000d1", UserID: "0190d2a4-6c1e-7b3a-9f00-000000000002"},
		TenantInvitationDeclinedType: &TenantInvitationDeclined{InvitationID: "0190d2a4-6c1e-7b3a-9f00-0000000000d1", UserID: "0190d2a4-6c1e-7b3a-9f00-000000000002"},
		TenantInvitationRevokedType:  &TenantInvitationRevoked{InvitationID: "0190d2a4-6c1e-7b3a-9f00-0000000000d1", RevokedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		InboxInvitationReceivedType:  &InboxInvitationReceived{InvitationID: "0190d2a4-6c1e-7b3a-9f00-0000000000d1", TenantID: "0190d2a4-6c1e-7b3a-9f00-0000000000aa"},
		TenantBillingCustomerSetType: &TenantBillingCustomerSet{CustomerID: "cus_NffrFeUfNV2Hib"},
		TenantPaymentFailedType:      &TenantPaymentFailed{InvoiceID: "in_1MtHbELkdIwHu7ixl4OzzPMv", GraceEndsAt: "2026-12-14T00:00:00.000000Z"},
		TenantPaymentRecoveredType:   &TenantPaymentRecovered{InvoiceID: "in_1MtHbELkdIwHu7ixl4OzzPMv"},
		UserRegisteredType:           &UserRegistered{Email: "ada@example.com", HomeTenantID: "0190d2a4-6c1e-7b3a-9f00-0000000000aa", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"},
		UserPasswordChangedType:      &UserPasswordChanged{PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"},
		APIKeyCreatedType:            &APIKeyCreated{CreatedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", Name: "ci", Prefix: "abcdefgh2345", Scopes: []string{"tasks:read", "tasks:write"}, SecretHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		APIKeyRevokedType:            &APIKeyRevoked{Reason: "leaked", RevokedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		SessionStartedType:           &SessionStarted{ExpiresAt: "2026-12-25T00:00:00.000000Z", TokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", UserID: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		SessionRefreshedType:         &SessionRefreshed{TokenHash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"},
		SessionRevokedType:           &SessionRevoked{Reason: "logout"},

		WebhookCreatedType:       &WebhookCreated{CreatedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", Description: "billing sync", Enabled: true, Events: []string{"task.*"}, SecretID: "0190d2a4-6c1e-7b3a-9f00-0000000000c1", URL: "https://hooks.example.com/axontask"},
		WebhookChangedType:       &WebhookChanged{ChangedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", Enabled: false, Events: []string{"task.succeeded", "task.failed"}, URL: "https://hooks.example.com/v2"},
		WebhookSecretRotatedType: &WebhookSecretRotated{PreviousValidUntil: "2026-12-25T00:00:00.000000Z", RotatedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", SecretID: "0190d2a4-6c1e-7b3a-9f00-0000000000c2"},
		WebhookDisabledType:      &WebhookDisabled{Reason: "the receiver answered 410 Gone"},
		WebhookDeletedType:       &WebhookDeleted{DeletedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		WebhookTestRequestedType: &WebhookTestRequested{RequestedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001"},

		SecretCreatedType:      &SecretCreated{CreatedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", Name: "FLY_TOKEN"},
		SecretRotatedType:      &SecretRotated{Name: "FLY_TOKEN", RotatedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		SecretDeletedType:      &SecretDeleted{DeletedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", Name: "FLY_TOKEN"},
		StripeEventHandledType: &StripeEventHandled{StripeEventID: "evt_1NG8Du2eZvKYlo2CUI79vXWy", StripeType: "customer.subscription.updated"},
		UsageRecordedType:      &UsageRecorded{BytesStreamed: 48213, MCPCalls: 3, ProcessID: "0190d2a4-6c1e-7b3a-9f00-0000000000d1", StreamsOpened: 2, Window: 7},
	}
}

// KnownType reports whether t is a registered event type.
func KnownType(t EventType) bool {
	_, ok := registry[t]
	return ok
}

// KnownTypes returns every registered event type, sorted.
func KnownTypes() []EventType {
	out := make([]EventType, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Decode parses an event's payload into its typed struct (a pointer, e.g.
// *TaskStarted). It fails with *UnknownEventTypeError for an unregistered
// type and rejects payloads with unknown fields.
func Decode(t EventType, payload []byte) (Payload, error) {
	newPayload, ok := registry[t]
	if !ok {
		return nil, &UnknownEventTypeError{Type: t}
	}
	v := newPayload()
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("decode %s payload: %w", t, err)
	}
	return v, nil
}
