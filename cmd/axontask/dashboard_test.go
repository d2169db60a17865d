package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"
	"github.com/gowebpki/jcs"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/dashboard"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/readapi"
)

// axeSource is axe-core's minified build (testdata/axe-core, MPL-2.0),
// vendored so that the accessibility check runs offline.
var axeSource = filepath.Join("testdata", "axe-core", "axe.min.js")

// screenshotPath is the README's picture of the task page, which
// TestDashboardInBrowser takes again with -update.
var screenshotPath = filepath.Join("..", "..", "docs", "images", "dashboard-task.png")

// dashboardBrowser is a Chromium tab on a dev process's dashboard.
type dashboardBrowser struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string
}

// visit opens path, checks that it answers status with the dashboard's
// Content-Security-Policy, runs axe-core on it and tabs through it.
func (b *dashboardBrowser) visit(path string, status int) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	if int(resp.Status) != status {
		b.t.Fatalf("%s answered %d, want %d", path, resp.Status, status)
	}
	if csp, _ := resp.Headers["Content-Security-Policy"].(string); csp != dashboard.ContentSecurityPolicy {
		b.t.Errorf("%s has Content-Security-Policy %q", path, csp)
	}
	b.checkPage(path)
}

// checkPage runs axe-core on the page the browser shows and tabs through
// it (checkKeyboard).
func (b *dashboardBrowser) checkPage(what string) {
	b.t.Helper()
	b.checkAccessibility(what)
	b.checkKeyboard(what)
}

// controlsScript lists the page's controls that are shown and enabled, in
// document order (a group of radio buttons is one stop), each by a key
// that survives the page re-rendering it (the task list replaces its rows
// as tasks change): what it is and does, and its rank among controls
// alike. It records in window.tabbed the key of every control the focus
// enters from then on.
const controlsScript = `(() => {
	const selector = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]";
	const base = (e) => [e.tagName, e.id, e.getAttribute("name"), e.getAttribute("href"), e.form?.getAttribute("action"),
		e.getAttribute("aria-label"), e.matches("a, button") ? e.textContent.trim() : ""].join("|");
	window.keyOf = (e) => base(e) + "#" + [...document.querySelectorAll(selector)].filter((o) => base(o) === base(e)).indexOf(e);
	window.tabbed = [];
	if (!window.tabbedListener) {
		window.tabbedListener = (ev) => window.tabbed.push(window.keyOf(ev.target));
		document.addEventListener("focusin", window.tabbedListener);
	}
	const radios = new Set();
	return [...document.querySelectorAll(selector)]
		.filter((e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")
		.filter((e) => e.type !== "radio" || (!radios.has(e.name) && radios.add(e.name)))
		.map(window.keyOf);
})()`

// checkKeyboard presses Tab, as a keyboard user would, through the page
// the browser shows, round and round, and checks that the focus reaches
// every control shown (link, button, input, select, text area, element
// with a tabindex), each in its turn in document order, so that every
// action on the page is in the keyboard's reach; and that no control is
// taken out of that reach (a negative tabindex, disabled). Stops that are
// not controls (a scrolling box) are allowed. A page whose controls change
// while it is tabbed through is tabbed through again.
func (b *dashboardBrowser) checkKeyboard(what string) {
	b.t.Helper()
	if out := eval[[]string](b, `[...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea")]
		.filter((e) => e.tabIndex < 0 || e.disabled).map((e) => e.outerHTML)`); len(out) > 0 {
		b.t.Errorf("%s has controls out of the keyboard's reach: %v", what, out)
	}
	for attempt := 1; ; attempt++ {
		controls := eval[[]string](b, controlsScript)
		if len(controls) == 0 {
			b.t.Fatalf("%s has no control to tab to", what)
		}
		// Twice round the page, and the fields of date inputs (one focus
		// stop each) on top.
		b.do("tab through "+what, chromedp.KeyEvent(strings.Repeat(kb.Tab, 3*len(controls)+40)))
		tabbed := eval[[]string](b, `window.tabbed`)
		if now := eval[[]string](b, controlsScript); !slices.Equal(now, controls) && attempt < 3 {
			continue // the page changed meanwhile
		}
		// One round, from the first control: consecutive stops on one
		// control (a date's fields) are one.
		var round []string
		for _, k := range tabbed {
			if len(round) == 0 && k != controls[0] || len(round) > 0 && round[len(round)-1] == k {
				continue
			}
			if len(round) > 0 && k == controls[0] {
				break
			}
			round = append(round, k)
		}
		isControl := map[string]bool{}
		for _, k := range controls {
			isControl[k] = true
		}
		reached := slices.DeleteFunc(slices.Clone(round), func(k string) bool { return !isControl[k] })
		if !slices.Equal(reached, controls) {
			b.t.Errorf("%s: pressing Tab reaches %d controls:\n  %s\nwant every control, in document order:\n  %s",
				what, len(reached), strings.Join(reached, "\n  "), strings.Join(controls, "\n  "))
			return
		}
		b.t.Logf("%s: pressing Tab reaches its %d controls in order, in %d stops", what, len(controls), len(round))
		return
	}
}

// tabTo presses Tab until the focus is on the element selector finds, as
// a keyboard user moves through a page.
func (b *dashboardBrowser) tabTo(selector string) {
	b.t.Helper()
	for range 200 {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		if eval[bool](b, fmt.Sprintf(`document.activeElement?.matches(%q) === true`, selector)) {
			return
		}
	}
	b.t.Fatalf("pressing Tab never reaches %s", selector)
}

// typeOver types text into the focused input in place of its value, as a
// keyboard user does: Ctrl+A, then the keys.
func (b *dashboardBrowser) typeOver(text string) {
	b.t.Helper()
	b.do("type "+text, chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)), chromedp.KeyEvent(text))
}

// axeViolation is what the test reads of an axe-core violation.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAccessibility runs axe-core on the page and fails on every serious
// or critical violation.
func (b *dashboardBrowser) checkAccessibility(what string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](b.axe+";\ntrue")); err != nil {
		b.t.Fatalf("load axe-core: %v", err)
	}
	type axeResult struct {
		Passes     int            `json:"passes"`
		Violations []axeViolation `json:"violations"`
	}
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[axeResult](`axe.run(document).then((r) => ({passes: r.passes.length,
		violations: r.violations.map((v) => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.map((n) => n.target.join(" "))}))}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", what, err)
	}
	if res.Passes == 0 {
		b.t.Fatalf("axe-core checked nothing on %s", what)
	}
	vs := res.Violations
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe-core on %s: %s violation %s (%s) at %v", what, v.Impact, v.ID, v.Help, v.Nodes)
		} else {
			b.t.Logf("axe-core on %s: %s violation %s (%s)", what, v.Impact, v.ID, v.Help)
		}
	}
}

// do runs the actions.
func (b *dashboardBrowser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval returns the value of a JavaScript expression on the page (of the
// promise it returns, if it does).
func eval[T any](b *dashboardBrowser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// taskIDOf returns the task id of a /tasks/{id} location.
func taskIDOf(t *testing.T, loc string) uuid.UUID {
	t.Helper()
	_, rest, _ := strings.Cut(loc, "/tasks/")
	id, err := uuid.Parse(rest)
	if err != nil {
		t.Fatalf("location %s is no task page", loc)
	}
	return id
}

// TestDashboardInBrowser drives the dashboard of a real dev process in
// Chromium as a user would: signs in, starts a mock task from the form,
// watches its log to the end with the page's own verification of the hash
// chain, sees that verification fail at the seq of an event tampered with
// in the store, cancels a running task, creates and revokes an API key,
// finds another tenant's task not found, has a cross-site form post
// refused, and signs out. Every page has the CSP header and passes
// axe-core without serious or critical violations.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	sdk, err := client.New(dev.base, client.WithToken(dev.key))
	if err != nil {
		t.Fatal(err)
	}
	b := newDashboardBrowser(t, dev)

	// Signed out, every page leads to the sign-in form.
	b.visit("/login", http.StatusOK)
	b.visit("/register", http.StatusOK)
	b.do("open /", chromedp.Navigate(dev.base+"/"))
	if loc := eval[string](b, `location.pathname`); loc != "/login" {
		t.Fatalf("signed out, / went to %s", loc)
	}
	b.signIn(dev)
	b.visit("/", http.StatusOK)
	b.visit("/keys", http.StatusOK)
	for _, a := range []domain.Adapter{domain.AdapterShell, domain.AdapterDocker, domain.AdapterFly} {
		b.visit("/tasks/new?adapter="+string(a), http.StatusOK)
	}

	// Start a mock task from the form, with the keyboard alone (Tab to
	// each input, type, Tab to Start, Enter), and follow it to its end.
	b.visit("/tasks/new?adapter=mock", http.StatusOK)
	b.tabTo(`#name`)
	b.typeOver("from the browser")
	for _, f := range []struct{ name, value string }{{"args.steps", "8"}, {"args.interval_ms", "100"}, {"args.output_lines_per_step", "2"}} {
		b.tabTo(fmt.Sprintf(`input[name=%q]`, f.name))
		b.typeOver(f.value)
	}
	b.tabTo(`#start-form button[type="submit"]`)
	b.do("start the task with Enter", chromedp.KeyEvent(kb.Enter))
	waitJS(t, b.ctx, "the task page", `location.pathname.startsWith("/tasks/") && location.pathname !== "/tasks/new"`)
	taskID := taskIDOf(t, eval[string](b, `location.pathname`))
	waitJS(t, b.ctx, "the task's end, verified", `document.querySelector("main")?.dataset.taskState === "succeeded" && document.querySelector("main")?.dataset.chain === "verified"`)
	st, err := sdk.TaskStatus(t.Context(), taskID)
	if err != nil {
		t.Fatal(err)
	}
	root := eval[map[string]string](b, `({...document.querySelector("main").dataset})`)
	if root["chainSeq"] != strconv.FormatInt(st.LastSeq, 10) {
		t.Fatalf("verified to seq %s; the task has %d events", root["chainSeq"], st.LastSeq)
	}
	if lines := eval[int](b, `document.querySelectorAll("#log .stream-stdout").length`); lines != 16 {
		t.Errorf("the log shows %d output events, want 16", lines)
	}
	if text := eval[string](b, `document.getElementById("chain").textContent`); !strings.Contains(text, "Verified to seq "+root["chainSeq"]) {
		t.Errorf("the integrity line says %q", text)
	}
	if p := eval[float64](b, `document.getElementById("progress").value`); p != 100 {
		t.Errorf("progress %v at the end", p)
	}
	if hidden := eval[bool](b, `document.getElementById("receipt").hidden`); hidden {
		t.Error("no receipt link once the task ended")
	}
	if dl := eval[string](b, `document.getElementById("receipt").getAttribute("download") || ""`); dl != "receipt-"+taskID.String()+".json" {
		t.Errorf("the receipt link downloads as %q, want receipt-%s.json", dl, taskID)
	}
	if tl := eval[[]string](b, `[...document.querySelectorAll("#timeline li")].map((li) => li.textContent)`); len(tl) == 0 || !strings.Contains(tl[len(tl)-1], " succeeded") {
		t.Errorf("the timeline %q does not end with the task's success", tl)
	}
	b.checkPage("the task page")
	checkCanonicalization(t, b)

	waitJS(t, b.ctx, "the receipt checked", `["verified", "failed", "none"].includes(document.querySelector("main")?.dataset.receipt)`)
	if r := eval[string](b, `document.querySelector("main").dataset.receipt + ": " + document.getElementById("receipt-check").textContent`); !strings.HasPrefix(r, "verified: Receipt verified") {
		t.Errorf("the receipt check says %q", r)
	}
	if *update {
		// No focus ring from the keyboard check in the picture.
		eval[bool](b, `document.activeElement?.blur(); true`)
		shot, err := chromedp.Run(b.ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
			if _, err := chromedp.EmulateViewport(1100, 800)(ctx, tg); err != nil {
				return nil, err
			}
			return chromedp.CaptureScreenshot()(ctx, tg)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(screenshotPath, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A receipt with a changed head or another key fails the page's check.
	for change, want := range map[string]string{
		`r.head_hash = r.head_hash.replace(/^./, (c) => c === "0" ? "1" : "0")`: "its signature does not verify",
		`r.key_id = "someone+00000000"`:                                         "is not among the published receipt keys",
	} {
		got := eval[string](b, fmt.Sprintf(`(async () => {
			const r = await (await fetch(document.getElementById("receipt").href)).json();
			const keys = await (await fetch(document.querySelector("main").dataset.keys)).json();
			%s;
			try {
				await checkReceipt(r, keys, {seq: r.last_seq, head: r.head_hash}, {});
				return "verified";
			} catch (err) {
				return err.message;
			}
		})()`, change))
		if !strings.Contains(got, want) {
			t.Errorf("a receipt changed by %s: the page says %q, want %q", change, got, want)
		}
	}
	receipt := eval[string](b, `fetch(document.getElementById("receipt").href).then((r) => r.ok ? r.json() : r.status).then((r) => r.head_hash || String(r))`)
	if !strings.Contains(eval[string](b, `document.getElementById("chain").textContent`), receipt) {
		t.Errorf("the receipt's head %s is not the verified head", receipt)
	}

	// Start it again: a new task with the same name and arguments.
	b.do("start again", chromedp.Click(chromedp.CSS(`form[action$="/again"] button`)))
	waitJS(t, b.ctx, "the new task's page", fmt.Sprintf(`location.pathname.startsWith("/tasks/") && location.pathname !== %q && document.querySelector("h1")?.textContent === "from the browser"`, "/tasks/"+taskID.String()))
	if first, again := createdArgs(t, sdk, taskID), createdArgs(t, sdk, taskIDOf(t, eval[string](b, `location.pathname`))); first != again || first != (domain.MockArgs{Steps: 8, IntervalMS: 100, OutputLinesPerStep: 2}) {
		t.Errorf("started again with %+v; the first run had %+v, from the form", again, first)
	}

	// A task whose first attempt fails on stderr, then succeeds: the log
	// tells stderr from stdout, the page shows the second attempt, and
	// the timeline the failed one.
	retried, err := sdk.StartTask(t.Context(), client.StartTaskRequest{Name: "retried", Adapter: domain.AdapterMock,
		Args: json.RawMessage(`{"steps":3,"interval_ms":20,"fail_at_step":2,"fail_attempts":1}`), Retry: &domain.RetryPolicy{MaxAttempts: 2, InitialIntervalMS: 100}})
	if err != nil {
		t.Fatal(err)
	}
	b.visit("/tasks/"+retried.TaskID.String(), http.StatusOK)
	waitJS(t, b.ctx, "the retried task's end, verified", `document.querySelector("main")?.dataset.taskState === "succeeded" && document.querySelector("main")?.dataset.chain === "verified"`)
	if n := eval[int](b, `document.querySelectorAll("#log .stream-stderr").length`); n != 1 {
		t.Errorf("the log shows %d stderr events, want the failed attempt's 1", n)
	}
	if a := eval[string](b, `document.getElementById("task-attempt").textContent`); a != "2" {
		t.Errorf("the page shows attempt %s, want 2", a)
	}
	if tl := eval[string](b, `document.getElementById("timeline").textContent`); !strings.Contains(tl, "attempt failed (attempt 1)") || !strings.Contains(tl, "started (attempt 2)") {
		t.Errorf("the timeline %q shows neither the failed attempt nor the second", tl)
	}

	// The task list follows the tenant's feed: a task started elsewhere
	// appears in it, and its row changes state, without a reload and
	// without falling back to reading the rows every few seconds. The task
	// is created in a second of its own, after every task before it, for
	// the time filters below.
	b.visit("/", http.StatusOK)
	waitJS(t, b.ctx, "the list following the feed", `document.getElementById("tasks").dataset.live === "feed"`)
	eval[bool](b, `window.sameDocument = true`)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	fresh, err := sdk.StartTask(t.Context(), client.StartTaskRequest{Name: "started elsewhere", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":20,"interval_ms":100}`)})
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(`document.querySelector('tr[data-task-id=%q]')`, fresh.TaskID)
	waitJS(t, b.ctx, "the new task in the list", row+` !== null`)
	if first := eval[string](b, row+`.dataset.state`); domain.TaskState(first).Terminal() {
		t.Errorf("the new task's row appeared %s; want it listed before its end", first)
	}
	waitJS(t, b.ctx, "the new task's row succeeded", row+`?.dataset.state === "succeeded"`)
	if live := eval[string](b, `window.sameDocument === true ? document.getElementById("tasks").dataset.live : "reloaded"`); live != "feed" {
		t.Errorf("the list's rows changed with the list %s; want it following the feed", live)
	}
	listed := func() []string {
		t.Helper()
		return eval[[]string](b, `[...document.querySelectorAll("tr[data-task-id]")].map((r) => r.dataset.taskId)`)
	}
	b.visit("/?name=ELSEWHERE&adapter=mock", http.StatusOK)
	if rows := listed(); len(rows) != 1 || rows[0] != fresh.TaskID.String() {
		t.Errorf("filtered by name and adapter, the list shows %v; want only %s", rows, fresh.TaskID)
	}
	b.visit("/?adapter=shell", http.StatusOK)
	if rows := listed(); len(rows) != 0 {
		t.Errorf("filtered by adapter shell, the list shows %d mock tasks", len(rows))
	}
	b.visit("/?state=succeeded", http.StatusOK)
	if rows := listed(); !slices.Contains(rows, taskID.String()) {
		t.Errorf("filtered by state succeeded, the list shows %v; want the first task among them", rows)
	}
	if states := eval[[]string](b, `[...document.querySelectorAll("tr[data-task-id]")].map((r) => r.dataset.state)`); slices.ContainsFunc(states, func(s string) bool { return s != "succeeded" }) {
		t.Errorf("filtered by state succeeded, the list shows rows %v", states)
	}
	b.visit("/?state=sleeping", http.StatusBadRequest)

	// The creation time filters (UTC, as the list shows times), kept in
	// their inputs and in the live refresh's query.
	freshStatus, err := sdk.TaskStatus(t.Context(), fresh.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	second := freshStatus.CreatedAt.UTC().Truncate(time.Second)
	b.visit("/?created_after="+second.Format("2006-01-02T15:04:05"), http.StatusOK)
	if rows := listed(); len(rows) != 1 || rows[0] != fresh.TaskID.String() {
		t.Errorf("created after %s, the list shows %v; want only %s", second, rows, fresh.TaskID)
	}
	if after := eval[string](b, `document.getElementById("f-after").value`); strings.TrimSuffix(after, ":00") != strings.TrimSuffix(second.Format("2006-01-02T15:04:05"), ":00") {
		t.Errorf("the Created after input holds %q, want %s", after, second)
	}
	if rows := eval[string](b, `document.getElementById("tasks").dataset.rows`); !strings.Contains(rows, "created_after=") {
		t.Errorf("the live refresh reads %s, without the filter", rows)
	}
	b.visit("/?created_before="+second.Format("2006-01-02T15:04:05")+"&created_after="+second.Add(-time.Hour).Format("2006-01-02T15:04"), http.StatusOK)
	if rows := listed(); len(rows) == 0 || slices.Contains(rows, fresh.TaskID.String()) || !slices.Contains(rows, taskID.String()) {
		t.Errorf("created in the hour before %s, the list shows %v; want the first task, not %s", second.Format(time.TimeOnly), rows, fresh.TaskID)
	}
	b.visit("/?created_after=yesterday", http.StatusBadRequest)
	b.visit("/?created_after="+second.Format("2006-01-02T15:04:05")+"&created_before="+second.Format("2006-01-02T15:04:05"), http.StatusBadRequest)

	// Tamper with one output event's payload in the store: the page names
	// its seq.
	events, err := sdk.TaskEvents(t.Context(), taskID, client.EventsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tampered int64
	for _, e := range events.Events {
		if e.Type == domain.TaskOutputType {
			tampered = e.Seq
			break
		}
	}
	tamperPayload(t, filepath.Join(dev.dataDir, "events.db"), taskID.String(), tampered)
	b.visit("/tasks/"+taskID.String(), http.StatusOK)
	waitJS(t, b.ctx, "the failed verification", `document.querySelector("main")?.dataset.chain === "failed"`)
	if seq := eval[string](b, `document.querySelector("main").dataset.chainSeq`); seq != strconv.FormatInt(tampered, 10) {
		t.Errorf("verification failed at seq %s; seq %d was tampered with", seq, tampered)
	}
	if text := eval[string](b, `document.getElementById("chain").textContent`); !strings.Contains(text, fmt.Sprintf("seq %d", tampered)) || !strings.Contains(text, "payload") {
		t.Errorf("the integrity line says %q", text)
	}

	// Cancel a running task.
	long, err := sdk.StartTask(t.Context(), client.StartTaskRequest{Name: "long", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":600,"interval_ms":100}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.visit("/tasks/"+long.TaskID.String(), http.StatusOK)
	waitJS(t, b.ctx, "the task running", `document.querySelector("main")?.dataset.taskState === "running"`)
	b.do("cancel", chromedp.Click(chromedp.CSS(`#cancel-form button`)))
	waitJS(t, b.ctx, "the task canceled, verified", `document.querySelector("main")?.dataset.taskState === "canceled" && document.querySelector("main")?.dataset.chain === "verified"`)

	// Create an API key (shown once, and it works), then revoke it.
	b.visit("/keys", http.StatusOK)
	b.do("create a key",
		chromedp.SendKeys(chromedp.CSS(`#key-name`), "browser key"),
		chromedp.Click(chromedp.CSS(`#key-form button[type="submit"]`)),
	)
	waitJS(t, b.ctx, "the new key", `document.getElementById("new-key")?.value.startsWith("axt_") === true`)
	b.checkPage("the keys page with a new key")
	plaintext := eval[string](b, `document.getElementById("new-key").value`)
	withKey, err := client.New(dev.base, client.WithToken(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withKey.ListTasks(t.Context(), client.ListTasksOptions{}); err != nil {
		t.Fatalf("the new key does not work: %v", err)
	}
	keyID := keyIDNamed(t, sdk, "browser key")
	b.tabTo(fmt.Sprintf(`tr[data-key-id=%q] button`, keyID))
	b.do("revoke the key with Enter", chromedp.KeyEvent(kb.Enter))
	waitJS(t, b.ctx, "the keys page again", fmt.Sprintf(`location.pathname === "/keys" && !document.querySelector('tr[data-key-id=%q]')`, keyID))
	if _, err := withKey.ListTasks(t.Context(), client.ListTasksOptions{}); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("the revoked key still answers %v", err)
	}

	// Another tenant's task is not found, page and stream alike.
	other, err := client.New(dev.base, client.WithToken(register(t, dev.base, "other@example.com")))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := other.StartTask(t.Context(), client.StartTaskRequest{Name: "theirs", Adapter: domain.AdapterMock})
	if err != nil {
		t.Fatal(err)
	}
	b.visit("/tasks/"+theirs.TaskID.String(), http.StatusNotFound)
	if status := eval[int](b, fmt.Sprintf(`fetch(%q).then((r) => r.status)`, dashboard.APIPrefix+"/mcp/tasks/"+theirs.TaskID.String()+"/status")); status != http.StatusNotFound {
		t.Errorf("another tenant's task status through the dashboard answered %d", status)
	}

	// CSRF: a form posted from another site is refused with 403 by the
	// origin check, even one that carries the session's token (the browser
	// also leaves out the Lax session cookie, which would lead to the
	// sign-in page instead); a same-origin post without the token is
	// refused by the token check.
	before := len(listKeys(t, sdk))
	b.visit("/keys", http.StatusOK)
	token := eval[string](b, `document.querySelector('input[name="csrf"]').value`)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/keys"><input name="name" value="evil"><input name="csrf" value="%s"></form><script>document.getElementById("f").submit()</script>`, dev.base, token)
	}))
	t.Cleanup(evil.Close)
	b.do("open the other site", chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)))
	waitJS(t, b.ctx, "the refused post", fmt.Sprintf(`location.href === %q`, dev.base+"/keys"))
	if status := eval[int](b, `performance.getEntriesByType("navigation")[0].responseStatus`); status != http.StatusForbidden {
		t.Errorf("the cross-site post answered %d, want 403", status)
	}
	b.visit("/keys", http.StatusOK)
	if status := eval[int](b, `fetch("/keys", {method: "POST", body: new URLSearchParams({name: "no token"})}).then((r) => r.status)`); status != http.StatusForbidden {
		t.Errorf("a post without the CSRF token answered %d, want 403", status)
	}
	if after := len(listKeys(t, sdk)); after != before {
		t.Errorf("the refused posts made keys: %d before, %d after", before, after)
	}

	// Sign out in another tab: the session is gone, and the task list open
	// in the first tab goes to the sign-in page by itself.
	b.visit("/", http.StatusOK)
	waitJS(t, b.ctx, "the list following the feed", `document.getElementById("tasks").dataset.live === "feed"`)
	tab, closeTab := chromedp.NewContext(b.ctx)
	defer closeTab()
	if err := chromedp.Do(tab, chromedp.Navigate(dev.base+"/keys"), chromedp.Click(chromedp.CSS(`.signout button`))); err != nil {
		t.Fatalf("sign out in another tab: %v", err)
	}
	waitJS(t, tab, "the other tab's sign-in page", `location.pathname === "/login"`)
	waitJS(t, b.ctx, "the task list gone to the sign-in page", `location.pathname === "/login"`)
	b.do("open / again", chromedp.Navigate(dev.base+"/"))
	if loc := eval[string](b, `location.pathname`); loc != "/login" {
		t.Errorf("signed out, / went to %s", loc)
	}
}

// checkCanonicalization: the page's RFC 8785 canonicalization writes what
// the server's (gowebpki/jcs) writes, for values that trip up naive ones.
func checkCanonicalization(t *testing.T, b *dashboardBrowser) {
	t.Helper()
	inputs := []string{
		`{"b":1,"a":{"d":[3,2,{"z":null,"y":true}],"c":"x"}}`,
		`{"\u20ac":1,"\r":2,"1":3,"\ud83d\ude00":4,"\u0080":5,"a":6}`,
		`[1e21,1e-7,0.1,-0,123456789012345,5e-324,1.7976931348623157e308,100,0.000001]`,
		`"line\nbreak \"quoted\" \u001f \u007f \u2028 é"`,
		`{"data":"step 1 of 8\n","offset":0,"stream":"stdout"}`,
	}
	got := eval[[]string](b, fmt.Sprintf(`%s.map((s) => canonicalize(JSON.parse(s)))`, mustJSON(t, inputs)))
	for i, in := range inputs {
		want, err := jcs.Transform([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got[i] != string(want) {
			t.Errorf("canonical form of %s: the page writes %s, jcs %s", in, got[i], want)
		}
	}
}

// createdArgs returns the mock arguments a task was created with, as its
// task.created event holds them.
func createdArgs(t *testing.T, sdk *client.Client, taskID uuid.UUID) domain.MockArgs {
	t.Helper()
	page, err := sdk.TaskEvents(t.Context(), taskID, client.EventsOptions{Limit: 1})
	if err != nil || len(page.Events) == 0 || page.Events[0].Type != domain.TaskCreatedType {
		t.Fatalf("task %s's first event: %+v, %v", taskID, page.Events, err)
	}
	var created struct {
		Args domain.MockArgs `json:"args"`
	}
	if err := json.Unmarshal(page.Events[0].Payload, &created); err != nil {
		t.Fatal(err)
	}
	return created.Args
}

// tamperPayload rewrites the payload of event seq of stream in the SQLite
// file at path, as someone with write access to the file could: dropping
// the append-only trigger first.
func tamperPayload(t *testing.T, path, stream string, seq int64) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(t.Context(), `DROP TRIGGER IF EXISTS events_prune_only`); err != nil {
		t.Fatal(err)
	}
	res, err := db.ExecContext(t.Context(), `UPDATE events SET payload = ? WHERE stream_id = ? AND seq = ?`,
		[]byte(`{"data":"forged\n","offset":0,"stream":"stdout"}`), stream, seq)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tampered with %d rows", n)
	}
}

// listKeys returns the tenant's API keys.
func listKeys(t *testing.T, c *client.Client) []api.Key {
	t.Helper()
	keys, err := c.ListAPIKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// keyIDNamed returns the id of the tenant's key called name.
func keyIDNamed(t *testing.T, c *client.Client, name string) string {
	t.Helper()
	for _, k := range listKeys(t, c) {
		if k.Name == name {
			return k.ID
		}
	}
	t.Fatalf("no key %q", name)
	return ""
}

// dashboardHTTP is a plain HTTP client of a dev process's dashboard that
// keeps the session cookie itself (so that a test can replay an old one)
// and never follows redirects.
type dashboardHTTP struct {
	t      *testing.T
	base   string
	cookie string
	hc     *http.Client
}

// csrfField finds a page's CSRF token.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// pageAnswer is what dashboardHTTP.send returns of an answer.
type pageAnswer struct {
	StatusCode int
	Header     http.Header
	cookies    []*http.Cookie
}

// Cookies returns the cookies the answer sets.
func (a *pageAnswer) Cookies() []*http.Cookie { return a.cookies }

// send sends a request with cookie (the session's when empty), keeps the
// session cookie it sets, and returns the answer and its body.
func (d *dashboardHTTP) send(method, path, cookie string, form url.Values) (*pageAnswer, string) {
	d.t.Helper()
	if cookie == "" {
		cookie = d.cookie
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(d.t.Context(), method, d.base+path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.Header.Set("Cookie", dashboard.CookieName+"="+cookie)
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == dashboard.CookieName {
			d.cookie = c.Value
		}
	}
	return &pageAnswer{StatusCode: resp.StatusCode, Header: resp.Header, cookies: resp.Cookies()}, string(b)
}

// csrf returns the CSRF token of the page at path.
func (d *dashboardHTTP) csrf(path string) string {
	d.t.Helper()
	_, body := d.send(http.MethodGet, path, "", nil)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		d.t.Fatalf("%s has no CSRF token", path)
	}
	return m[1]
}

// TestDashboardSession: the dashboard's session follows the API's tokens.
// With access tokens that expire at once, every request refreshes the
// session, and requests that replay one cookie at the same moment share
// its one refresh (each refresh token works once); a stream through the
// dashboard ends with its access token; a sign-in never redirects off the
// site; after sign-out the old cookie no longer works, for pages and
// streams; and sign-in attempts are held to the API's per-address limit.
func TestDashboardSession(t *testing.T) {
	t.Parallel()
	dev := launchDev(t, t.TempDir(), processLogs(t), []string{"JWT_EXPIRY_SECONDS=1"})
	var creds devCredentials
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dev.dataDir, "dev-credentials.json"))), &creds); err != nil {
		t.Fatal(err)
	}
	d := &dashboardHTTP{t: t, base: dev.base, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	resp, _ := d.send(http.MethodPost, "/login", "", url.Values{"csrf": {d.csrf("/login")}, "email": {creds.Email}, "password": {creds.Password}, "next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in answered %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	signedIn := d.cookie
	if c := resp.Cookies(); len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || c[0].Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure in dev", c)
	}

	// Two requests with the same cookie at once: both refresh it, through
	// one refresh.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Go(func() {
			r := &dashboardHTTP{t: t, base: dev.base, hc: d.hc}
			resp, _ := r.send(http.MethodGet, "/", signedIn, nil)
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusOK {
		t.Fatalf("concurrent requests with one cookie answered %v", statuses)
	}
	resp, body := d.send(http.MethodGet, "/", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Tasks</h1>") {
		t.Fatalf("the task list answered %d", resp.StatusCode)
	}
	if d.cookie == signedIn {
		t.Error("the session was not refreshed")
	}

	// A stream through the dashboard ends when the session's access token
	// does (here at once), so that the browser comes back through the
	// session to go on.
	streamThrough := func(cookie string) (int, time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, dev.base+dashboard.APIPrefix+"/v1/events?after=now", nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Cookie", dashboard.CookieName+"="+cookie)
		began := time.Now()
		resp, err := d.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatalf("the stream through the dashboard did not end by itself: %v", err)
		}
		return resp.StatusCode, time.Since(began)
	}
	if status, took := streamThrough(d.cookie); status != http.StatusOK || took > 5*time.Second {
		t.Errorf("a stream through the dashboard answered %d and lasted %s; want 200, ended with its 1 s access token", status, took)
	}

	// Sign out: an old copy of the cookie is signed out too (its refresh
	// token is revoked and its access token expired).
	old := d.cookie
	resp, _ = d.send(http.MethodPost, "/logout", "", url.Values{"csrf": {d.csrf("/")}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("sign-out answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ = d.send(http.MethodGet, "/", old, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		_, b := d.send(http.MethodGet, "/", old, nil)
		t.Errorf("the old cookie after sign-out answered %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), b)
	}
	if status, _ := streamThrough(old); status != http.StatusUnauthorized {
		t.Errorf("a stream through the dashboard with the old cookie after sign-out answered %d, want 401", status)
	}

	// Wrong passwords, again and again: the API's sign-in limit answers.
	token := d.csrf("/login")
	for i := range readapi.DefaultAuthLimit.Burst + 1 {
		resp, body = d.send(http.MethodPost, "/login", "", url.Values{"csrf": {token}, "email": {creds.Email}, "password": {"wrong password"}})
		if resp.StatusCode == http.StatusTooManyRequests {
			if !strings.Contains(body, `role="alert"`) {
				t.Error("the rate-limited sign-in page says nothing")
			}
			return
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d answered %d", i, resp.StatusCode)
		}
	}
	t.Fatal("sign-in attempts were never limited")
}

// TestDashboardInServe: serve has the dashboard too: registration through
// its form, a Secure cookie, and the cookie sealed by one API process
// works on another (they share
// JWT_SECRET and keep no session state), where the start form starts a
// task that the first process shows.
func TestDashboardInServe(t *testing.T) {
	t.Parallel()
	env := prodEnv(t, testpg.NewDatabase(t, testpg.Fast), testredis.URL(t))
	apiA := startProc(t, env, "serve", "-port", "0")
	apiB := startProc(t, env, "serve", "-port", "0")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	a := &dashboardHTTP{t: t, base: apiA.base, hc: hc}
	form := url.Values{"csrf": {a.csrf("/register")}, "email": {"web@example.com"}, "password": {"correct horse battery"}, "tenant_name": {"web"}}
	resp, _ := a.send(http.MethodPost, "/register", "", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("registration answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The same address again: the API's explanation, on the form.
	form.Set("csrf", a.csrf("/register"))
	if resp, body := a.send(http.MethodPost, "/register", "", form); resp.StatusCode != http.StatusConflict || !strings.Contains(body, `role="alert"`) {
		t.Errorf("a second registration answered %d", resp.StatusCode)
	}
	if c := resp.Cookies(); len(c) != 1 || !c[0].Secure || !c[0].HttpOnly {
		t.Fatalf("serve's session cookie %+v is not Secure and HttpOnly", c)
	}

	b := &dashboardHTTP{t: t, base: apiB.base, hc: hc, cookie: a.cookie}
	resp, body := b.send(http.MethodPost, "/tasks", "", url.Values{"csrf": {b.csrf("/tasks/new")}, "adapter": {"mock"}, "name": {"across"}, "args.steps": {"2"}, "args.interval_ms": {"10"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/tasks/") {
		t.Fatalf("the start form on API B answered %d to %q: %s", resp.StatusCode, loc, body)
	}
	a.cookie = b.cookie
	if resp, body = a.send(http.MethodGet, loc, "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>across</h1>") {
		t.Fatalf("API A shows the task started on API B with %d", resp.StatusCode)
	}
}
