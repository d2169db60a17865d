// Package utf8cut finds where a chunk of output can be cut without
// splitting a UTF-8 sequence that the next read may complete, so that
// executors forward output in chunks that a JSON event can hold as is.
package utf8cut

import "unicode/utf8"

// Complete returns the length of b without a trailing UTF-8 sequence that
// more bytes could still complete. Invalid bytes, which nothing can
// complete, are kept.
func Complete(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}
