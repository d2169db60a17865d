// Package docker runs docker tasks: a container per attempt, through the
// Docker Engine API of the worker's engine (Docker, or podman's
// `podman system service`).
//
// The client is github.com/moby/moby/client (with github.com/moby/moby/api
// for the wire types and stdcopy), the module the Moby project publishes
// its Go client as since Docker 29. github.com/docker/docker/client is the
// same code frozen at v28 (+incompatible, no go.mod of its own: it drags
// the whole daemon module into the build graph); moby/moby/client is a
// small module of its own with semantic versions, and it negotiates the
// API version down to 1.40, which covers podman 4 (API 1.41) as well as
// current Docker.
//
// Every container runs:
//   - as a user that is not root: the image's USER when it names one that
//     is not root, else nobody (65534:65534, Config.User) — an image that
//     needs root to run does not run here;
//   - with no capabilities (cap-drop ALL) and no-new-privileges;
//   - with a read-only root filesystem, a writable tmpfs work directory at
//     /work (domain.DockerWorkDir) and a tmpfs /tmp, together bounded by
//     the plan's work directory limit;
//   - with the plan's memory (no swap), CPU, pids, open files and file size
//     bounds, or the lower ones its args ask for;
//   - on no network (network "none") unless its args name a network that
//     the worker's operator allows (Config.Networks) and the tenant's plan
//     allows egress;
//   - with no log driver (its output is read through attach and goes to
//     the task's log only);
//   - labelled with its task, attempt, tenant and worker (Labels), so that
//     the task's next attempt and Reap find what a dead worker left behind.
//
// stdout and stderr are demultiplexed as they arrive and reported as they
// come, each stream in order; the order between the two streams is the
// order in which the engine read them, which for writes close together
// need not be the order they were written in. The container is removed
// when the attempt ends, whatever the outcome.
package docker
