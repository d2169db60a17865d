package readapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/axontask/axontask/domain"
)

// checkStrictJSON refuses what encoding/json lets through silently in a
// request body: a member name twice in one object (the last would win) and
// invalid UTF-8 (it would become U+FFFD), naming the field at fault by its
// path ("args.env.HOME", "args.command[1]"; "body" at the top). Syntax
// errors are left to the decoder, whose messages say more.
func checkStrictJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := checkValue(dec, body, ""); !errors.Is(err, errNotJSON) {
		return err
	}
	return nil
}

// errNotJSON stops checkValue at a syntax error.
var errNotJSON = errors.New("not JSON")

// checkValue checks the value dec reads next, at path.
func checkValue(dec *json.Decoder, body []byte, path string) error {
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return errNotJSON
	}
	switch t := tok.(type) {
	case string:
		if !utf8.Valid(body[start:dec.InputOffset()]) {
			return &domain.ValidationError{Field: fieldOr(path), Reason: "is not valid UTF-8"}
		}
	case json.Delim:
		switch t {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				start := dec.InputOffset()
				tok, err := dec.Token()
				if err != nil {
					return errNotJSON
				}
				name, _ := tok.(string)
				field := name
				if path != "" {
					field = path + "." + name
				}
				if !utf8.Valid(body[start:dec.InputOffset()]) {
					return &domain.ValidationError{Field: fieldOr(path), Reason: "has a member name that is not valid UTF-8"}
				}
				if seen[name] {
					return &domain.ValidationError{Field: field, Reason: "appears twice; send each member once"}
				}
				seen[name] = true
				if err := checkValue(dec, body, field); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if err := checkValue(dec, body, fieldOr(path)+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return errNotJSON
		}
	}
	return nil
}

// fieldOr returns path, or "body" for the top level.
func fieldOr(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
