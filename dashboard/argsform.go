package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/axontask/axontask/domain"
)

// The kinds of argument inputs.
const (
	kindNumber = "number" // an integer: <input type=number>
	kindText   = "text"   // a string
	kindLines  = "lines"  // an array of strings, one a line
	kindBool   = "bool"   // a checkbox
	kindJSON   = "json"   // anything else, as JSON text
)

// argField is one input of the start form: an argument of the adapter.
type argField struct {
	// Name is the argument's JSON name; the input is named "args.<Name>".
	Name string
	// Kind is how it is entered (kindNumber, …).
	Kind string
	// Value is the input's value: the adapter's default, or what was sent.
	Value string
	// Required says that the adapter needs it.
	Required bool
}

// Input returns the field's form input name.
func (f argField) Input() string { return "args." + f.Name }

// argFields returns the inputs of adapter a's arguments, from the JSON
// Schema of the type domain.ParseArgs decodes them into, with its defaults
// (what ParseArgs makes of no arguments) as values.
func argFields(a domain.Adapter) ([]argField, error) {
	defaults, _ := domain.ParseArgs(a, nil) // the error: the arguments the adapter requires
	if defaults == nil {
		return nil, fmt.Errorf("adapter %q is unknown", a)
	}
	schema, err := jsonschema.ForType(reflect.TypeOf(defaults), &jsonschema.ForOptions{IgnoreInvalidTypes: true})
	if err != nil {
		return nil, fmt.Errorf("the schema of %s's arguments: %w", a, err)
	}
	b, _ := json.Marshal(defaults)
	var values map[string]json.RawMessage
	_ = json.Unmarshal(b, &values)
	order := schema.PropertyOrder
	if len(order) == 0 {
		for name := range schema.Properties {
			order = append(order, name)
		}
		slices.Sort(order)
	}
	var fields []argField
	for _, name := range order {
		p := schema.Properties[name]
		if p == nil {
			continue
		}
		f := argField{Name: name, Kind: kindOf(p), Required: slices.Contains(schema.Required, name) && a != domain.AdapterMock}
		f.Value = valueText(f.Kind, values[name])
		fields = append(fields, f)
	}
	return fields, nil
}

// kindOf returns how a property of schema p is entered.
func kindOf(p *jsonschema.Schema) string {
	types := p.Types
	if p.Type != "" {
		types = []string{p.Type}
	}
	types = slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "null" })
	if len(types) != 1 {
		return kindJSON
	}
	switch types[0] {
	case "integer", "number":
		return kindNumber
	case "string":
		return kindText
	case "boolean":
		return kindBool
	case "array":
		if p.Items != nil && kindOf(p.Items) == kindText {
			return kindLines
		}
	}
	return kindJSON
}

// valueText renders a default value v for an input of kind.
func valueText(kind string, v json.RawMessage) string {
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return ""
	}
	switch kind {
	case kindText:
		var s string
		_ = json.Unmarshal(v, &s)
		return s
	case kindLines:
		var lines []string
		_ = json.Unmarshal(v, &lines)
		return strings.Join(lines, "\n")
	case kindBool:
		return strings.TrimSpace(string(v))
	default:
		if bytes.Equal(v, []byte("{}")) || bytes.Equal(v, []byte("[]")) || bytes.Equal(v, []byte(`""`)) {
			return ""
		}
		return string(v)
	}
}

// argsOf builds the args JSON object from the posted fields (form reads
// "args.<name>"), leaving out the empty ones so that the adapter's
// defaults apply; it also sets each field's Value to what was sent. A
// value that is not of its kind is an error naming the argument.
func argsOf(fields []argField, form func(string) string) (json.RawMessage, error) {
	args := map[string]any{}
	var firstErr error
	for i := range fields {
		f := &fields[i]
		f.Value = form(f.Input())
		v := strings.TrimSpace(f.Value)
		if v == "" {
			continue
		}
		switch f.Kind {
		case kindNumber:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("args.%s: %q is not a whole number; enter digits only", f.Name, v)
			}
			args[f.Name] = n
		case kindText:
			args[f.Name] = f.Value
		case kindBool:
			args[f.Name] = v == "on" || v == "true"
		case kindLines:
			args[f.Name] = strings.Split(strings.ReplaceAll(strings.TrimRight(f.Value, "\r\n"), "\r\n", "\n"), "\n")
		default:
			if !json.Valid([]byte(v)) && firstErr == nil {
				firstErr = fmt.Errorf("args.%s: is not valid JSON; write a JSON value such as {\"K\": \"V\"}", f.Name)
			}
			args[f.Name] = json.RawMessage(v)
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return json.Marshal(args)
}
