package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testwait"
)

// newDashboardBrowser starts Chromium (with axe-core at hand) for dev's
// dashboard.
func newDashboardBrowser(t *testing.T, dev *devProc) *dashboardBrowser {
	t.Helper()
	browserPath := chromium(t)
	axe, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatal(err)
	}
	return &dashboardBrowser{t: t, ctx: newBrowser(t, browserPath), base: dev.base, axe: string(axe)}
}

// signIn signs in on the sign-in page the browser is on as dev's local
// user, with the keyboard alone, and waits for the task list.
func (b *dashboardBrowser) signIn(dev *devProc) {
	b.t.Helper()
	var creds devCredentials
	if err := json.Unmarshal([]byte(readFile(b.t, filepath.Join(dev.dataDir, "dev-credentials.json"))), &creds); err != nil {
		b.t.Fatal(err)
	}
	b.signInAs(creds.Email, creds.Password)
}

// signInAs signs in on the sign-in page the browser is on, with the
// keyboard alone, and waits for the task list.
func (b *dashboardBrowser) signInAs(email, password string) {
	b.t.Helper()
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password+kb.Enter),
	)
	waitJS(b.t, b.ctx, "the task list", `location.pathname === "/" && document.querySelector("h1")?.textContent === "Tasks"`)
}

// submit runs actions that submit a form and waits for the answer's page:
// a document other than the one the form was on.
func (b *dashboardBrowser) submit(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	eval[bool](b, `window.beforeSubmit = true`)
	b.do(what, actions...)
	waitJS(b.t, b.ctx, "the answer to "+what, `window.beforeSubmit === undefined && document.readyState === "complete"`)
}

// otherSession returns a tab of the same browser with cookies of its own
// (a new browser context): another user's session beside b's.
func (b *dashboardBrowser) otherSession() *dashboardBrowser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	return &dashboardBrowser{t: b.t, ctx: ctx, base: b.base, axe: b.axe}
}

// webhookReceiver is an HTTP server that answers every delivery 200 and
// counts them.
type webhookReceiver struct {
	url string

	mu    sync.Mutex
	types []string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	h := &webhookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type string `json:"type"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		h.mu.Lock()
		h.types = append(h.types, body.Type)
		h.mu.Unlock()
		fmt.Fprint(w, "received by the test")
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook"
	return h
}

// TestDashboardPagesInBrowser drives the tenant's pages beyond its tasks
// in Chromium: invite a member and see the invitation pending; create a
// secret and see its name only; create a webhook endpoint (its secret
// shown once), send it a test event and see the delivery, with its status,
// latency and the receiver's answer, in the endpoint's log; see the usage
// charts as SVG and the plan's estimate. The invitee, in a session of
// their own, accepts the invitation from "Invitations for you" and, signed
// in to the tenant as a viewer, opens every page their navigation offers
// and the ones it does not (refused). Each page, the owner's and the
// viewer's, has the CSP header, passes axe-core and has every control in
// the keyboard's reach, in order (checkKeyboard); another tenant's
// endpoint is not found.
func TestDashboardPagesInBrowser(t *testing.T) {
	t.Parallel()
	dev := launchDev(t, t.TempDir(), processLogs(t), []string{"WEBHOOK_ALLOWED_HOSTS=127.0.0.1", "WEBHOOK_ALLOW_HTTP=true", "USAGE_FLUSH_INTERVAL=200ms"})
	b := newDashboardBrowser(t, dev)
	b.visit("/login", http.StatusOK)
	b.signIn(dev)
	recv := newWebhookReceiver(t)
	sdk, err := client.New(dev.base, client.WithToken(dev.key))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.StartTask(t.Context(), client.StartTaskRequest{Name: "counted", Adapter: domain.AdapterMock}); err != nil {
		t.Fatal(err)
	}

	// The navigation leads to every page.
	nav := eval[[]string](b, `[...document.querySelectorAll("nav a")].map((a) => a.getAttribute("href"))`)
	for _, want := range []string{"/members", "/secrets", "/webhooks", "/usage"} {
		if !strings.Contains(strings.Join(nav, " "), want) {
			t.Errorf("the navigation %v has no %s", nav, want)
		}
	}

	// Members: invite someone; the invitation is pending.
	b.visit("/members", http.StatusOK)
	b.do("invite",
		chromedp.SendKeys(chromedp.CSS(`#invite-email`), "colleague@example.com"),
		chromedp.SetValue(chromedp.CSS(`#invite-role`), string(domain.RoleViewer)),
		chromedp.Click(chromedp.CSS(`#invite-form button[type="submit"]`)),
	)
	waitJS(t, b.ctx, "the pending invitation", `[...document.querySelectorAll("#invitations td")].some((td) => td.textContent === "colleague@example.com")`)
	b.checkPage("the members page with an invitation")

	// The invitee, in a session of their own, finds the invitation on
	// their members page ("Invitations for you") and accepts it with the
	// keyboard: they are a viewer of the dev tenant.
	invitee, err := client.New(dev.base)
	if err != nil {
		t.Fatal(err)
	}
	const inviteeEmail, inviteePassword = "colleague@example.com", "colleague's long password"
	if _, err := invitee.Register(t.Context(), api.RegisterRequest{Email: inviteeEmail, Password: inviteePassword, TenantName: "colleague"}); err != nil {
		t.Fatal(err)
	}
	v := b.otherSession()
	v.visit("/login", http.StatusOK)
	v.signInAs(inviteeEmail, inviteePassword)
	v.visit("/members", http.StatusOK)
	if tenants := eval[[]string](v, `[...document.querySelectorAll("#inbox tbody tr td:first-child")].map((td) => td.textContent)`); len(tenants) != 1 {
		t.Fatalf("the invitee's invitations for them: %v, want the dev tenant's", tenants)
	}
	v.tabTo(`#inbox button[aria-label^="Accept"]`)
	v.do("accept with Enter", chromedp.KeyEvent(kb.Enter))
	waitJS(t, v.ctx, "the acceptance", `document.querySelector(".created")?.textContent.includes("as viewer") === true`)
	v.checkPage("the members page after the acceptance")
	members, err := sdk.ListMembers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(members, func(m api.Member) bool { return m.Email == inviteeEmail && m.Role == domain.RoleViewer }) {
		t.Errorf("the dev tenant's members after the acceptance: %+v", members)
	}

	// Signed in to the dev tenant, the viewer's navigation has neither
	// secrets nor webhooks, their pages show the API's refusal, the
	// members page has no invite form and the usage page no billing; every
	// page they can open passes axe-core and the keyboard check.
	v.visit(eval[string](v, `document.querySelector('.created a[href^="/login?tenant="]').getAttribute("href")`), http.StatusOK)
	if eval[string](v, `document.querySelector('input[name="tenant_id"]')?.value ?? ""`) == "" {
		t.Fatal("the sign-in to a tenant has no tenant_id")
	}
	v.signInAs(inviteeEmail, inviteePassword)
	viewerNav := eval[[]string](v, `[...document.querySelectorAll("nav[aria-label=Main] a")].map((a) => a.getAttribute("href"))`)
	if slices.Contains(viewerNav, "/secrets") || slices.Contains(viewerNav, "/webhooks") {
		t.Errorf("the viewer's navigation %v offers secrets or webhooks", viewerNav)
	}
	for _, path := range viewerNav {
		status := http.StatusOK
		if path == "/keys" {
			status = http.StatusForbidden // a viewer manages no keys
		}
		v.visit(path, status)
	}
	v.visit("/members", http.StatusOK)
	if eval[bool](v, `document.getElementById("invite-form") !== null || !document.body.textContent.includes("dev@localhost")`) {
		t.Error("the viewer's members page offers the invite form, or lists not the dev tenant's members")
	}
	for _, alert := range []string{"/secrets", "/webhooks"} {
		v.visit(alert, http.StatusForbidden)
		if !eval[bool](v, `document.querySelector('[role="alert"]') !== null`) {
			t.Errorf("the viewer's %s page does not say why", alert)
		}
	}
	v.visit("/usage", http.StatusOK)
	if eval[bool](v, `document.getElementById("billing") !== null || document.querySelector("svg") === null`) {
		t.Error("the viewer's usage page shows billing, or no charts")
	}

	// The owner makes the viewer a member, invites someone and takes the
	// invitation back, then removes the member.
	memberRole := func(email string) domain.Role {
		t.Helper()
		members, err := sdk.ListMembers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(members, func(m api.Member) bool { return m.Email == email }); i >= 0 {
			return members[i].Role
		}
		return ""
	}
	b.visit("/members", http.StatusOK)
	b.submit("make the viewer a member",
		chromedp.SetValue(chromedp.CSS(`form[action$="/role"]:has(button[aria-label="Change the role of `+inviteeEmail+`"]) select`), string(domain.RoleMember)),
		chromedp.Click(chromedp.CSS(`button[aria-label="Change the role of `+inviteeEmail+`"]`)),
	)
	testwait.For(t, "the viewer made a member", func() bool { return memberRole(inviteeEmail) == domain.RoleMember })
	b.visit("/members", http.StatusOK)
	b.submit("invite another",
		chromedp.SendKeys(chromedp.CSS(`#invite-email`), "another@example.com"),
		chromedp.Click(chromedp.CSS(`#invite-form button[type="submit"]`)),
	)
	if !eval[bool](b, `document.querySelector('button[aria-label="Revoke the invitation of another@example.com"]') !== null`) {
		t.Fatal("the second invitation is not listed")
	}
	b.submit("revoke the invitation", chromedp.Click(chromedp.CSS(`button[aria-label="Revoke the invitation of another@example.com"]`)))
	if eval[bool](b, `[...document.querySelectorAll("#invitations td")].some((td) => td.textContent === "another@example.com")`) {
		t.Error("the revoked invitation is still listed")
	}
	b.submit("remove the member", chromedp.Click(chromedp.CSS(`button[aria-label="Remove `+inviteeEmail+`"]`)))
	testwait.For(t, "the member removed", func() bool { return memberRole(inviteeEmail) == "" })

	// Secrets: the value goes in once and never comes back.
	const value = "s3cr3t-value-never-shown"
	b.visit("/secrets", http.StatusOK)
	b.do("create a secret",
		chromedp.SendKeys(chromedp.CSS(`#secret-name`), "DEPLOY_TOKEN"),
		chromedp.SendKeys(chromedp.CSS(`#secret-value`), value),
		chromedp.Click(chromedp.CSS(`#secret-form button[type="submit"]`)),
	)
	waitJS(t, b.ctx, "the new secret", `document.querySelector('tr[data-secret="DEPLOY_TOKEN"]') !== null`)
	b.checkPage("the secrets page with a new secret")
	if html := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, value) {
		t.Error("the secrets page shows the secret's value")
	}
	b.visit("/secrets", http.StatusOK)
	if html := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, value) || !strings.Contains(html, "DEPLOY_TOKEN") {
		t.Error("the secrets page shows the secret's value, or not its name")
	}
	b.do("delete the secret", chromedp.Click(chromedp.CSS(`tr[data-secret="DEPLOY_TOKEN"] button`)))
	waitJS(t, b.ctx, "the secret gone", `location.pathname === "/secrets" && document.querySelector('tr[data-secret="DEPLOY_TOKEN"]') === null`)

	// Webhooks: create an endpoint (its secret shown once), send a test
	// event, see it delivered in the log.
	b.visit("/webhooks", http.StatusOK)
	b.do("create an endpoint",
		chromedp.SendKeys(chromedp.CSS(`#webhook-url`), recv.url),
		chromedp.SendKeys(chromedp.CSS(`#webhook-description`), "the test's receiver"),
		chromedp.Click(chromedp.CSS(`#webhook-form button[type="submit"]`)),
	)
	waitJS(t, b.ctx, "the new endpoint's secret", `document.getElementById("new-secret")?.value.startsWith("whsec_") === true`)
	firstSecret := eval[string](b, `document.getElementById("new-secret").value`)
	b.checkPage("the webhooks page with a new endpoint")
	b.do("open the endpoint", chromedp.Click(chromedp.CSS(`.created a`)))
	waitJS(t, b.ctx, "the endpoint's page", `document.querySelector("main")?.dataset.webhookId !== undefined`)
	hookID := eval[string](b, `document.querySelector("main").dataset.webhookId`)
	b.visit("/webhooks/"+hookID, http.StatusOK)
	if eval[bool](b, `document.getElementById("new-secret") !== null`) {
		t.Error("the endpoint's page shows its secret again")
	}
	b.do("send a test event", chromedp.Click(chromedp.CSS(`#webhook-test button`)))
	waitJS(t, b.ctx, "the test event's notice", `document.querySelector(".created")?.textContent.includes("test event") === true`)
	for {
		b.do("reload the log", chromedp.Navigate(dev.base+"/webhooks/"+hookID))
		if eval[bool](b, `document.querySelector('#deliveries tr[data-state="succeeded"]') !== null`) {
			break
		}
		if b.ctx.Err() != nil {
			t.Fatal("the test event was never delivered")
		}
	}
	row := eval[[]string](b, `[...document.querySelector('#deliveries tr[data-state="succeeded"]').cells].map((c) => c.textContent.trim())`)
	if row[3] != "200" || !strings.HasSuffix(row[4], " ms") || !strings.Contains(row[5], "received by the test") {
		t.Errorf("the delivery's row says %v; want status 200, a latency and the receiver's answer", row)
	}
	b.visit("/webhooks/"+hookID, http.StatusOK)
	b.do("redeliver", chromedp.Click(chromedp.CSS(`#deliveries tr[data-state] button`)))
	waitJS(t, b.ctx, "the redelivery's notice", `document.querySelector(".created")?.textContent.includes("delivered again") === true`)

	// Edit, rotate the secret (the new one shown once), delete.
	b.visit("/webhooks/"+hookID, http.StatusOK)
	b.submit("edit the endpoint",
		chromedp.SetValue(chromedp.CSS(`#webhook-edit #webhook-description`), "renamed by the test"),
		chromedp.Click(chromedp.CSS(`#webhook-edit button[type="submit"]`)),
	)
	b.visit("/webhooks/"+hookID, http.StatusOK)
	if d := eval[string](b, `document.querySelector("#webhook-edit #webhook-description").value`); d != "renamed by the test" {
		t.Errorf("after the edit, the description is %q", d)
	}
	b.do("rotate the secret", chromedp.Click(chromedp.CSS(`form[action$="/rotate"] button`)))
	waitJS(t, b.ctx, "the rotated secret", `document.getElementById("new-secret")?.value.startsWith("whsec_") === true`)
	if rotated := eval[string](b, `document.getElementById("new-secret").value`); rotated == firstSecret {
		t.Error("the rotation showed the endpoint's first secret again")
	}
	b.visit("/webhooks/"+hookID, http.StatusOK)
	b.do("delete the endpoint", chromedp.Click(chromedp.CSS(`form[action$="/delete"] button`)))
	waitJS(t, b.ctx, "the endpoint list", `location.pathname === "/webhooks"`)
	b.visit("/webhooks/"+hookID, http.StatusNotFound)

	// Usage: one SVG chart per counter, a bar per day, and the estimate;
	// no Stripe links, since billing is off.
	b.visit("/usage", http.StatusOK)
	charts := eval[[]int](b, `[...document.querySelectorAll("figure.chart svg")].map((s) => s.querySelectorAll("rect.bar").length)`)
	days := eval[int](b, `(() => { const d = new Date(); return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(); })()`)
	if len(charts) != 6 {
		t.Fatalf("the usage page has %d charts, want 6", len(charts))
	}
	for _, bars := range charts {
		if bars != days {
			t.Errorf("a chart has %d bars; the month has %d days", bars, days)
		}
	}
	// The task started at the beginning shows once the counters catch up:
	// today's bar is the chart's tallest.
	today := fmt.Sprintf("%s: 1", time.Now().UTC().Format(time.DateOnly))
	for !eval[bool](b, fmt.Sprintf(`[...document.querySelectorAll("#chart-tasks rect.bar title")].some((t) => t.textContent === %q)`, today)) {
		if b.ctx.Err() != nil {
			t.Fatal("the usage chart never showed the task started")
		}
		b.do("reload the usage", chromedp.Navigate(dev.base+"/usage"))
	}
	if h := eval[string](b, `[...document.querySelectorAll("#chart-tasks rect.bar")].find((r) => r.textContent.endsWith(": 1")).getAttribute("height")`); h == "0.0" {
		t.Errorf("today's bar has height %s", h)
	}
	if plan := eval[string](b, `document.getElementById("plan")?.textContent ?? ""`); plan == "" {
		t.Error("the usage page shows no plan to the owner")
	}
	if eval[bool](b, `document.getElementById("stripe") !== null`) {
		t.Error("Stripe links with billing off")
	}
	b.visit("/usage?period=2026-13", http.StatusBadRequest)

	// Another tenant's endpoint is not found.
	other, err := client.New(dev.base, client.WithToken(register(t, dev.base, "elsewhere@example.com")))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := other.CreateWebhook(t.Context(), api.CreateWebhookRequest{URL: recv.url})
	if err != nil {
		t.Fatal(err)
	}
	b.visit("/webhooks/"+theirs.ID, http.StatusNotFound)
}

// TestDashboardStripeLinks: with Stripe billing on, the owner's usage page
// offers Checkout and the portal, and Checkout's form, sent with the
// keyboard, leads to the page Stripe opened (here a fake Stripe API), or
// shows why not; each page passes axe-core and the keyboard check. With
// billing off the same page has neither (TestDashboardPagesInBrowser).
func TestDashboardStripeLinks(t *testing.T) {
	t.Parallel()
	const checkoutURL = "https://checkout.stripe.com/c/pay/cs_test_dashboard"
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/customers":
			fmt.Fprint(w, `{"id":"cus_dashboard","object":"customer"}`)
		case "/v1/checkout/sessions":
			fmt.Fprintf(w, `{"id":"cs_test_dashboard","object":"checkout.session","url":%q}`, checkoutURL)
		default:
			http.Error(w, `{"error":{"message":"not in the fake"}}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(fake.Close)
	dev := launchDev(t, t.TempDir(), processLogs(t), []string{"BILLING_ENABLED=true", "STRIPE_SECRET_KEY=sk_test_123", "STRIPE_WEBHOOK_SECRET=whsec_x",
		"STRIPE_PRICE_PRO=price_pro", "STRIPE_API_URL=" + fake.URL,
		"BILLING_SUCCESS_URL=https://a.example/ok", "BILLING_CANCEL_URL=https://a.example/no", "BILLING_RETURN_URL=https://a.example/"})
	b := newDashboardBrowser(t, dev)
	b.visit("/login", http.StatusOK)
	b.signIn(dev)
	b.visit("/usage", http.StatusOK)
	if !eval[bool](b, `document.querySelector('#stripe form[action="/billing/checkout"]') !== null && document.querySelector('#stripe form[action="/billing/portal"]') !== null`) {
		t.Fatal("the usage page offers no Stripe checkout or portal with billing on")
	}
	checkout := func(plan string) int {
		t.Helper()
		b.do("go to Stripe Checkout for "+plan, chromedp.SetValue(chromedp.CSS(`#checkout-plan`), plan))
		b.tabTo(`form[action="/billing/checkout"] button`)
		// The page before may itself be an answer to a checkout: submit
		// waits for a new document.
		b.submit("the checkout, with Enter", chromedp.KeyEvent(kb.Enter))
		if path := eval[string](b, `location.pathname`); path != "/billing/checkout" {
			t.Fatalf("the checkout's answer is at %s, want /billing/checkout", path)
		}
		return eval[int](b, `performance.getEntriesByType("navigation")[0].responseStatus`)
	}
	if status := checkout("pro"); status != http.StatusOK || eval[string](b, `document.getElementById("stripe-link")?.href ?? ""`) != checkoutURL {
		t.Fatalf("checkout answered %d without the link to Stripe", status)
	}
	b.checkPage("the usage page with the link to Stripe")
	// A plan without a Stripe price: the API's explanation, on the page.
	if status := checkout("ent"); status != http.StatusBadRequest || !eval[bool](b, `document.querySelector('[role="alert"]')?.textContent.includes("no Stripe price") === true`) {
		t.Errorf("checkout of a plan without a price answered %d", status)
	}
	b.checkPage("the usage page with Stripe's refusal")
}
