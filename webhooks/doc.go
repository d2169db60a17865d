// Package webhooks delivers a tenant's events to the HTTP endpoints it
// registered, as the Standard Webhooks specification says
// (https://www.standardwebhooks.com/), so that receivers verify deliveries
// with an off-the-shelf library: Sign makes the webhook-signature header,
// and Guard is the outbound HTTP client that refuses internal addresses
// after DNS resolution, on every connection (the SSRF guard).
// docs/webhooks.md is the user's side of it.
package webhooks
