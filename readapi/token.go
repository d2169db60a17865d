package readapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"

	"github.com/google/uuid"
)

// tokenSigner issues and checks resume tokens: base64url (no padding) of
// HMAC-SHA256(key, "v1" NUL task id NUL tenant id), where key is
// auth.ResumeTokenKey of Config.TokenKey, a key no access token is signed
// with. A token grants read-only access to that one task; it does not
// expire (change the secret to revoke).
type tokenSigner struct {
	key []byte
}

func (s tokenSigner) mac(taskID uuid.UUID, tenantID string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("v1\x00" + taskID.String() + "\x00" + tenantID))
	return m.Sum(nil)
}

// sign returns the resume token of a task.
func (s tokenSigner) sign(taskID uuid.UUID, tenantID string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(taskID, tenantID))
}

// verify reports, in constant time, whether token is the task's token.
func (s tokenSigner) verify(token string, taskID uuid.UUID, tenantID string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.mac(taskID, tenantID))
}
