package readapi_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/readapi"
)

// Every wire type of package api spells its fields as the OpenAPI document
// does: the JSON field names of the type are the properties of its schemas
// (api.Task is both a status and a list item), and a property that a schema
// requires is never left out when empty (omitempty).
func TestWireTypesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
				Required   []string                   `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(readapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		wire    any
		schemas []string
	}{
		{api.StartTaskRequest{}, []string{"StartTaskRequest"}},
		{api.StartedTask{}, []string{"StartTaskResponse"}},
		{api.Task{}, []string{"TaskStatus", "TaskListItem"}},
		{api.TaskPage{}, []string{"TaskList"}},
		{api.Canceled{}, []string{"CancelResponse"}},
		{api.ResumeRequest{}, []string{"ResumeRequest"}},
		{api.EventPage{}, []string{"EventPage"}},
		{api.RegisterRequest{}, []string{"RegisterRequest"}},
		{api.LoginRequest{}, []string{"LoginRequest"}},
		{api.RefreshRequest{}, []string{"RefreshRequest"}},
		{api.Tokens{}, []string{"Tokens"}},
		{api.CreateKeyRequest{}, []string{"CreateAPIKeyRequest"}},
		{api.Key{}, []string{"APIKey"}},
		{api.KeyList{}, []string{"APIKeyList"}},
		{api.InviteRequest{}, []string{"InviteRequest"}},
		{api.Invitation{}, []string{"Invitation"}},
		{api.InvitationList{}, []string{"InvitationList"}},
		{api.RoleRequest{}, []string{"RoleRequest"}},
		{api.Membership{}, []string{"Membership"}},
		{api.MemberList{}, []string{"MemberList"}},
		{api.Problem{}, []string{"Problem"}},
	} {
		var want, required []string
		for _, name := range c.schemas {
			s, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("openapi.json has no schema %s", name)
			}
			for p := range s.Properties {
				if !slices.Contains(want, p) {
					want = append(want, p)
				}
			}
			required = append(required, s.Required...)
		}
		typ := reflect.TypeOf(c.wire)
		var got []string
		for f := range typ.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			got = append(got, name)
			if slices.Contains(required, name) && strings.Contains(opts, "omit") {
				t.Errorf("api.%s leaves %s out when empty, but its schemas %v require it", typ.Name(), name, c.schemas)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("api.%s has the fields %v; its schemas %v have %v", typ.Name(), got, c.schemas, want)
		}
	}
}
