package engine

import (
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateSecretName checks a tenant and a secret name as both engines
// store them.
func ValidateSecretName(tenantID, name string) error {
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return err
	}
	if !domain.ValidSecretName(name) {
		return &domain.ValidationError{Field: "name", Reason: fmt.Sprintf("%q is no secret name: letters, digits and _, not starting with a digit, at most %d bytes", name, domain.MaxSecretNameLen)}
	}
	return nil
}

// ValidateSealedSecret checks a sealed secret before it is stored; values
// (ValueSealed) are checked when withValue.
func ValidateSealedSecret(s eventstore.SealedSecret, withValue bool) error {
	if err := ValidateSecretName(s.TenantID, s.Name); err != nil {
		return err
	}
	if err := ValidateSecretKeyID(s.KeyID); err != nil {
		return err
	}
	if n := len(s.KeySealed); n == 0 || n > eventstore.MaxSealedKeyLen {
		return &domain.ValidationError{Field: "key_sealed", Reason: fmt.Sprintf("is %d bytes; it must be 1 to %d", n, eventstore.MaxSealedKeyLen)}
	}
	if n := len(s.ValueSealed); withValue && (n == 0 || n > eventstore.MaxSealedSecretLen) {
		return &domain.ValidationError{Field: "value_sealed", Reason: fmt.Sprintf("is %d bytes; it must be 1 to %d", n, eventstore.MaxSealedSecretLen)}
	}
	return nil
}

// ValidateSecretKeyID checks an operator key's id.
func ValidateSecretKeyID(id string) error {
	if id == "" || len(id) > eventstore.MaxSecretKeyIDLen {
		return &domain.ValidationError{Field: "key_id", Reason: fmt.Sprintf("is %d bytes; it must be 1 to %d", len(id), eventstore.MaxSecretKeyIDLen)}
	}
	return nil
}

// ValidateSecretNames checks the names of one TenantSecretUse.
func ValidateSecretNames(tenantID string, names []string) error {
	if len(names) > eventstore.MaxSecretsUsed {
		return &domain.ValidationError{Field: "names", Reason: fmt.Sprintf("lists %d names, more than %d", len(names), eventstore.MaxSecretsUsed)}
	}
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return err
	}
	for _, n := range names {
		if err := ValidateSecretName(tenantID, n); err != nil {
			return err
		}
	}
	return nil
}
