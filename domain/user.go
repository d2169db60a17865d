package domain

import "time"

// User is the user aggregate. The zero value is a user whose stream is empty.
type User struct {
	seq          int64
	email        string
	homeTenantID string
	passwordHash string
	createdAt    time.Time
}

// Seq returns the seq of the last applied event (0 for an empty stream).
func (u *User) Seq() int64 { return u.seq }

// Exists reports whether the user has registered.
func (u *User) Exists() bool { return u.seq > 0 }

// Email returns the user's normalized email address.
func (u *User) Email() string { return u.email }

// HomeTenantID returns the tenant the user created when registering.
func (u *User) HomeTenantID() string { return u.homeTenantID }

// PasswordHash returns the user's Argon2id password hash (PHC string).
func (u *User) PasswordHash() string { return u.passwordHash }

// CreatedAt returns when the user registered.
func (u *User) CreatedAt() time.Time { return u.createdAt }

// Apply evolves the user by one stored event.
func (u *User) Apply(e Event) error {
	allowed := []EventType{UserRegisteredType}
	if u.seq > 0 {
		allowed = []EventType{UserPasswordChangedType}
	}
	p, err := applyNext("user", u.seq, e, allowed...)
	if err != nil {
		return err
	}
	switch p := p.(type) {
	case *UserRegistered:
		u.email = p.Email
		u.homeTenantID = p.HomeTenantID
		u.passwordHash = p.PasswordHash
		u.createdAt = e.OccurredAt
	case *UserPasswordChanged:
		u.passwordHash = p.PasswordHash
	}
	u.seq = e.Seq
	return nil
}
