// The official TypeScript MCP SDK's OAuth client signs in to AxonTask's
// /mcp as a desktop MCP client would: its Streamable HTTP transport with a
// test OAuthClientProvider meets /mcp's 401, discovers the resource and
// authorization server metadata, registers itself (RFC 7591), and sends
// the user to the authorization URL, which this script prints as
// {"authorize": url} for the test to open in a browser. The browser comes
// back to this script's loopback listener with the code; the transport
// exchanges it (PKCE S256), the client lists the tools and starts a mock
// task, then the SDK's auth() refreshes the tokens (rotation) and a second
// client starts another task with the new token. The last line of stdout
// is a JSON summary. Env: AXONTASK_URL.
import http from 'node:http';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const serverUrl = new URL('/mcp', process.env.AXONTASK_URL);

let received;
const callback = new Promise((resolve) => { received = resolve; });
const listener = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname !== '/callback') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Signed in</title><p id="done">Signed in.</p>');
  received(u.searchParams);
});
await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
const redirectUrl = `http://127.0.0.1:${listener.address().port}/callback`;

// A provider that keeps everything in memory.
class TestProvider {
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return {
      client_name: 'TypeScript SDK test client',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.client; }
  saveClientInformation(c) { this.client = c; }
  tokens() { return this.saved; }
  saveTokens(t) { this.saved = t; }
  redirectToAuthorization(url) { console.log(JSON.stringify({ authorize: url.toString() })); }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}
const provider = new TestProvider();

async function connect() {
  const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
  const client = new Client({ name: 'axontask-oauth-test', version: '0.0.1' });
  await client.connect(transport);
  return { client, transport };
}

async function startTask(client, name) {
  const res = await client.callTool({ name: 'start_task', arguments: { name, adapter: 'mock', args: { steps: 1 } } });
  if (res.isError) throw new Error(`start_task: ${JSON.stringify(res.content)}`);
  return res.structuredContent?.task_id;
}

const summary = {};
const first = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
try {
  await new Client({ name: 'axontask-oauth-test', version: '0.0.1' }).connect(first);
  throw new Error('connected without signing in');
} catch (e) {
  if (!(e instanceof UnauthorizedError)) throw e;
  summary.unauthorized = true;
}
const params = await callback;
listener.close();
if (params.get('error')) throw new Error(`authorization refused: ${params.get('error')}: ${params.get('error_description')}`);
summary.iss = params.get('iss');
await first.finishAuth(params.get('code'));
summary.scope = provider.tokens().scope;

let { client } = await connect();
summary.tools = (await client.listTools()).tools.map((t) => t.name);
summary.tasks = [await startTask(client, 'oauth-1')];
await client.close();

const before = provider.tokens();
summary.refresh = await auth(provider, { serverUrl });
summary.rotated = provider.tokens().refresh_token !== before.refresh_token && provider.tokens().access_token !== before.access_token;
({ client } = await connect());
summary.tasks.push(await startTask(client, 'oauth-2'));
await client.close();
console.log(JSON.stringify(summary));
