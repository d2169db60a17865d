// Package oauth is AxonTask's OAuth 2.1 authorization server for MCP
// clients, per the MCP authorization specification: protected resource
// metadata for /mcp (RFC 9728), authorization server metadata (RFC 8414),
// dynamic client registration (RFC 7591) of public clients, the
// authorization code grant with PKCE S256 only, refresh tokens that rotate
// on every use (a reused one revokes its whole family), resource
// indicators (RFC 8707: every access token is bound to this server's /mcp)
// and revocation (RFC 7009).
//
// Server serves the machine endpoints (Handler); the dashboard serves
// /oauth/authorize, where a signed-in user sees the client and the scopes
// and approves (Server.Check, Server.Approve), and lists and revokes the
// clients the user authorized (Server.Grants, Server.Revoke). Access tokens
// are the API's JWTs (auth.Issuer.IssueDelegated) with the /mcp resource
// as audience, the client's id and the granted scopes; codes and refresh
// tokens live in the store (eventstore.OAuthStore) as hashes, so every API
// process shares them and they survive restarts.
package oauth
