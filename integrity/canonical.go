package integrity

import (
	"strconv"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// IsCanonical reports whether b is already in RFC 8785 canonical form, so
// that CanonicalPayload(b) would return b unchanged. It reads b once without
// allocating (except for numbers that are not small integers) and is many
// times faster than CanonicalPayload; readers of exports use it to skip
// re-canonicalizing payloads that AxonTask wrote.
//
// It answers false, never wrongly true, for anything it does not fully
// recognize (an escaped member name, say); callers then fall back to
// CanonicalPayload. Even a wrong true could not make tampered data verify:
// the digest binds the exact bytes, so it would only fail a valid event.
func IsCanonical(b []byte) bool {
	c := canonChecker{data: b}
	return c.value(0) && c.pos == len(b)
}

// canonChecker walks a JSON text, accepting only the canonical form.
type canonChecker struct {
	data []byte
	pos  int
}

// maxCanonicalDepth matches the nesting limit of the canonicalizer.
const maxCanonicalDepth = 10000

func (c *canonChecker) next() byte {
	if c.pos < len(c.data) {
		return c.data[c.pos]
	}
	return 0
}

func (c *canonChecker) literal(s string) bool {
	if len(c.data)-c.pos >= len(s) && string(c.data[c.pos:c.pos+len(s)]) == s {
		c.pos += len(s)
		return true
	}
	return false
}

func (c *canonChecker) value(depth int) bool {
	switch c.next() {
	case '{':
		return depth < maxCanonicalDepth && c.object(depth)
	case '[':
		if depth >= maxCanonicalDepth {
			return false
		}
		c.pos++
		if c.next() == ']' {
			c.pos++
			return true
		}
		for {
			if !c.value(depth + 1) {
				return false
			}
			switch c.next() {
			case ',':
				c.pos++
			case ']':
				c.pos++
				return true
			default:
				return false
			}
		}
	case '"':
		_, ok := c.string()
		return ok
	case 't':
		return c.literal("true")
	case 'f':
		return c.literal("false")
	case 'n':
		return c.literal("null")
	default:
		return c.number()
	}
}

// object checks an object whose member names are unescaped and strictly
// ascending in UTF-16 code unit order (which also rules out duplicates).
func (c *canonChecker) object(depth int) bool {
	c.pos++
	if c.next() == '}' {
		c.pos++
		return true
	}
	var prev []byte
	for i := 0; ; i++ {
		if c.next() != '"' {
			return false
		}
		name, ok := c.string()
		if !ok || name == nil || (i > 0 && compareUTF16(prev, name) >= 0) {
			return false
		}
		prev = name
		if c.next() != ':' {
			return false
		}
		c.pos++
		if !c.value(depth + 1) {
			return false
		}
		switch c.next() {
		case ',':
			c.pos++
		case '}':
			c.pos++
			return true
		default:
			return false
		}
	}
}

// string checks a canonical string and returns its contents when they hold
// no escape (nil, true when they do; "" is returned as an empty non-nil slice).
func (c *canonChecker) string() ([]byte, bool) {
	c.pos++
	start := c.pos
	escaped := false
	for c.pos < len(c.data) {
		b := c.data[c.pos]
		switch {
		case b == '"':
			c.pos++
			if escaped {
				return nil, true
			}
			return c.data[start : c.pos-1 : c.pos-1], true
		case b == '\\':
			escaped = true
			if !c.escape() {
				return nil, false
			}
		case b < 0x20:
			return nil, false
		case b < utf8.RuneSelf:
			c.pos++
		default:
			r, size := utf8.DecodeRune(c.data[c.pos:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			c.pos += size
		}
	}
	return nil, false
}

// escape checks one escape sequence: canonical JSON escapes the quote, the
// backslash and the control characters, those with a short form by it and the
// others as \u00xx in lowercase hex.
func (c *canonChecker) escape() bool {
	e := c.data[c.pos:]
	if len(e) < 2 {
		return false
	}
	switch e[1] {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		c.pos += 2
		return true
	case 'u':
		if len(e) < 6 || e[2] != '0' || e[3] != '0' || (e[4] != '0' && e[4] != '1') {
			return false
		}
		low := hexDigit(e[5])
		if low < 0 {
			return false
		}
		switch v := int(e[4]-'0')<<4 | low; v {
		case '\b', '\t', '\n', '\f', '\r':
			return false
		}
		c.pos += 6
		return true
	}
	return false
}

// hexDigit returns the value of a lowercase hex digit, or -1.
func hexDigit(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	}
	return -1
}

// number checks a number in the form of ECMAScript's Number.prototype.toString,
// as RFC 8785 requires. Integers of up to 15 digits are exact doubles and are
// checked by their syntax alone; any other number must survive a round trip
// through the canonicalizer's own formatting unchanged.
func (c *canonChecker) number() bool {
	start := c.pos
	if c.next() == '-' {
		c.pos++
	}
	digits := c.pos
	for c.pos < len(c.data) && '0' <= c.data[c.pos] && c.data[c.pos] <= '9' {
		c.pos++
	}
	n := c.pos - digits
	if n == 0 {
		return false
	}
	simple := true
	for c.pos < len(c.data) {
		switch b := c.data[c.pos]; {
		case '0' <= b && b <= '9', b == '.', b == 'e', b == 'E', b == '+', b == '-':
			simple = false
			c.pos++
			continue
		}
		break
	}
	text := c.data[start:c.pos]
	if simple && n <= 15 {
		if c.data[digits] == '0' { // only "0": no leading zeros, no "-0"
			return n == 1 && digits == start
		}
		return true
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return false
	}
	out, err := jcs.NumberToJSON(f)
	return err == nil && out == string(text)
}

// compareUTF16 compares two UTF-8 strings by their UTF-16 code units, the
// member order of RFC 8785. It differs from byte order only where a character
// above U+FFFF (a surrogate pair, D800–DBFF first) meets one in E000–FFFF.
func compareUTF16(a, b []byte) int {
	for len(a) > 0 && len(b) > 0 {
		ra, na := utf8.DecodeRune(a)
		rb, nb := utf8.DecodeRune(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return int(ua) - int(ub)
			}
			return int(ra) - int(rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// firstUnit returns the first UTF-16 code unit of r.
func firstUnit(r rune) rune {
	if r >= 0x10000 {
		return 0xd800 + (r-0x10000)>>10
	}
	return r
}
