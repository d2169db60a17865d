// Package textcut shortens text for messages: errors, summaries, tool
// answers.
package textcut

import "unicode/utf8"

// Clip returns s cut to at most n bytes, on a rune boundary, with "…"
// marking the cut; s itself when it fits.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
