// Package fly is the executor of the "fly" adapter: it runs a task's work
// on Fly.io through the Fly Machines API (https://api.machines.dev/v1), with
// the tenant's Fly API token (domain.FlyArgs's token, normally a secret
// reference that the worker resolves).
//
// # Mode run
//
// A machine of args.app is created from args.image, with args.command as
// its init.cmd, args.env, args.region and args.guest (shared-cpu-1x, 256 MB
// by default; the plan's memory and CPU limits bound it), restart policy
// "no", auto_destroy, and the metadata axontask_task_id and
// axontask_attempt. Its logs (Fly's logs API, polled every
// Config.PollInterval with the machine's id as instance) become the task's
// stdout, line by line; Fly's logs do not tell stdout from stderr. Its
// state changes (created, started, stopped) become progress. The exit code
// is the one of the machine's latest exit event. At the end the machine is
// destroyed, whatever happened (Fly also destroys it by itself once it
// stops, thanks to auto_destroy). When the task is canceled or times out,
// the machine is stopped (SIGTERM, SIGKILL after Config.GracePeriod) and
// destroyed.
//
// Before creating a machine, Run looks for one with the task's id in its
// metadata: a machine that an earlier attempt created (its worker was lost)
// is followed again rather than created twice, and its logs are read from
// their start; one that ran to its end and is destroyed gives its exit
// code; one stopped on request (a canceled attempt) does not count. A
// create that fails in a way that may have created the machine anyway
// (5xx, no answer, the task canceled meanwhile) is looked up again before
// it is retried, and what it left is destroyed when Run gives up.
//
// # Mode deploy
//
// Every machine of args.app (the ones fly runs created excepted) is moved
// to args.image, one at a time, in the order the API lists them: the
// machine's config is updated with the new image (everything else kept),
// the new version is awaited in state started (/wait with its
// instance_id), then its health checks must all be passing, within
// args.health_timeout_s. A machine that was stopped or suspended gets the
// image and stays so (skip_launch). Each step is a progress event. The first machine
// that fails (stops, does not start, or keeps a check failing) stops the
// deploy: the task fails with exit code 1, and its stderr lists each
// machine with the image and state it was left in.
//
// # Errors and retries
//
// 429s are retried after Retry-After (at most Config.RetryMax), 5xx and
// failed connections with exponential backoff, up to Config.MaxAttempts
// calls. A 401 or 403 (the token), a 404 (the app) and a refused config
// are *executors.StartError saying what to fix. The token is sent in the
// Authorization header only; it is never logged nor reported.
//
// The executor has been tested against internal/flymachines, a double of
// the API, not against Fly itself.
package fly
