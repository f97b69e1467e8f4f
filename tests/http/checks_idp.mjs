// checks_idp.mjs - `mcpauth serve` in front of the MCP upstream with a real OpenID provider
// (tests/idp/idp.mjs) as the authorization server: metadata mirrored, the MCP SDK's whole OAuth
// flow (401 -> PRM -> AS metadata -> authorization code + PKCE + resource -> token) and its
// tokens accepted on /mcp; tokens for another resource refused.
// Env: PROXY, ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, OTHER_RESOURCE.
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthServerInfo,
  exchangeAuthorization,
  startAuthorization,
  UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { assert, check, done, env, followAuthorization } from './lib.mjs';

const proxy = env('PROXY');
const issuer = env('ISSUER');
const redirectUri = env('REDIRECT_URI');
const mcpUrl = `${proxy}/mcp`;
const clientInformation = {
  client_id: env('CLIENT_ID'),
  client_secret: env('CLIENT_SECRET'),
  token_endpoint_auth_method: 'client_secret_post',
};

const payloadOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

await check('idp: proxy mirrors the issuer RFC 8414 metadata', async () => {
  const up = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
  const res = await fetch(`${proxy}/.well-known/oauth-authorization-server`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(await res.json(), up);
});

await check('idp: proxy serves /.well-known/openid-configuration', async () => {
  const res = await fetch(`${proxy}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.equal(doc.issuer, issuer);
  assert.ok(doc.code_challenge_methods_supported.includes('S256'));
});

await check('idp: sdk discoverOAuthServerInfo resolves PRM -> authorization server', async () => {
  const info = await discoverOAuthServerInfo(mcpUrl);
  assert.equal(info.resourceMetadata.resource, mcpUrl);
  assert.deepEqual(info.resourceMetadata.authorization_servers, [issuer]);
  assert.equal(info.authorizationServerMetadata.issuer, issuer);
  assert.equal(info.authorizationServerMetadata.token_endpoint, `${issuer}/token`);
});

let accessToken;
await check('idp: sdk OAuth flow from the 401 (code + PKCE + resource) then tools through the proxy', async () => {
  let stored;
  let verifier;
  let authUrl;
  const provider = {
    get redirectUrl() {
      return redirectUri;
    },
    get clientMetadata() {
      return {
        client_name: 'mcpauth-http-test',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      };
    },
    clientInformation: () => clientInformation,
    tokens: () => stored,
    saveTokens: (t) => {
      stored = t;
    },
    redirectToAuthorization: (u) => {
      authUrl = u;
    },
    saveCodeVerifier: (v) => {
      verifier = v;
    },
    codeVerifier: () => verifier,
  };
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'mcpauth-http-test', version: '0.0.0' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  assert.ok(authUrl, 'the SDK asked for an authorization redirect');
  assert.equal(authUrl.origin, issuer);
  assert.equal(authUrl.searchParams.get('resource'), mcpUrl);
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authUrl.searchParams.get('scope'), 'mcp:read');
  const params = await followAuthorization(authUrl, redirectUri);
  assert.ok(params.get('code'));
  await transport.finishAuth(params.get('code'));
  accessToken = stored.access_token;
  const claims = payloadOf(accessToken);
  assert.equal(claims.aud, mcpUrl);
  assert.equal(claims.iss, issuer);

  const t2 = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const c2 = new Client({ name: 'mcpauth-http-test', version: '0.0.0' });
  await c2.connect(t2);
  const r = await c2.callTool({ name: 'whoami', arguments: {} });
  const who = JSON.parse(r.content[0].text);
  assert.equal(who.user, 'test-user');
  assert.equal(who.auth.user.email, 'test@example.com');
  assert.deepEqual(who.auth.scopes, ['mcp:read']);
  assert.equal(who.authorization, null);
  await c2.close();
});

await check('idp: a token issued for another resource is refused with invalid_token', async () => {
  const other = env('OTHER_RESOURCE');
  const metadata = await discoverAuthorizationServerMetadata(issuer);
  const { authorizationUrl, codeVerifier } = await startAuthorization(issuer, {
    metadata,
    clientInformation,
    redirectUrl: redirectUri,
    scope: 'mcp:read',
    resource: new URL(other),
  });
  const params = await followAuthorization(authorizationUrl, redirectUri);
  const tokens = await exchangeAuthorization(issuer, {
    metadata,
    clientInformation,
    authorizationCode: params.get('code'),
    codeVerifier,
    redirectUri,
    resource: new URL(other),
  });
  assert.equal(payloadOf(tokens.access_token).aud, other);
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  assert.equal(res.status, 401);
  assert.equal(
    res.headers.get('www-authenticate'),
    `Bearer error="invalid_token", error_description="token audience or resource mismatch", ` +
      `resource_metadata="${proxy}/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`,
  );
});

await check('idp: the same IdP token works again (verified-token cache path)', async () => {
  assert.ok(accessToken);
  for (let i = 0; i < 2; i++) {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 1, result: {} });
  }
});

done();
