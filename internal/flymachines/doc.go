// Package flymachines is an HTTP double of the Fly Machines API, for tests.
// It is not Fly: it follows the published description of the API (v1,
// https://docs.machines.dev, as the superfly/fly-go flaps client of
// 2025–2026 calls it) for the calls the fly executor makes, and its
// machines run a small scripted program instead of an image.
//
// Modelled, under /v1 (the Machines API's base, https://api.machines.dev):
//
//   - POST /v1/apps/{app}/machines: create a machine ({"config": {"image",
//     "init": {"cmd", "exec"}, "env", "guest": {"cpu_kind", "cpus",
//     "memory_mb"}, "auto_destroy", "restart": {"policy"}, "metadata",
//     "checks"}, "region", "name", "skip_launch"}); it starts at once
//     (created → starting → started) unless skip_launch.
//   - GET /v1/apps/{app}/machines: list; destroyed machines only with
//     include_deleted=true; filters region, state, and metadata.{key}={value}.
//   - GET /v1/apps/{app}/machines/{id}: the machine, with "events" (newest
//     first: launch, start, exit with request.exit_event.exit_code, update,
//     destroy …) and "checks" ([{name, status, output}]).
//   - POST /v1/apps/{app}/machines/{id}: update the config; the machine
//     restarts as a new version (new instance_id and version), or stays
//     stopped with skip_launch.
//   - GET /v1/apps/{app}/machines/{id}/wait?state=…&timeout=…&instance_id=…
//     (or version=…): 200 {"ok": true} once the machine (that version, when
//     given) is in one of the states (state may repeat), 408 after timeout
//     seconds (1 to 60, default 60).
//   - POST /v1/apps/{app}/machines/{id}/stop {"signal", "timeout"}: the
//     program ends with 128+15 (exit_event.requested_stop true).
//   - DELETE /v1/apps/{app}/machines/{id}?force=true (or kill=true):
//     destroy; without force a started machine answers 412.
//
// Errors are JSON {"error": "…"} with the real statuses: 401 for a wrong
// token (Authorization: Bearer <token> or FlyV1 <token>), 404 for an
// unknown app or machine, 400 for a bad body, 408, 412.
//
// Logs are not part of the Machines API: Fly serves them from its own API
// (https://api.fly.io/api/v1/apps/{app}/logs?instance=…&next_token=…, which
// flyctl's logs command polls). The double serves that call too, on the
// same listener: {"data": [{"id", "type": "logs", "attributes":
// {"timestamp", "message", "level", "instance", "region"}}], "meta":
// {"next_token"}}, at most 100 entries a page, instance being the machine's
// id. Unlike Fly's, its logs are complete and never late.
//
// Not modelled: leases (the nonce is optional on updates, flaps sends it
// only when it holds one), volumes, services, suspend, the GraphQL API.
//
// A machine's program is its init.cmd (else init.exec), one instruction
// per element: "print:TEXT" writes a log line, "lines:N" writes N lines
// "line 1" … "line N", "printenv:NAME" writes NAME's value, "sleep:DUR"
// waits (a Go duration), "exit:N" ends with code N, "exit-if-image:TEXT"
// ends with code 1 when the machine's image contains TEXT, "serve" runs
// until the machine is stopped; the end of the program is exit 0. An empty program
// serves. A machine's health checks (config.checks) are critical until
// its program serves, then passing, or critical still when its image's
// reference contains "bad-health". An image whose reference contains
// "crash" exits 1 as soon as it starts.
//
// Tests inject faults with Server.Fail (429 with Retry-After, 5xx) and
// inspect what is left with Server.Machines.
package flymachines
