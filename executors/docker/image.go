package docker

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
)

// imageConfig is what the executor needs of an image's configuration.
type imageConfig struct {
	User       string
	WorkingDir string
}

// ensureImage makes sure the engine has args.Image, pulling it as
// args.Pull says, and returns its configuration. Whatever keeps the image
// from being there is a *executors.StartError saying what to fix; ctx done
// is an error wrapping its cause.
func (e *Executor) ensureImage(ctx context.Context, args *domain.DockerArgs, auth string, sink executors.Sink) (imageConfig, error) {
	if args.Pull != domain.PullAlways {
		img, err := e.inspectImage(ctx, args.Image)
		switch {
		case err == nil:
			return img, nil
		case ctx.Err() != nil:
			return imageConfig{}, fmt.Errorf("docker task canceled while its image was looked up: %w", context.Cause(ctx))
		case !cerrdefs.IsNotFound(err):
			return imageConfig{}, &executors.StartError{Err: fmt.Errorf("look up image %q: %w", args.Image, e.engineError(err))}
		case args.Pull == domain.PullNever:
			return imageConfig{}, &executors.StartError{Err: fmt.Errorf("image %q is not on the worker's engine, and args.pull is \"never\"; pull it onto the engine first, or set args.pull to \"missing\"", args.Image)}
		}
	}
	sink.Progress(0, "pulling image "+args.Image)
	if err := e.pull(ctx, args.Image, auth); err != nil {
		if ctx.Err() != nil {
			return imageConfig{}, fmt.Errorf("docker task canceled while its image was pulled: %w", context.Cause(ctx))
		}
		return imageConfig{}, &executors.StartError{Err: err}
	}
	img, err := e.inspectImage(ctx, args.Image)
	if err != nil {
		if ctx.Err() != nil {
			return imageConfig{}, fmt.Errorf("docker task canceled while its image was looked up: %w", context.Cause(ctx))
		}
		return imageConfig{}, &executors.StartError{Err: fmt.Errorf("look up image %q after its pull: %w", args.Image, e.engineError(err))}
	}
	return img, nil
}

// inspectImage returns the configuration of an image of the engine.
func (e *Executor) inspectImage(ctx context.Context, image string) (imageConfig, error) {
	res, err := e.cli.ImageInspect(ctx, image)
	if err != nil {
		return imageConfig{}, err
	}
	if res.Config == nil {
		return imageConfig{}, nil
	}
	return imageConfig{User: res.Config.User, WorkingDir: res.Config.WorkingDir}, nil
}

// pull pulls image, with auth (base64 JSON, or "") for its registry, and
// returns an error that says what to fix when the pull fails.
func (e *Executor) pull(ctx context.Context, image, auth string) error {
	resp, err := e.cli.ImagePull(ctx, image, client.ImagePullOptions{RegistryAuth: auth})
	if err == nil {
		err = resp.Wait(ctx)
	}
	switch {
	case err == nil:
		return nil
	case client.IsErrConnectionFailed(err):
		return e.engineError(err)
	case cerrdefs.IsUnauthorized(err) || cerrdefs.IsPermissionDenied(err):
		return fmt.Errorf("pull image %q: the registry refused it (%w); check args.registry_auth and that the account may read the image", image, err)
	}
	return fmt.Errorf("pull image %q: %w; check the image name and tag, that the worker's engine reaches its registry, and args.registry_auth for a private one", image, err)
}

// encodeAuth returns args' registry credentials as the engine takes them
// (base64 JSON), with the password resolved, or "" for none.
func encodeAuth(args *domain.DockerArgs, secrets map[string]string) (string, error) {
	if args.RegistryAuth == nil {
		return "", nil
	}
	pw, err := args.RegistryAuth.Password.Resolve(secrets)
	if err != nil {
		return "", fmt.Errorf("args.registry_auth.password: %w", err)
	}
	return authconfig.Encode(registry.AuthConfig{Username: args.RegistryAuth.Username, Password: pw})
}
