package main

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/internal/testwait"
)

// Every client command, human and JSON output, against a real dev
// process: compared with testdata/golden (go test -run TestClientGolden
// -update rewrites them).
func TestClientGolden(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	c := newClientCLI(t, dev.base, dev.key)
	g := &golden{t: t, exact: []string{dev.base, "<url>", c.configDir, "<config>", keyPrefix(dev.key), "<dev-prefix>"}}

	// A task that succeeds.
	res := c.mustRun("", "task", "start", "-name", "greet", "--", "sh", "-c", `printf 'hello\nworld\n'`)
	g.check("task_start", res)
	greet := strings.TrimSpace(res.stdout)
	g.check("task_logs_follow", c.run("", "task", "logs", greet, "-f", "-exit-code"))
	g.check("task_logs", c.run("", "task", "logs", greet))
	g.check("task_logs_json", c.run("", "task", "logs", greet, "-json"))
	g.check("task_logs_follow_json", c.run("", "task", "logs", "-f", "-json", greet))
	g.check("task_logs_since", c.run("", "task", "logs", greet, "-since", "4", "-exit-code"))
	g.check("task_status", c.run("", "task", "status", greet))
	g.check("task_status_json", c.run("", "task", "status", greet, "-json"))
	g.check("task_verify", c.run("", "task", "verify", greet))
	g.check("task_verify_json", c.run("", "task", "verify", greet, "-json"))

	// A task that fails with exit code 3, writing to stdout and stderr.
	res = c.mustRun("", "task", "start", "-json", "-name", "build", "--", "sh", "-c", "echo building; echo oops >&2; exit 3")
	g.check("task_start_json", res)
	var started struct {
		TaskID string `json:"task_id"`
	}
	decodeJSON(t, res, &started)
	g.check("task_logs_follow_failed", c.run("", "task", "logs", started.TaskID, "-f", "-exit-code"))

	// A mock task, started and followed in one command.
	g.check("task_start_follow_mock", c.run("", "task", "start", "-adapter", "mock", "-args", `{"steps":2,"interval_ms":10}`, "-f", "-exit-code"))

	// A task canceled while it runs.
	sleeper := strings.TrimSpace(c.mustRun("", "task", "start", "-name", "sleeper", "--", "sleep", "60").stdout)
	c.waitState(sleeper, "running")
	g.check("task_cancel", c.run("", "task", "cancel", sleeper))
	g.check("task_logs_follow_canceled", c.run("", "task", "logs", sleeper, "-f", "-exit-code"))
	g.check("task_cancel_json", c.run("", "task", "cancel", sleeper, "-json"))
	g.check("task_cancel_ended", c.run("", "task", "cancel", greet))

	// The list, once its projection has caught up with the log.
	testwait.For(t, "the task list", func() bool {
		var list struct {
			Tasks []struct {
				State string `json:"state"`
			} `json:"tasks"`
		}
		decodeJSON(t, c.mustRun("", "task", "list", "-json"), &list)
		ended := 0
		for _, task := range list.Tasks {
			if task.State == "succeeded" || task.State == "failed" || task.State == "canceled" {
				ended++
			}
		}
		return ended == 4
	})
	g.check("task_list", c.run("", "task", "list"))
	g.check("task_list_json", c.run("", "task", "list", "-limit", "2", "-json"))
	g.check("task_list_state", c.run("", "task", "list", "-state", "failed"))
	g.check("task_list_empty", c.run("", "task", "list", "-state", "timed_out"))

	// API keys.
	res = c.mustRun("", "keys", "create", "-name", "ci agent", "-json")
	var created struct {
		ID     string `json:"id"`
		Key    string `json:"key"`
		Prefix string `json:"prefix"`
	}
	decodeJSON(t, res, &created)
	g.exact = append(g.exact, created.Prefix, "<prefix>")
	g.check("keys_create_json", res)
	res = c.mustRun("", "keys", "create", "-name", "reader", "-scope", "tasks:read")
	reader := strings.TrimSpace(res.stdout)
	g.exact = append(g.exact, keyPrefix(reader), "<reader-prefix>")
	g.check("keys_create", res)
	g.check("keys_list", c.run("", "keys", "list"))
	g.check("keys_list_json", c.run("", "keys", "list", "-json"))
	var keys struct {
		APIKeys []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"api_keys"`
	}
	decodeJSON(t, c.mustRun("", "keys", "list", "-json"), &keys)
	var readerID string
	for _, k := range keys.APIKeys {
		if k.Name == "reader" {
			readerID = k.ID
		}
	}
	g.check("keys_revoke", c.run("", "keys", "revoke", readerID))
	g.check("keys_revoke_json", c.run("", "keys", "revoke", created.ID, "-json"))

	// Errors: what to fix, on stderr, with the exit code scripts test.
	g.check("error_not_found", c.run("", "task", "status", uuid.NewString()))
	g.check("error_bad_id", c.run("", "task", "logs", "not-a-task"))
	g.check("error_bad_flag", c.run("", "task", "list", "-frobnicate"))
	g.check("error_no_command", c.run("", "task", "start"))
	g.check("error_invalid_input", c.run("", "task", "list", "-state", "sleeping"))
	g.check("error_no_credentials", newClientCLI(t, dev.base, "").run("", "task", "list"))
	g.check("error_revoked_key", newClientCLI(t, dev.base, reader).run("", "task", "list"))

	// Signing in and out.
	user := newClientCLI(t, dev.base, "")
	g.exact = append(g.exact, user.configDir, "<config>")
	password := devPassword(t, dev)
	user.secrets = append(user.secrets, password)
	g.check("login", user.run(password+"\n", "login", "-email", "dev@localhost"))
	g.check("login_json", user.run(password+"\n", "login", "-email", "dev@localhost", "-json"))
	g.check("logout", user.run("", "logout"))
	g.check("logout_json", user.run("", "logout", "-json"))
}
