package dashboard

import "github.com/go-chi/chi/v5"

// settingsRoutes adds the tenant's pages beyond its tasks and keys to the
// signed-in router r: members and invitations, secrets, webhooks, usage
// and billing.
func (d *dashboard) settingsRoutes(r chi.Router) {
	r.Get("/members", d.membersPage)
	r.Post("/members", d.invite)
	r.Post("/members/{user}/role", d.changeRole)
	r.Post("/members/{user}/remove", d.removeMember)
	r.Post("/members/invitations/{id}/revoke", d.revokeInvitation)
	r.Post("/invitations/{id}/accept", d.acceptInvitation)
	r.Post("/invitations/{id}/decline", d.declineInvitation)

	r.Get("/secrets", d.secretsPage)
	r.Post("/secrets", d.setSecret)
	r.Post("/secrets/{name}/delete", d.deleteSecret)

	r.Get("/webhooks", d.webhooksPage)
	r.Post("/webhooks", d.createWebhook)
	r.Get("/webhooks/{id}", d.webhookPage)
	r.Post("/webhooks/{id}", d.changeWebhook)
	r.Post("/webhooks/{id}/rotate", d.rotateWebhookSecret)
	r.Post("/webhooks/{id}/test", d.testWebhook)
	r.Post("/webhooks/{id}/redeliver", d.redeliverWebhook)
	r.Post("/webhooks/{id}/delete", d.deleteWebhook)

	r.Get("/usage", d.usagePage)
	r.Post("/billing/checkout", d.checkout)
	r.Post("/billing/portal", d.portal)
}
