package domain

// Identity event types. Like every event type they are hashed into the
// chain and never renamed.
const (
	TenantCreatedType            EventType = "tenant.created"
	TenantMemberAddedType        EventType = "tenant.member_added"
	TenantMemberRoleChangedType  EventType = "tenant.member_role_changed"
	TenantMemberRemovedType      EventType = "tenant.member_removed"
	TenantPlanChangedType        EventType = "tenant.plan_changed"
	TenantBillingCustomerSetType EventType = "tenant.billing_customer_set"
	TenantPaymentFailedType      EventType = "tenant.payment_failed"
	TenantPaymentRecoveredType   EventType = "tenant.payment_recovered"
	UserRegisteredType           EventType = "user.registered"
	UserPasswordChangedType      EventType = "user.password_changed"
	APIKeyCreatedType            EventType = "api_key.created"
	APIKeyRevokedType            EventType = "api_key.revoked"
	SessionStartedType           EventType = "session.started"
	SessionRefreshedType         EventType = "session.refreshed"
	SessionRevokedType           EventType = "session.revoked"
)

// Identity payloads never hold a secret in the clear: passwords are
// Argon2id hashes, API key secrets and refresh tokens SHA-256 hashes (hex).
// Fields are listed in RFC 8785 order, as in task_events.go.

// TenantCreated is the first event of a tenant stream. Its creator, OwnerID,
// is the tenant's first member, with role owner.
type TenantCreated struct {
	Name    string `json:"name"`
	OwnerID string `json:"owner_id"`
}

// EventType returns TenantCreatedType.
func (TenantCreated) EventType() EventType { return TenantCreatedType }

// TenantMemberAdded makes a user a member of the tenant with a role.
type TenantMemberAdded struct {
	Role   Role   `json:"role"`
	UserID string `json:"user_id"`
}

// EventType returns TenantMemberAddedType.
func (TenantMemberAdded) EventType() EventType { return TenantMemberAddedType }

// TenantMemberRoleChanged gives a member another role.
type TenantMemberRoleChanged struct {
	Role   Role   `json:"role"`
	UserID string `json:"user_id"`
}

// EventType returns TenantMemberRoleChangedType.
func (TenantMemberRoleChanged) EventType() EventType { return TenantMemberRoleChangedType }

// TenantMemberRemoved ends a user's membership.
type TenantMemberRemoved struct {
	UserID string `json:"user_id"`
}

// EventType returns TenantMemberRemovedType.
func (TenantMemberRemoved) EventType() EventType { return TenantMemberRemovedType }

// TenantPlanChanged puts the tenant on another plan. Before the first one a
// tenant is on the deployment's default plan.
type TenantPlanChanged struct {
	Plan PlanName `json:"plan"`
}

// EventType returns TenantPlanChangedType.
func (TenantPlanChanged) EventType() EventType { return TenantPlanChangedType }

// TenantBillingCustomerSet remembers the tenant's customer at the payment
// provider (a Stripe customer id), created once for its first checkout.
type TenantBillingCustomerSet struct {
	CustomerID string `json:"customer_id"`
}

// EventType returns TenantBillingCustomerSetType.
func (TenantBillingCustomerSet) EventType() EventType { return TenantBillingCustomerSetType }

// TenantPaymentFailed records that a payment of the tenant's failed (a
// Stripe invoice): the tenant is past due, and may start tasks until
// GraceEndsAt (FormatTime), after which its starts are refused until a
// payment succeeds or its plan changes.
type TenantPaymentFailed struct {
	GraceEndsAt string `json:"grace_ends_at"`
	InvoiceID   string `json:"invoice_id"`
}

// EventType returns TenantPaymentFailedType.
func (TenantPaymentFailed) EventType() EventType { return TenantPaymentFailedType }

// TenantPaymentRecovered records that a payment of the tenant's succeeded
// while it was past due: its starts are no longer refused.
type TenantPaymentRecovered struct {
	InvoiceID string `json:"invoice_id"`
}

// EventType returns TenantPaymentRecoveredType.
func (TenantPaymentRecovered) EventType() EventType { return TenantPaymentRecoveredType }

// UserRegistered is the first event of a user stream. HomeTenantID is the
// tenant the user created when registering; the user stream belongs to it.
type UserRegistered struct {
	Email        string `json:"email"`
	HomeTenantID string `json:"home_tenant_id"`
	PasswordHash string `json:"password_hash"`
}

// EventType returns UserRegisteredType.
func (UserRegistered) EventType() EventType { return UserRegisteredType }

// UserPasswordChanged replaces a user's password hash (a new password, or
// the same one hashed with stronger parameters).
type UserPasswordChanged struct {
	PasswordHash string `json:"password_hash"`
}

// EventType returns UserPasswordChangedType.
func (UserPasswordChanged) EventType() EventType { return UserPasswordChangedType }

// APIKeyCreated is the first event of an API key stream. Prefix finds the
// key (the stream id derives from it); SecretHash checks it.
type APIKeyCreated struct {
	CreatedBy  string   `json:"created_by"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	SecretHash string   `json:"secret_hash"`
}

// EventType returns APIKeyCreatedType.
func (APIKeyCreated) EventType() EventType { return APIKeyCreatedType }

// APIKeyRevoked ends an API key; nothing follows it.
type APIKeyRevoked struct {
	Reason    string `json:"reason,omitempty"`
	RevokedBy string `json:"revoked_by"`
}

// EventType returns APIKeyRevokedType.
func (APIKeyRevoked) EventType() EventType { return APIKeyRevokedType }

// SessionStarted is the first event of a session stream: one login, whose
// refresh tokens form one family. The stream belongs to the tenant the
// session acts in.
type SessionStarted struct {
	ExpiresAt string `json:"expires_at"`
	TokenHash string `json:"token_hash"`
	UserID    string `json:"user_id"`
}

// EventType returns SessionStartedType.
func (SessionStarted) EventType() EventType { return SessionStartedType }

// SessionRefreshed marks the session's current refresh token used and makes
// TokenHash the current one.
type SessionRefreshed struct {
	TokenHash string `json:"token_hash"`
}

// EventType returns SessionRefreshedType.
func (SessionRefreshed) EventType() EventType { return SessionRefreshedType }

// SessionRevoked ends a session (logout, or a used refresh token presented
// again); nothing follows it.
type SessionRevoked struct {
	Reason string `json:"reason"`
}

// EventType returns SessionRevokedType.
func (SessionRevoked) EventType() EventType { return SessionRevokedType }
