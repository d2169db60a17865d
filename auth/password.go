package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password length limits, in bytes. Longer passwords are refused so that a
// request cannot make the server hash megabytes.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 1024
)

// Params are Argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Iterations is the time cost (passes over memory).
	Iterations uint32
	// Parallelism is the number of lanes.
	Parallelism uint8
	// SaltLength is the salt size in bytes.
	SaltLength uint32
	// KeyLength is the derived key size in bytes.
	KeyLength uint32
}

// DefaultParams returns the parameters [HashPassword] uses: OWASP's current
// minimum for Argon2id (19 MiB of memory, 2 iterations, 1 lane) with a
// 16-byte salt and a 32-byte key. Hashes made with anything weaker are
// reported by [VerifyPassword] as needing a rehash.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// Bounds on the parameters of a stored hash. They keep a corrupt or hostile
// row from making VerifyPassword allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB      = 256 * 1024 // 256 MiB
	maxIterations     = 16
	maxParallelism    = 16
	minSaltLength     = 8
	maxSaltLength     = 64
	minKeyLength      = 16
	maxKeyLength      = 64
	maxEncodedHashLen = 256
)

// argonVersion is the only Argon2 version accepted (0x13, written v=19).
const argonVersion = argon2.Version

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64 is the PHC format's base64: standard alphabet, no padding, and
// canonical (unused trailing bits must be zero).
var b64 = base64.RawStdEncoding.Strict()

// HashPassword hashes password with Argon2id and [DefaultParams] under a fresh
// random salt, and returns it in the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. The result is safe to store.
// A password outside [MinPasswordLength]..[MaxPasswordLength] bytes is
// refused with an [*InputError] for field "password". Hashing takes tens of
// milliseconds and 19 MiB of memory, so callers should bound how many run at
// once.
func HashPassword(password string) (string, error) {
	if err := checkPasswordLength(password); err != nil {
		return "", err
	}
	return hashPassword(password, DefaultParams())
}

func hashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argonVersion, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword checks password against encoded, a hash made by
// [HashPassword], comparing in constant time.
//
// ok is true when the password matches. needsRehash is true only together
// with ok, when the stored hash uses weaker memory, iterations, salt or key
// length than [DefaultParams]: the caller should then store a fresh
// [HashPassword] of the same password. A wrong password is (false, false,
// nil), not an error. An error wrapping [ErrMalformedHash] means the stored
// string is corrupt or out of bounds; a password longer than
// [MaxPasswordLength] is refused with an [*InputError] before any hashing.
//
// When no user has the given email, callers should still verify the
// password against a fixed hash made at startup, so that response times do
// not reveal which emails are registered.
func VerifyPassword(encoded, password string) (ok bool, needsRehash bool, err error) {
	if len(password) > MaxPasswordLength {
		return false, false, checkPasswordLength(password)
	}
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, weakerThan(p, DefaultParams()), nil
}

// weakerThan reports whether p is below d in any cost that matters.
// Parallelism is not compared: more lanes over the same memory is not
// weaker, and fewer lanes is not weaker either.
func weakerThan(p, d Params) bool {
	return p.Memory < d.Memory || p.Iterations < d.Iterations ||
		p.SaltLength < d.SaltLength || p.KeyLength < d.KeyLength
}

func checkPasswordLength(password string) error {
	switch {
	case len(password) < MinPasswordLength:
		return &InputError{Field: "password", Rule: RuleMinLength,
			Reason: fmt.Sprintf("must be at least %d bytes long; choose a longer password", MinPasswordLength)}
	case len(password) > MaxPasswordLength:
		return &InputError{Field: "password", Rule: RuleMaxLength,
			Reason: fmt.Sprintf("must be at most %d bytes long; choose a shorter password", MaxPasswordLength)}
	}
	return nil
}

// parsePHC parses an Argon2id PHC string strictly and checks every bound
// before anything is allocated in proportion to the stored values.
func parsePHC(encoded string) (Params, []byte, []byte, error) {
	malformed := func(reason string) error {
		return fmt.Errorf("%w: %s; reset the user's password or restore the row", ErrMalformedHash, reason)
	}
	if len(encoded) > maxEncodedHashLen {
		return Params{}, nil, nil, malformed(fmt.Sprintf("longer than %d bytes", maxEncodedHashLen))
	}
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return Params{}, nil, nil, malformed("want $argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>")
	}
	if parts[1] != "argon2id" {
		return Params{}, nil, nil, malformed("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argonVersion) {
		return Params{}, nil, nil, malformed(fmt.Sprintf("version is not v=%d", argonVersion))
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return Params{}, nil, nil, malformed("want exactly the parameters m, t and p, in that order")
	}
	m, err := phcUint(kv[0], "m", maxMemoryKiB)
	if err != nil {
		return Params{}, nil, nil, malformed(err.Error())
	}
	t, err := phcUint(kv[1], "t", maxIterations)
	if err != nil {
		return Params{}, nil, nil, malformed(err.Error())
	}
	par, err := phcUint(kv[2], "p", maxParallelism)
	if err != nil {
		return Params{}, nil, nil, malformed(err.Error())
	}
	if m < 8*par {
		return Params{}, nil, nil, malformed("m must be at least 8*p")
	}
	salt, err := phcBytes(parts[4], "salt", minSaltLength, maxSaltLength)
	if err != nil {
		return Params{}, nil, nil, malformed(err.Error())
	}
	key, err := phcBytes(parts[5], "hash", minKeyLength, maxKeyLength)
	if err != nil {
		return Params{}, nil, nil, malformed(err.Error())
	}
	p := Params{Memory: m, Iterations: t, Parallelism: uint8(par),
		SaltLength: uint32(len(salt)), KeyLength: uint32(len(key))}
	return p, salt, key, nil
}

// phcUint parses "name=<decimal>" with 1 <= value <= limit and no sign or
// leading zeros.
func phcUint(s, name string, limit uint64) (uint32, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("want parameter %s", name)
	}
	if len(v) == 0 || len(v) > 10 || v[0] == '0' {
		return 0, fmt.Errorf("parameter %s is not a positive decimal number", name)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parameter %s is not a positive decimal number", name)
	}
	if n > limit {
		return 0, fmt.Errorf("parameter %s is above the limit %d", name, limit)
	}
	return uint32(n), nil
}

// phcBytes decodes unpadded standard base64 whose decoded size lies in
// [lo, hi], checking the size before decoding.
func phcBytes(s, name string, lo, hi int) ([]byte, error) {
	n := b64.DecodedLen(len(s))
	if n < lo || n > hi {
		return nil, fmt.Errorf("%s must be %d to %d bytes", name, lo, hi)
	}
	b, err := b64.DecodeString(s)
	if err != nil || !onlyChars(s, b64Alphabet) {
		return nil, fmt.Errorf("%s is not unpadded standard base64", name)
	}
	return b, nil
}
