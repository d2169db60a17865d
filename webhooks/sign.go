package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret as shown to a tenant: the
// Standard Webhooks form "whsec_" + base64 of the key's bytes.
const SecretPrefix = "whsec_"

// SecretSize is the length in bytes of the signing keys NewSecret makes
// (the specification asks for 24 to 64).
const SecretSize = 32

// NewSecret returns a new random signing key.
func NewSecret() ([]byte, error) {
	key := make([]byte, SecretSize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("new webhook secret: %w", err)
	}
	return key, nil
}

// FormatSecret renders key as a tenant sees it: "whsec_" + base64.
func FormatSecret(key []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret returns the key of a secret FormatSecret rendered.
func ParseSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil || !strings.HasPrefix(s, SecretPrefix) || len(key) == 0 {
		return nil, errors.New(`a webhook secret is "whsec_" followed by base64`)
	}
	return key, nil
}

// Sign returns the webhook-signature header of a delivery: one "v1," +
// base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)) per key,
// separated by spaces, the current key first. Receivers accept a delivery
// when any of them verifies, so during a rotation a receiver holding
// either secret accepts it.
func Sign(id string, timestamp time.Time, body []byte, keys ...[]byte) string {
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	sigs := make([]string, len(keys))
	for i, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return strings.Join(sigs, " ")
}
