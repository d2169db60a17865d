package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/axontask/axontask/api"
)

// A Time is written as the hash chain binds times, or null, and read back
// leniently: an answer with an odd time still decodes.
func TestTimeJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		in   api.Time
		want string
	}{
		{api.Time{}, `null`},
		{api.Time{Time: at}, `"2026-01-02T14:04:05.123456Z"`},
	} {
		got, err := json.Marshal(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.in.Time, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{`null`, time.Time{}},
		{`"2026-01-02T14:04:05.123456Z"`, at.Truncate(time.Microsecond)},
		{`"2026-01-02T15:04:05+01:00"`, at.Truncate(time.Second)},
		{`"yesterday"`, time.Time{}},
		{`17`, time.Time{}},
	} {
		got := api.Time{Time: time.Now()}
		if err := json.Unmarshal([]byte(c.in), &got); err != nil || !got.Equal(c.want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", c.in, got.Time, err, c.want)
		}
	}
	var task api.Task
	if err := json.Unmarshal([]byte(`{"task_id":"0190d2a4-6c1e-7b3a-9f00-000000000000","created_at":null}`), &task); err != nil || !task.CreatedAt.IsZero() {
		t.Fatalf("a task with a null time: %+v, %v", task, err)
	}
}
