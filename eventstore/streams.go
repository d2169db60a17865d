package eventstore

// Limits of Store.ListStreams.
const (
	// DefaultListStreamsLimit is the page size of a ListStreams limit <= 0.
	DefaultListStreamsLimit = 100
	// MaxListStreamsLimit is the largest page ListStreams returns; a larger
	// limit is an error, not clamped.
	MaxListStreamsLimit = 1000
)
