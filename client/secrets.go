package client

import (
	"context"
	"net/http"

	"github.com/axontask/axontask/api"
)

// The secret calls need an owner, an admin or a key with the admin scope
// (ErrForbidden otherwise). No answer ever holds a secret's value: tasks
// refer to a secret by name ({"secret": "NAME"} in their args) and the
// worker resolves it when the task runs. docs/secrets.md has the details.

// SetSecret creates the tenant secret name with value, or replaces the
// value of the existing one (the answer's Rotated says which) (POST
// /v1/secrets). A bad name or a value outside 4 bytes to 64 KiB is
// ErrInvalidInput naming the field; it never quotes the value.
func (c *Client) SetSecret(ctx context.Context, name, value string) (api.Secret, error) {
	var out api.Secret
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/secrets", body: api.SetSecretRequest{Name: name, Value: value}}, &out, 0); err != nil {
		return api.Secret{}, err
	}
	return out, nil
}

// ListSecrets returns the tenant's secrets by name, with their times,
// without values (GET /v1/secrets).
func (c *Client) ListSecrets(ctx context.Context) ([]api.Secret, error) {
	var out api.SecretList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/secrets"}, &out, 0); err != nil {
		return nil, err
	}
	return out.Secrets, nil
}

// DeleteSecret deletes the tenant secret name (DELETE
// /v1/secrets/{name}); a name the tenant has no secret of is ErrNotFound.
// Tasks that refer to it and start afterwards fail, naming it.
func (c *Client) DeleteSecret(ctx context.Context, name string) error {
	n, err := segment("the secret name", name)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/secrets/" + n}, nil, 0)
}
