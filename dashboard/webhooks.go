package dashboard

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/api"
)

// webhooksPage is the data of the webhooks template.
type webhooksPage struct {
	Webhooks []api.Webhook
	// Created is the endpoint just created, with its secret: shown once.
	Created                  *api.Webhook
	URL, Events, Description string
	Error                    string
}

// title implements titled.
func (webhooksPage) title() string { return "Webhooks" }

// webhookPage is the data of the webhook template: one endpoint and a
// page of its delivery log.
type webhookPage struct {
	Webhook    api.Webhook
	Deliveries []api.WebhookDelivery
	// NextBefore continues the log (0: no older page).
	NextBefore int64
	// Secret is the endpoint's new secret after a rotation: shown once.
	Secret string
	// Notice says what the last action did.
	Notice string
	Error  string
}

// title implements titled.
func (p webhookPage) title() string { return "Webhook " + p.Webhook.URL }

// deliveriesShown is how many deliveries a page of the log shows.
const deliveriesShown = 50

// webhooksPage lists the tenant's endpoints.
func (d *dashboard) webhooksPage(w http.ResponseWriter, r *http.Request) {
	d.showWebhooks(w, r, http.StatusOK, webhooksPage{Events: "*"})
}

// showWebhooks renders the webhooks page p with the tenant's endpoints.
func (d *dashboard) showWebhooks(w http.ResponseWriter, r *http.Request, status int, p webhooksPage) {
	hooks, err := state(r).c.ListWebhooks(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	p.Webhooks = hooks
	d.render(w, r, status, "webhooks", p)
}

// eventPatterns splits a form's list of event patterns (separated by
// commas, spaces or lines).
func eventPatterns(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}

// createWebhook registers an endpoint and shows its secret, once.
func (d *dashboard) createWebhook(w http.ResponseWriter, r *http.Request) {
	p := webhooksPage{URL: strings.TrimSpace(r.PostFormValue("url")), Events: r.PostFormValue("events"), Description: r.PostFormValue("description")}
	hook, err := state(r).c.CreateWebhook(r.Context(), api.CreateWebhookRequest{URL: p.URL, Events: eventPatterns(p.Events), Description: p.Description})
	if err != nil {
		p.Error = problemMessage(err)
		d.showWebhooks(w, r, statusOf(err), p)
		return
	}
	d.showWebhooks(w, r, http.StatusOK, webhooksPage{Created: &hook, Events: "*"})
}

// webhookPage shows one endpoint and its delivery log (?before= pages
// back).
func (d *dashboard) webhookPage(w http.ResponseWriter, r *http.Request) {
	d.showWebhook(w, r, http.StatusOK, webhookPage{})
}

// showWebhook renders the webhook page p with the endpoint of the path
// and a page of its delivery log.
func (d *dashboard) showWebhook(w http.ResponseWriter, r *http.Request, status int, p webhookPage) {
	c, id := state(r).c, chi.URLParam(r, "id")
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			d.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Bad request",
				Message: "before must be a positive whole number: the position the log's Older link gives."})
			return
		}
		before = n
	}
	hook, err := c.GetWebhook(r.Context(), id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	log, err := c.ListWebhookDeliveries(r.Context(), id, before, deliveriesShown)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	p.Webhook, p.Deliveries = hook, log.Deliveries
	if log.NextBefore != nil {
		p.NextBefore = *log.NextBefore
	}
	d.render(w, r, status, "webhook", p)
}

// changeWebhook replaces an endpoint's events and description.
func (d *dashboard) changeWebhook(w http.ResponseWriter, r *http.Request) {
	events, desc := eventPatterns(r.PostFormValue("events")), r.PostFormValue("description")
	_, err := state(r).c.ChangeWebhook(r.Context(), chi.URLParam(r, "id"), api.ChangeWebhookRequest{Events: &events, Description: &desc})
	d.afterWebhook(w, r, err, "The endpoint is changed.")
}

// rotateWebhookSecret gives an endpoint a new secret and shows it, once.
func (d *dashboard) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	hook, err := state(r).c.RotateWebhookSecret(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		d.afterWebhook(w, r, err, "")
		return
	}
	d.showWebhook(w, r, http.StatusOK, webhookPage{Secret: hook.Secret,
		Notice: "The secret is rotated; the previous one signs beside it until " + hook.PreviousSecretValidUntil.UTC().Format("2006-01-02 15:04:05Z") + "."})
}

// testWebhook sends a test event to the endpoint.
func (d *dashboard) testWebhook(w http.ResponseWriter, r *http.Request) {
	sent, err := state(r).c.SendWebhookTestEvent(r.Context(), chi.URLParam(r, "id"))
	d.afterWebhook(w, r, err, "A test event is on its way: delivery "+sent.DeliveryID+".")
}

// redeliverWebhook delivers one delivery of the log again.
func (d *dashboard) redeliverWebhook(w http.ResponseWriter, r *http.Request) {
	_, err := state(r).c.RedeliverWebhook(r.Context(), chi.URLParam(r, "id"), api.RedeliverRequest{DeliveryID: r.PostFormValue("delivery_id")})
	d.afterWebhook(w, r, err, "Delivery "+r.PostFormValue("delivery_id")+" is delivered again.")
}

// deleteWebhook deletes an endpoint.
func (d *dashboard) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := state(r).c.DeleteWebhook(r.Context(), chi.URLParam(r, "id")); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
}

// afterWebhook answers an action on an endpoint: its page with notice, or
// with the API's explanation when it refused (not found is not found).
func (d *dashboard) afterWebhook(w http.ResponseWriter, r *http.Request, err error, notice string) {
	if err != nil && statusOf(err) == http.StatusBadRequest {
		d.showWebhook(w, r, http.StatusBadRequest, webhookPage{Error: problemMessage(err)})
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.showWebhook(w, r, http.StatusOK, webhookPage{Notice: notice})
}
