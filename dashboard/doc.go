// Package dashboard is AxonTask's web dashboard: server-rendered pages
// (html/template, assets embedded) at / in dev and serve, with a little
// plain JavaScript for the live parts (a task's log, its progress and the
// in-page verification of its hash chain).
//
// The dashboard has no read or write path of its own. Every page calls the
// task API in the same process through the Go SDK (package client) over an
// in-process transport, with the signed-in user's access token, so that it
// sees exactly what the API answers (one wire type per resource, the same
// tenant rules, the same errors). The pages' scripts reach the API through
// /dashboard/api/, which forwards to the same handler with the session's
// token.
//
// Sign-in reuses the API's JWT login and refresh: the session cookie
// (HttpOnly, SameSite=Lax, Secure in serve) holds the user's access and
// refresh tokens sealed with AES-GCM under a key derived from the token
// secret, together with the session's CSRF token. Every form and every
// state-changing request carries that CSRF token; cross-origin requests are
// refused outright (net/http's CrossOriginProtection); every answer has a
// strict Content-Security-Policy without inline script and frame-ancestors
// 'none'.
//
// A page is a handler that renders a template of templates/ into the
// shared layout: adding one is a route in New, a handler and a template.
package dashboard
