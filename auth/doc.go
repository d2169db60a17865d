// Package auth holds AxonTask's identity primitives: password hashing, access
// tokens, API keys and refresh tokens.
//
// It is pure: no I/O, no database and no clock reads except through the
// clock an [Issuer] is given. Later code wires these pieces into the HTTP
// handlers (docs/api.md) and into the event-sourced user, tenant and
// key aggregates, which store only what this package calls safe to store.
//
// The pieces:
//
//   - Passwords: [HashPassword] makes an Argon2id hash in the PHC string
//     format; [VerifyPassword] checks a password against it in constant time
//     and says when the stored hash is weaker than [DefaultParams] and should
//     be replaced after a successful login.
//   - Access tokens: an [Issuer] signs short-lived HS256 JWTs with the current
//     key of a [Keyring] and verifies them against every key in it, so the
//     secret can rotate without signing everybody out.
//   - Token keys: no token is signed with a configured secret itself. A
//     [Keyring] derives each access token key from its secret with
//     HKDF-SHA256, and [ResumeTokenKey] derives the resume tokens' key under
//     another label, so that one secret serves both and a token of one kind
//     never verifies as the other. Both refuse, through [CheckSecret], a
//     secret that is short or a placeholder from an example.
//   - API keys: [NewAPIKey] makes a key of the form axt_<prefix>_<secret>,
//     shown once; the store keeps the prefix (to find the key) and
//     [APIKeyHash] of the secret (to check it with [CheckAPIKey]).
//   - Refresh tokens: [NewRefreshToken] makes an axr_ token naming its
//     session; the store keeps only its hash. Rotation and reuse detection
//     belong to the session aggregate (see [NewRefreshToken]).
//   - Authorization lives in package domain: a user's [domain.Role] in a
//     tenant decides which [domain.Action]s they may take; an API key carries
//     [domain.Scopes] instead. Access tokens carry the role.
//   - [ClassifyBearer] tells an API key from a JWT in an Authorization header.
//
// Errors about caller input are [*InputError] values that name the field and
// the broken rule. Token and key checks fail with [ErrInvalidToken],
// [ErrMalformedAPIKey] or [ErrMalformedRefreshToken]; no error of this
// package ever contains a token, a key, a password or a secret.
//
// Every function and type here is safe for concurrent use.
package auth
