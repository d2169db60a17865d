package commands_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// TestStartTask: given an empty store, when a task is started, then its
// stream holds exactly task.created and task.queued, appended together,
// with the canonical arguments, the command's metadata and the clock's time,
// and the chain verifies.
func TestStartTask(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		cmd := mockStart(tenant)
		res, err := b.start.Handle(t.Context(), cmd)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		if res.TaskID == uuid.Nil || res.LastSeq != 2 || len(res.Events) != 2 {
			t.Fatalf("start returned task %s, last seq %d, %d events; want a task id, 2, 2", res.TaskID, res.LastSeq, len(res.Events))
		}

		task, events := thenStream(t, b.store, res.TaskID, domain.TaskCreatedType, domain.TaskQueuedType)
		checkSameEvents(t, "the stream", events, res.Events)
		wantPayloads := []string{
			`{"adapter":"mock","args":{"fail_at_step":0,"interval_ms":100,"output_lines_per_step":1,"steps":3},"name":"demo","timeout_s":600}`,
			`{"attempt":1,"reason":"created"}`,
		}
		for i, e := range events {
			if string(e.Payload) != wantPayloads[i] {
				t.Errorf("%s payload = %s, want %s", e.Type, e.Payload, wantPayloads[i])
			}
			if e.StreamID != res.TaskID.String() || e.StreamType != domain.StreamTask || e.TenantID != tenant {
				t.Errorf("%s is in stream %s (%s) of tenant %s, want %s (task) of %s", e.Type, e.StreamID, e.StreamType, e.TenantID, res.TaskID, tenant)
			}
			if e.Metadata != meta {
				t.Errorf("%s metadata = %+v, want the command's %+v", e.Type, e.Metadata, meta)
			}
			if want := domain.NormalizeTime(now); !e.OccurredAt.Equal(want) {
				t.Errorf("%s occurred at %v, want the clock's %v", e.Type, e.OccurredAt, want)
			}
		}
		if task.State() != domain.StateQueued || task.Attempt() != 1 || task.TimeoutS() != 600 || !task.CreatedAt().Equal(domain.NormalizeTime(now)) {
			t.Errorf("rebuilt task: state %s, attempt %d, timeout %d, created %v; want queued, 1, 600, %v",
				task.State(), task.Attempt(), task.TimeoutS(), task.CreatedAt(), now)
		}
	})
}

// TestStartTaskStoresCanonicalArgs: the stored arguments are the parsed
// ones, in RFC 8785 form, with the adapter's defaults filled in.
func TestStartTaskStoresCanonicalArgs(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		for _, tc := range []struct {
			adapter  domain.Adapter
			args     string
			wantArgs string
		}{
			{domain.AdapterMock, ``, `{"fail_at_step":0,"interval_ms":100,"output_lines_per_step":1,"steps":10}`},
			{domain.AdapterMock, `null`, `{"fail_at_step":0,"interval_ms":100,"output_lines_per_step":1,"steps":10}`},
			{domain.AdapterMock, ` { "fail_at_step" : 2 , "steps":2 } `, `{"fail_at_step":2,"interval_ms":100,"output_lines_per_step":1,"steps":2}`},
			{domain.AdapterShell, `{"env":{"b":"2","A":"<&>"},"command":["sh","-c","echo \u00e9 \"$A\""]}`,
				`{"command":["sh","-c","echo é \"$A\""],"env":{"A":"<&>","b":"2"}}`},
			{domain.AdapterShell, `{"command":["ls"],"cwd":""}`, `{"command":["ls"]}`},
		} {
			cmd := mockStart(tenant)
			cmd.Adapter, cmd.Args = tc.adapter, json.RawMessage(tc.args)
			res, err := b.start.Handle(t.Context(), cmd)
			if err != nil {
				t.Errorf("start %s %s: %v", tc.adapter, tc.args, err)
				continue
			}
			p, err := domain.Decode(domain.TaskCreatedType, res.Events[0].Payload)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(p.(*domain.TaskCreated).Args); got != tc.wantArgs {
				t.Errorf("start %s %s stored args %s, want %s", tc.adapter, tc.args, got, tc.wantArgs)
			}
		}
	})
}

// TestStartTaskTimeout: timeout_s 0 takes the configured default; the
// bounds come from the handler's config.
func TestStartTaskTimeout(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		for _, tc := range []struct {
			name string
			cfg  commands.StartTaskConfig
			in   int
			want int // 0: rejected
		}{
			{"default config, 0 is one hour", commands.StartTaskConfig{}, 0, 3600},
			{"default config, 24 h is allowed", commands.StartTaskConfig{}, 86400, 86400},
			{"default config, 1 s is allowed", commands.StartTaskConfig{}, 1, 1},
			{"default config, 24 h + 1 s is not", commands.StartTaskConfig{}, 86401, 0},
			{"default config, negative", commands.StartTaskConfig{}, -1, 0},
			{"configured default", commands.StartTaskConfig{DefaultTimeoutS: 120}, 0, 120},
			{"configured max", commands.StartTaskConfig{MaxTimeoutS: 60}, 61, 0},
			{"configured max below the default default", commands.StartTaskConfig{MaxTimeoutS: 60}, 0, 60},
		} {
			h, err := commands.NewStartTaskHandler(b.store, tc.cfg)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			cmd := mockStart(tenant)
			cmd.TimeoutS = tc.in
			res, err := h.Handle(t.Context(), cmd)
			if tc.want == 0 {
				checkValidation(t, err, "timeout_s")
				continue
			}
			if err != nil {
				t.Errorf("%s: start with timeout_s %d: %v", tc.name, tc.in, err)
				continue
			}
			if task, _ := thenStream(t, b.store, res.TaskID); task.TimeoutS() != tc.want {
				t.Errorf("%s: timeout_s %d stored as %d, want %d", tc.name, tc.in, task.TimeoutS(), tc.want)
			}
		}
	})
}

// TestStartTaskRejects: every invalid command fails with a validation error
// naming the field, and nothing is written.
func TestStartTaskRejects(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		for _, tc := range []struct {
			name   string
			change func(*commands.StartTask)
			field  string
		}{
			{"empty name", func(c *commands.StartTask) { c.Name = "" }, "name"},
			{"blank name", func(c *commands.StartTask) { c.Name = "   " }, "name"},
			{"name too long", func(c *commands.StartTask) { c.Name = strings.Repeat("n", domain.MaxTaskNameLen+1) }, "name"},
			{"newline in the name", func(c *commands.StartTask) { c.Name = "build\nforged line" }, "name"},
			{"control character in the name", func(c *commands.StartTask) { c.Name = "bell\a" }, "name"},
			{"invalid UTF-8 in the name", func(c *commands.StartTask) { c.Name = "caf\xe9" }, "name"},
			{"no adapter", func(c *commands.StartTask) { c.Adapter = "" }, "adapter"},
			{"unknown adapter", func(c *commands.StartTask) { c.Adapter = "ssh" }, "adapter"},
			{"docker without an image", func(c *commands.StartTask) {
				c.Adapter, c.Args = domain.AdapterDocker, json.RawMessage(`{"command":["true"]}`)
			}, "args.image"},
			{"shell without a command", func(c *commands.StartTask) {
				c.Adapter, c.Args = domain.AdapterShell, json.RawMessage(`{"command":[]}`)
			}, "args.command"},
			{"shell without args", func(c *commands.StartTask) { c.Adapter, c.Args = domain.AdapterShell, nil }, "args.command"},
			{"unknown argument", func(c *commands.StartTask) { c.Args = json.RawMessage(`{"steps":3,"speed":9}`) }, "args.speed"},
			{"argument of the wrong type", func(c *commands.StartTask) { c.Args = json.RawMessage(`{"steps":"3"}`) }, "args.steps"},
			{"fail_at_step after the last step", func(c *commands.StartTask) { c.Args = json.RawMessage(`{"steps":3,"fail_at_step":4}`) }, "args.fail_at_step"},
			{"args not JSON", func(c *commands.StartTask) { c.Args = json.RawMessage(`{`) }, "args"},
			{"args too big", func(c *commands.StartTask) {
				c.Adapter, c.Args = domain.AdapterShell, json.RawMessage(`{"command":["echo","`+strings.Repeat("x", domain.MaxArgsBytes)+`"]}`)
			}, "args"},
			{"negative timeout", func(c *commands.StartTask) { c.TimeoutS = -5 }, "timeout_s"},
			{"timeout over 24 h", func(c *commands.StartTask) { c.TimeoutS = 24*3600 + 1 }, "timeout_s"},
			{"no tenant", func(c *commands.StartTask) { c.TenantID = "" }, "tenant_id"},
			{"control character in the command id", func(c *commands.StartTask) { c.CommandID = "req\n1" }, "command_id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cmd := mockStart(tenant)
				cmd.TaskID = uuid.New()
				tc.change(&cmd)
				_, err := b.start.Handle(t.Context(), cmd)
				checkValidation(t, err, tc.field)
				if events := readTask(t, b.store, cmd.TaskID); len(events) != 0 {
					t.Errorf("a rejected start wrote %d events", len(events))
				}
			})
		}
	})
}

// TestStartTaskRepeatedCommand: a command repeated with the same CommandID
// (an HTTP retry) returns the first one's task and events and writes
// nothing, even after the task moved on; the same id with other arguments
// is refused; other tenants and other ids start other tasks.
func TestStartTaskRepeatedCommand(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		cmd := mockStart(tenant)
		cmd.CommandID = "idem-1"
		first, err := b.start.Handle(t.Context(), cmd)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		wantMeta := meta
		wantMeta.CausationID = "idem-1"
		for _, e := range first.Events {
			if e.Metadata != wantMeta {
				t.Errorf("%s metadata = %+v, want %+v (the causation id is the command id)", e.Type, e.Metadata, wantMeta)
			}
		}

		repeat := func(when string) {
			t.Helper()
			again, err := b.start.Handle(t.Context(), cmd)
			if err != nil {
				t.Fatalf("repeat %s: %v", when, err)
			}
			if again.TaskID != first.TaskID || again.LastSeq != first.LastSeq {
				t.Errorf("repeat %s: task %s at seq %d, want %s at %d", when, again.TaskID, again.LastSeq, first.TaskID, first.LastSeq)
			}
			checkSameEvents(t, "repeat "+when, again.Events, first.Events)
		}
		repeat("right away")
		thenStream(t, b.store, first.TaskID, domain.TaskCreatedType, domain.TaskQueuedType)
		b.given(t, first.TaskID, tenant, &domain.TaskStarted{Attempt: 1, WorkerID: "worker-1"})
		repeat("after a worker started the task")
		thenStream(t, b.store, first.TaskID, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType)

		other := cmd
		other.Name = "another name"
		_, err = b.start.Handle(t.Context(), other)
		if !errors.Is(err, commands.ErrCommandIDReused) {
			t.Errorf("the same command id with another name: got %v, want ErrCommandIDReused", err)
		}
		other = cmd
		other.TaskID = uuid.New()
		_, err = b.start.Handle(t.Context(), other)
		if !errors.Is(err, commands.ErrCommandIDReused) {
			t.Errorf("the same command id with another task id: got %v, want ErrCommandIDReused", err)
		}
		if events := readTask(t, b.store, other.TaskID); len(events) != 0 {
			t.Errorf("the refused command wrote %d events", len(events))
		}

		other = cmd
		other.TenantID = otherTenant
		theirs, err := b.start.Handle(t.Context(), other)
		if err != nil || theirs.TaskID == first.TaskID {
			t.Errorf("another tenant with the same command id: task %s, %v; want a task of its own", theirs.TaskID, err)
		}
		other = cmd
		other.CommandID = "idem-2"
		next, err := b.start.Handle(t.Context(), other)
		if err != nil || next.TaskID == first.TaskID {
			t.Errorf("another command id: task %s, %v; want another task", next.TaskID, err)
		}
	})
}

// TestStartTaskWithoutCommandID: without a CommandID every start is a new task.
func TestStartTaskWithoutCommandID(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		a := b.givenQueuedTask(t, tenant)
		c := b.givenQueuedTask(t, tenant)
		if a == c {
			t.Fatalf("two starts made the same task %s", a)
		}
		thenStream(t, b.store, a, domain.TaskCreatedType, domain.TaskQueuedType)
		thenStream(t, b.store, c, domain.TaskCreatedType, domain.TaskQueuedType)
	})
}

// TestStartTaskIDTaken: an explicit TaskID that is taken, by this tenant or
// another, fails with ErrTaskExists and writes nothing.
func TestStartTaskIDTaken(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenQueuedTask(t, tenant)
		for _, tenantID := range []string{tenant, otherTenant} {
			cmd := mockStart(tenantID)
			cmd.TaskID = id
			_, err := b.start.Handle(t.Context(), cmd)
			if !errors.Is(err, commands.ErrTaskExists) {
				t.Errorf("start task %s again as %s: got %v, want ErrTaskExists", id, tenantID, err)
			}
		}
		thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType)
	})
}

func TestNewStartTaskHandlerRejectsConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []commands.StartTaskConfig{
		{MaxTimeoutS: -1},
		{DefaultTimeoutS: -1},
		{DefaultTimeoutS: 100, MaxTimeoutS: 99},
	} {
		if _, err := commands.NewStartTaskHandler(nil, cfg); err == nil {
			t.Errorf("NewStartTaskHandler(%+v) succeeded", cfg)
		}
	}
}
