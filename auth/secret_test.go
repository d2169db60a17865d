package auth

import (
	"strings"
	"testing"
)

func TestCheckSecret(t *testing.T) {
	t.Parallel()
	for _, good := range []string{
		strings.Repeat("s", MinSecretLength),
		"5f0c2b8e9d4a7316c0e2f4a8b6d1e3f75f0c2b8e9d4a7316c0e2f4a8b6d1e3f7", // openssl rand -hex 32
		strings.Repeat("x", maxSecretLength),
	} {
		if err := CheckSecret([]byte(good)); err != nil {
			t.Errorf("CheckSecret of a good %d-byte secret: %v", len(good), err)
		}
	}
	for _, tc := range []struct{ name, secret, says string }{
		{"empty", "", "is 0 bytes, shorter than 32"},
		{"31 bytes", strings.Repeat("q", 31), "is 31 bytes, shorter than 32"},
		{"longer than 1 KiB", strings.Repeat("q", maxSecretLength+1), "longer than 1024 bytes"},
		{"docker-compose.yml's old default", "change-me-to-a-long-random-secret-of-32-bytes", "placeholder"},
		{"the old default in capitals", "CHANGE-ME-TO-A-LONG-RANDOM-SECRET-OF-32-BYTES", "placeholder"},
		{"changeme inside", "my-jwt-secret-changeme-0123456789abcdef", "placeholder"},
		{"change_me", "CHANGE_ME_jwt_secret_for_production_use", "placeholder"},
		{"replace-me", "replace-me-with-32-random-bytes-please!", "placeholder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckSecret([]byte(tc.secret))
			if err == nil {
				t.Fatal("CheckSecret accepted it")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.says) || !strings.Contains(msg, "openssl rand -hex 32") || !strings.HasPrefix(msg, "is ") {
				t.Errorf("CheckSecret says %q; want it to start with \"is \", say %q and how to make a secret", msg, tc.says)
			}
			if len(tc.secret) >= 8 && strings.Contains(err.Error(), tc.secret[:8]) {
				t.Errorf("error %q leaks the secret", err)
			}
		})
	}
	// Every way in takes the rule: a keyring entry, a keyring, a resume
	// token secret.
	placeholder := "change-me-to-a-long-random-secret-of-32-bytes"
	if _, err := ParseKeyring("default:" + placeholder); err == nil || !strings.Contains(err.Error(), "keyring entry 1: its secret is a placeholder") {
		t.Errorf("ParseKeyring of a placeholder: %v", err)
	}
	if _, err := NewKeyring("default", map[string][]byte{"default": []byte(placeholder)}); err == nil || !strings.Contains(err.Error(), `secret of key "default" is a placeholder`) {
		t.Errorf("NewKeyring of a placeholder: %v", err)
	}
	if _, err := ResumeTokenKey([]byte(placeholder)); err == nil || !strings.Contains(err.Error(), "resume token secret is a placeholder") {
		t.Errorf("ResumeTokenKey of a placeholder: %v", err)
	}
}
