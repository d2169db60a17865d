package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// readmeBlock returns the first ```sh block of the README after the line
// that contains marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	return docBlock(t, "../../README.md", marker)
}

// docBlock returns the first ```sh block of the Markdown file at path
// after the line that contains marker.
func docBlock(t *testing.T, path, marker string) string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), marker)
	if !ok {
		t.Fatalf("%s has no %q", path, marker)
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatalf("no ```sh block after %q in %s", marker, path)
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatalf("the ```sh block after %q in %s does not end", marker, path)
	}
	return block
}

// The README's curl session runs as pasted into a shell (with the key dev
// printed put in, and dev's address for localhost:8080): each line does
// what its comment says.
func TestReadmeCurlSessionRuns(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README's session needs curl: apt-get install -y curl")
	}
	session := readmeBlock(t, "A session:\n")
	if !strings.Contains(session, "axt_…") || !strings.Contains(session, "localhost:8080") {
		t.Fatalf("the session no longer has the key placeholder and dev's address:\n%s", session)
	}
	dev := startDev(t, nil)
	session = strings.ReplaceAll(session, "axt_…", dev.key)
	session = strings.ReplaceAll(session, "localhost:8080", strings.TrimPrefix(dev.base, "http://"))

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	// Line by line, as a pasted session runs: a line that fails does not
	// stop the next (the live stream is cut off by --max-time on purpose).
	cmd := exec.CommandContext(ctx, "bash", "-c", session)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	_ = cmd.Run()
	got := out.String()
	for _, want := range []string{
		`"resume_token":"`,     // the start's answer, echoed
		`{"canceled":true}`,    // the cancel
		"event: task.canceled", // and ends with the task's end
		`"payload_digest"`,     // every envelope carries the chain
		`"ended":true`,         // the JSON page of the ended task
		"event: task.created",  // the stream from the start, with the resume token
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the session's output lacks %q", want)
		}
	}
	// The status comes while the task waits for a slot or runs: on a
	// loaded machine it may not have started yet.
	if !strings.Contains(got, `"state":"running"`) && !strings.Contains(got, `"state":"queued"`) {
		t.Errorf("the status in the session's output is neither running nor queued")
	}
	if strings.Count(got, "event: task.canceled") != 2 {
		t.Errorf("want task.canceled in the resumed stream and in the token's stream, got %d", strings.Count(got, "event: task.canceled"))
	}
	if t.Failed() {
		t.Logf("session:\n%s\nstdout:\n%s\nstderr:\n%s", session, got, errOut.String())
	}
}

// The README's task-augmented MCP call runs as pasted: start_task as an
// MCP task answers at once with the task, tasks/get shows it, and
// tasks/result waits for its end and answers with its result.
func TestReadmeMCPTaskCallRuns(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README's MCP call needs curl: apt-get install -y curl")
	}
	session := readmeBlock(t, "A task-augmented call over HTTP, by hand:\n")
	dev := startDev(t, nil)
	session = strings.ReplaceAll(session, "axt_…", dev.key)
	session = strings.ReplaceAll(session, "localhost:8080", strings.TrimPrefix(dev.base, "http://"))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", session)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		`"task":{"taskId":"`,                     // the start, answered with the task
		`"status":"working"`,                     // which works
		`"io.modelcontextprotocol/related-task"`, // the result names its task
		`"state":"succeeded"`,                    // and how it ended
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the call's output lacks %q:\n%s", want, got)
		}
	}
}
