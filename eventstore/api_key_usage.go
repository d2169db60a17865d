package eventstore

import ()

// Limits of the API key usage methods of Store.
const (
	// MaxTouchAPIKeys bounds the entries of one TouchAPIKeys call.
	MaxTouchAPIKeys = 10_000
	// MaxAPIKeysLastUsed bounds the ids of one APIKeysLastUsed call.
	MaxAPIKeysLastUsed = 1000
)
