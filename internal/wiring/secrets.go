package wiring

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/secrets"
)

// The environment variables of the operator keys that seal tenant secrets.
const (
	// EnvSecretsKey is the current key: it seals, and opens what it sealed.
	EnvSecretsKey = "SECRETS_KEY"
	// EnvSecretsKeyPrevious lists earlier keys, comma-separated: they only
	// open what they sealed, until `axontask secret rotate-key` has
	// re-sealed it under the current one.
	EnvSecretsKeyPrevious = "SECRETS_KEY_PREVIOUS"
)

// Keyring returns the keyring that getenv's SECRETS_KEY and
// SECRETS_KEY_PREVIOUS make; nil (secrets not enabled) when SECRETS_KEY is
// unset. Errors name the variable, never its value.
func Keyring(getenv func(string) string) (*secrets.Keyring, error) {
	cur, prev := getenv(EnvSecretsKey), getenv(EnvSecretsKeyPrevious)
	if cur == "" {
		if prev != "" {
			return nil, errors.New(EnvSecretsKeyPrevious + " is set but " + EnvSecretsKey + " is not: set the current key too")
		}
		return nil, nil
	}
	key, err := secrets.ParseKey(cur)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvSecretsKey, err)
	}
	var previous []secrets.Key
	for i, p := range strings.Split(prev, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, err := secrets.ParseKey(p)
		if err != nil {
			return nil, fmt.Errorf("%s, key %d: %w", EnvSecretsKeyPrevious, i+1, err)
		}
		previous = append(previous, k)
	}
	return secrets.NewKeyring(key, previous...), nil
}

// Secrets returns the tenant secret handlers on store and vault, decorated
// with logger and metrics.
func Secrets(store commands.IdentityStore, vault *secrets.Vault, logger *slog.Logger, metrics commands.MetricsClient) (commands.SecretHandlers, error) {
	h, err := commands.NewSecretHandlers(commands.SecretConfig{Store: store, Vault: vault})
	if err != nil {
		return commands.SecretHandlers{}, err
	}
	return h.Decorated(logger, metrics), nil
}
