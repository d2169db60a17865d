package auth

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	enc, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoded hash %q does not start with the default PHC parameters", enc)
	}
	parts := strings.Split(enc, "$")
	if len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("salt/hash lengths %d/%d, want 22/43 (16/32 bytes unpadded)", len(parts[4]), len(parts[5]))
	}
	enc2, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}

	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right", "correct horse battery staple", true},
		{"wrong", "correct horse battery stapl", false},
		{"case", "Correct horse battery staple", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := VerifyPassword(enc, tc.password)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.want || rehash {
				t.Fatalf("VerifyPassword = (%v, %v), want (%v, false)", ok, rehash, tc.want)
			}
		})
	}
}

func TestHashPasswordLengthRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		rule     string
	}{
		{"empty", "", RuleMinLength},
		{"seven", "1234567", RuleMinLength},
		{"too long", strings.Repeat("a", MaxPasswordLength+1), RuleMaxLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := HashPassword(tc.password)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "password" || ie.Rule != tc.rule {
				t.Fatalf("HashPassword error = %v, want InputError{password, %s}", err, tc.rule)
			}
			if strings.Contains(err.Error(), tc.password) && tc.password != "" {
				t.Fatal("error contains the password")
			}
		})
	}
	for _, ok := range []string{"12345678", strings.Repeat("a", MaxPasswordLength)} {
		if err := checkPasswordLength(ok); err != nil {
			t.Errorf("length %d refused: %v", len(ok), err)
		}
	}
	// VerifyPassword refuses an overlong password before hashing.
	_, _, err := VerifyPassword("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		strings.Repeat("a", MaxPasswordLength+1))
	var ie *InputError
	if !errors.As(err, &ie) || ie.Rule != RuleMaxLength {
		t.Fatalf("VerifyPassword(overlong) error = %v, want max_length", err)
	}
}

func TestVerifyPasswordNeedsRehash(t *testing.T) {
	t.Parallel()
	d := DefaultParams()
	tests := []struct {
		name   string
		params Params
		want   bool
	}{
		{"default", d, false},
		{"less memory", Params{Memory: 12 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}, true},
		{"fewer iterations", Params{Memory: d.Memory, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, true},
		{"short salt", Params{Memory: d.Memory, Iterations: 2, Parallelism: 1, SaltLength: 8, KeyLength: 32}, true},
		{"short key", Params{Memory: d.Memory, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 16}, true},
		{"stronger", Params{Memory: 32 * 1024, Iterations: 3, Parallelism: 2, SaltLength: 16, KeyLength: 32}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc, err := hashPassword("hunter2hunter2", tc.params)
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := VerifyPassword(enc, "hunter2hunter2")
			if err != nil || !ok || rehash != tc.want {
				t.Fatalf("VerifyPassword = (%v, %v, %v), want (true, %v, nil)", ok, rehash, err, tc.want)
			}
			ok, rehash, err = VerifyPassword(enc, "wrong password")
			if err != nil || ok || rehash {
				t.Fatalf("wrong password: VerifyPassword = (%v, %v, %v), want (false, false, nil)", ok, rehash, err)
			}
		})
	}
}

// TestVerifyPasswordHostileHash is not parallel: it measures allocations,
// and parallel tests only start after the sequential ones have finished.
func TestVerifyPasswordHostileHash(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	const key = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g" // 32 bytes
	ok := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if _, _, _, err := parsePHC(ok); err != nil {
		t.Fatalf("control string refused: %v", err)
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"huge memory", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key},
		{"memory above bound", "$argon2id$v=19$m=262145,t=2,p=1$" + salt + "$" + key},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key},
		{"huge iterations", "$argon2id$v=19$m=19456,t=4294967295,p=1$" + salt + "$" + key},
		{"huge parallelism", "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key},
		{"zero memory", "$argon2id$v=19$m=0,t=2,p=1$" + salt + "$" + key},
		{"zero iterations", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"zero parallelism", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=19456,t=2,p=1,k=1$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"extra field", ok + "$extra"},
		{"missing field", "$argon2id$v=19$m=19456,t=2,p=1$" + salt},
		{"no leading dollar", ok[1:]},
		{"wrong version", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"bad base64 salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRz!Wx0c2FsdA$" + key},
		{"bad base64 key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2*"},
		{"padded salt", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"url alphabet", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2Fsd_$" + key},
		{"newline in salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzY\nWx0c2FsdA$" + key},
		{"non-canonical salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdB$" + key},
		{"short salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key},
		{"short key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$aGFzaA"},
		{"long key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("QUFB", 30)},
		{"huge string", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 1<<20)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the allocation measure must see only this call.
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			okv, rehash, err := VerifyPassword(tc.encoded, "password1")
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrMalformedHash) || okv || rehash {
				t.Fatalf("VerifyPassword = (%v, %v, %v), want ErrMalformedHash", okv, rehash, err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
				t.Fatalf("rejecting allocated %d bytes, want < 64 KiB", got)
			}
			if strings.Contains(err.Error(), "password1") {
				t.Fatal("error contains the password")
			}
		})
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := VerifyPassword(enc, "correct horse battery staple"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
