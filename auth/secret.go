package auth

import (
	"bytes"
	"fmt"
	"slices"
)

// placeholderMarks are what placeholder secrets say: a secret that holds
// one, in any case, was copied from a template and never replaced, and
// anybody can read the template. The first refuses the default JWT_SECRET
// that docker-compose.yml once had,
// "change-me-to-a-long-random-secret-of-32-bytes".
var placeholderMarks = [][]byte{
	[]byte("change-me"), []byte("changeme"), []byte("change_me"),
	[]byte("replace-me"), []byte("replaceme"), []byte("replace_me"),
}

// CheckSecret reports why secret cannot be a secret that token keys are
// derived from (JWT_SECRET, an entry of JWT_KEYS): shorter than
// [MinSecretLength] bytes, longer than 1 KiB, or a placeholder (see
// [placeholderMarks]). It cannot tell a weak secret from a strong one: use
// random bytes. The error reads "is …", to follow the secret's name, says
// how to make one, and never contains the secret.
func CheckSecret(secret []byte) error {
	const howTo = `make one with "openssl rand -hex 32"`
	lower := bytes.ToLower(secret)
	switch {
	case len(secret) < MinSecretLength:
		return fmt.Errorf("is %d bytes, shorter than %d; %s", len(secret), MinSecretLength, howTo)
	case len(secret) > maxSecretLength:
		return fmt.Errorf("is longer than %d bytes; %s", maxSecretLength, howTo)
	case slices.ContainsFunc(placeholderMarks, func(m []byte) bool { return bytes.Contains(lower, m) }):
		return fmt.Errorf("is a placeholder from an example, which anybody can read; %s", howTo)
	}
	return nil
}
