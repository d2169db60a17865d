package auth_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/axontask/axontask/auth"

	"github.com/axontask/axontask/domain"
)

func ExampleIssuer() {
	// In production the keyring comes from configuration and the clock is
	// time.Now; the first entry signs, the second only verifies.
	keys, err := auth.ParseKeyring("2026-03:" + strings.Repeat("n", 32) + ",2026-02:" + strings.Repeat("o", 32))
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	iss, err := auth.NewIssuer(auth.IssuerConfig{
		Keys: keys, Issuer: "https://axontask.example", Audience: "axontask-api",
		Expiry:  900 * time.Second, // JWT_EXPIRY_SECONDS=900
		NowFunc: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	token, expiresAt, err := iss.Issue("user-1", "tenant-1", domain.RoleMember)
	if err != nil {
		panic(err)
	}
	fmt.Println("expires:", expiresAt.Format(time.RFC3339))

	claims, err := iss.Verify(token)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.UserID, claims.TenantID, claims.Role, claims.Role.Can(domain.ActionWriteTasks))

	now = now.Add(time.Hour)
	_, err = iss.Verify(token)
	fmt.Println("an hour later:", errors.Is(err, auth.ErrTokenExpired))
	// Output:
	// expires: 2026-03-01T12:15:00Z
	// user-1 tenant-1 member true
	// an hour later: true
}

func ExampleNewAPIKey() {
	plaintext, prefix, hash, err := auth.NewAPIKey()
	if err != nil {
		panic(err)
	}
	// Store prefix and hash; show plaintext to the user once.

	// Later, on a request with "Authorization: Bearer <plaintext>":
	if auth.ClassifyBearer(plaintext) == auth.BearerAPIKey {
		gotPrefix, secret, err := auth.ParseAPIKey(plaintext)
		if err != nil {
			panic(err)
		}
		// Look the stored hash up by gotPrefix, then:
		fmt.Println(gotPrefix == prefix, auth.CheckAPIKey(hash, secret))
	}
	// Output: true true
}
