package readapi

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/webhooks"
)

// The webhook endpoints' calls (serveJSON): New's routes say who may call
// each and with which status it answers.

// webhookResponse describes a webhook endpoint; res.Secret's key, when
// there is one, is shown this once.
func webhookResponse(res commands.WebhookResult) wire.Webhook {
	info := res.Info
	out := wire.Webhook{ID: info.ID, URL: info.Settings.URL, Events: append([]string{}, info.Settings.Events...), Description: info.Settings.Description,
		Enabled: info.Settings.Enabled, DisabledReason: info.DisabledReason, CreatedBy: info.CreatedBy,
		CreatedAt: wire.Time{Time: info.CreatedAt}, UpdatedAt: wire.Time{Time: info.UpdatedAt},
		PreviousSecretValidUntil: wire.Time{Time: res.Secret.PreviousValidUntil}}
	if res.Secret.Key != nil {
		out.Secret = webhooks.FormatSecret(res.Secret.Key)
	}
	return out
}

// webhookManager admits the callers that may manage webhooks, when
// webhooks are served at all (Config.Webhooks; 404 otherwise).
func (a *api) webhookManager(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	if a.cfg.Webhooks.Create == nil {
		return commands.Principal{}, errNoRoute
	}
	return a.caller(w, r, domain.ActionManageWebhooks)
}

func (a *api) createWebhook(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.CreateWebhookRequest) (wire.Webhook, error) {
	enabled := req.Enabled == nil || *req.Enabled
	res, err := a.cfg.Webhooks.Create.Handle(r.Context(), commands.CreateWebhook{By: p, Meta: requestMeta(r, p),
		Settings: domain.WebhookSettings{URL: req.URL, Events: req.Events, Description: req.Description, Enabled: enabled}})
	return webhookResponse(res), err
}

func (a *api) listWebhooks(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.WebhookList, error) {
	hooks, err := a.cfg.Webhooks.List.Handle(r.Context(), commands.ListWebhooks{By: p})
	out := wire.WebhookList{Webhooks: make([]wire.Webhook, len(hooks))}
	for i, h := range hooks {
		out.Webhooks[i] = webhookResponse(commands.WebhookResult{Info: h})
	}
	return out, err
}

func (a *api) getWebhook(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.Webhook, error) {
	info, err := a.cfg.Webhooks.Get.Handle(r.Context(), commands.GetWebhook{By: p, WebhookID: chi.URLParam(r, "id")})
	return webhookResponse(commands.WebhookResult{Info: info}), err
}

func (a *api) changeWebhook(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.ChangeWebhookRequest) (wire.Webhook, error) {
	res, err := a.cfg.Webhooks.Change.Handle(r.Context(), commands.ChangeWebhook{By: p, WebhookID: chi.URLParam(r, "id"), Meta: requestMeta(r, p),
		URL: req.URL, Events: req.Events, Description: req.Description, Enabled: req.Enabled})
	return webhookResponse(res), err
}

func (a *api) rotateWebhookSecret(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.Webhook, error) {
	res, err := a.cfg.Webhooks.RotateSecret.Handle(r.Context(), commands.RotateWebhookSecret{By: p, WebhookID: chi.URLParam(r, "id"), Meta: requestMeta(r, p)})
	return webhookResponse(res), err
}

func (a *api) deleteWebhook(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (noBody, error) {
	return a.cfg.Webhooks.Delete.Handle(r.Context(), commands.DeleteWebhook{By: p, WebhookID: chi.URLParam(r, "id"), Meta: requestMeta(r, p)})
}

func (a *api) listWebhookDeliveries(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.WebhookDeliveryList, error) {
	q := commands.ListWebhookDeliveries{By: p, WebhookID: chi.URLParam(r, "id")}
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return wire.WebhookDeliveryList{}, &domain.ValidationError{Field: "before", Reason: "must be a feed position (the next_before of the page before)"}
		}
		q.Before = n
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > eventstore.MaxWebhookDeliveriesListed {
			return wire.WebhookDeliveryList{}, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("must be a number from 1 to %d", eventstore.MaxWebhookDeliveriesListed)}
		}
		q.Limit = n
	}
	list, err := a.cfg.Webhooks.Deliveries.Handle(r.Context(), q)
	out := wire.WebhookDeliveryList{Deliveries: make([]wire.WebhookDelivery, len(list))}
	for i, d := range list {
		out.Deliveries[i] = deliveryResponse(d)
	}
	limit := cmp.Or(q.Limit, commands.DefaultDeliveriesLimit)
	if len(list) == limit {
		next := list[len(list)-1].Position
		out.NextBefore = &next
	}
	return out, err
}

func deliveryResponse(d commands.DeliveryInfo) wire.WebhookDelivery {
	out := wire.WebhookDelivery{ID: d.ID, Position: d.Position, StreamID: d.StreamID, Seq: d.Seq, EventType: string(d.EventType), State: string(d.State),
		CreatedAt: wire.Time{Time: d.CreatedAt}, UpdatedAt: wire.Time{Time: d.UpdatedAt}, Attempts: make([]wire.WebhookAttempt, len(d.Attempts))}
	if d.State == eventstore.DeliveryPending {
		out.NextAttemptAt = wire.Time{Time: d.NextAttemptAt}
	}
	for i, at := range d.Attempts {
		out.Attempts[i] = wire.WebhookAttempt{Attempt: at.Attempt, At: wire.Time{Time: at.At}, StatusCode: at.StatusCode, LatencyMS: at.Latency.Milliseconds(),
			Response: at.Response, Error: at.Error}
	}
	return out
}

func (a *api) redeliverWebhook(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.RedeliverRequest) (wire.Redelivered, error) {
	n, err := a.cfg.Webhooks.Redeliver.Handle(r.Context(), commands.RedeliverWebhook{By: p, WebhookID: chi.URLParam(r, "id"), DeliveryID: req.DeliveryID, Since: req.Since.Time})
	return wire.Redelivered{Redelivered: n}, err
}

func (a *api) sendTestEvent(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.TestEventSent, error) {
	id := chi.URLParam(r, "id")
	eventID, err := a.cfg.Webhooks.SendTest.Handle(r.Context(), commands.SendTestEvent{By: p, WebhookID: id, Meta: requestMeta(r, p)})
	return wire.TestEventSent{EventID: eventID.String(), DeliveryID: webhooks.DeliveryID(id, eventID)}, err
}
