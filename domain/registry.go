package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// registry maps every known event type to a constructor of its payload.
var registry = map[EventType]func() any{
	TaskCreatedType:         func() any { return new(TaskCreated) },
	TaskQueuedType:          func() any { return new(TaskQueued) },
	TaskStartedType:         func() any { return new(TaskStarted) },
	TaskOutputType:          func() any { return new(TaskOutput) },
	TaskProgressType:        func() any { return new(TaskProgress) },
	TaskCancelRequestedType: func() any { return new(TaskCancelRequested) },
	TaskLeaseLostType:       func() any { return new(TaskLeaseLost) },
	TaskSucceededType:       func() any { return new(TaskSucceeded) },
	TaskFailedType:          func() any { return new(TaskFailed) },
	TaskCanceledType:        func() any { return new(TaskCanceled) },
	TaskTimedOutType:        func() any { return new(TaskTimedOut) },
	TaskWaitingType:         func() any { return new(TaskWaiting) },

	TenantCreatedType:           func() any { return new(TenantCreated) },
	TenantMemberAddedType:       func() any { return new(TenantMemberAdded) },
	TenantMemberRoleChangedType: func() any { return new(TenantMemberRoleChanged) },
	TenantMemberRemovedType:     func() any { return new(TenantMemberRemoved) },
	TenantPlanChangedType:       func() any { return new(TenantPlanChanged) },
	UserRegisteredType:          func() any { return new(UserRegistered) },
	UserPasswordChangedType:     func() any { return new(UserPasswordChanged) },
	APIKeyCreatedType:           func() any { return new(APIKeyCreated) },
	APIKeyRevokedType:           func() any { return new(APIKeyRevoked) },
	SessionStartedType:          func() any { return new(SessionStarted) },
	SessionRefreshedType:        func() any { return new(SessionRefreshed) },
	SessionRevokedType:          func() any { return new(SessionRevoked) },
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
func Samples() map[EventType]any {
	exit := 2
	return map[EventType]any{
		TaskCreatedType:         &TaskCreated{Adapter: "shell", Args: json.RawMessage(`{"command":["make","test"]}`), Name: "tests", TimeoutS: 600},
		TaskQueuedType:          &TaskQueued{Attempt: 1, Reason: "created"},
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
		UserRegisteredType:          &UserRegistered{Email: "ada@example.com", HomeTenantID: "0190d2a4-6c1e-7b3a-9f00-0000000000aa", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"},
		UserPasswordChangedType:     &UserPasswordChanged{PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"},
		APIKeyCreatedType:           &APIKeyCreated{CreatedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001", Name: "ci", Prefix: "abcdefgh2345", Scopes: []string{"tasks:read", "tasks:write"}, SecretHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		APIKeyRevokedType:           &APIKeyRevoked{Reason: "leaked", RevokedBy: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		SessionStartedType:          &SessionStarted{ExpiresAt: "2026-12-25T00:00:00.000000Z", TokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", UserID: "0190d2a4-6c1e-7b3a-9f00-000000000001"},
		SessionRefreshedType:        &SessionRefreshed{TokenHash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"},
		SessionRevokedType:          &SessionRevoked{Reason: "logout"},
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
func Decode(t EventType, payload []byte) (any, error) {
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
