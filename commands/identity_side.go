package commands

import "github.com/axontask/axontask/auth"

// IdentitySide is a process's identity side, as NewIdentitySide wires it:
// the Authenticator (embedded, so that an *IdentitySide authenticates), the
// identity handlers, decorated, and the KeyUsage both share. It is safe for
// concurrent use.
type IdentitySide struct {
	*Authenticator
	IdentityHandlers
	// Usage writes API keys' last use: Run it beside the server, or Flush it.
	Usage *KeyUsage
	// Issuer signs and checks the access tokens (the OAuth server's too).
	Issuer *auth.Issuer
}

// NewIdentitySide wires the identity side of a process: NewIdentityDeps
// with cfg, a KeyUsage that writes to usage and logs to cfg.Logger, the
// Authenticator that records into it, and the identity handlers decorated
// with cfg.Logger and metrics (either may be nil; see Decorate). It fails
// when cfg, with its defaults, cannot work.
func NewIdentitySide(cfg IdentityConfig, usage KeyUsageStore, metrics MetricsClient) (*IdentitySide, error) {
	deps, err := NewIdentityDeps(cfg)
	if err != nil {
		return nil, err
	}
	keyUsage, err := NewKeyUsage(usage, KeyUsageConfig{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	return &IdentitySide{
		Authenticator:    NewAuthenticator(deps, keyUsage),
		IdentityHandlers: NewIdentityHandlers(deps, keyUsage).Decorated(cfg.Logger, metrics),
		Usage:            keyUsage,
		Issuer:           cfg.Issuer,
	}, nil
}
