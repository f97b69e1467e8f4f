// idp.mjs - a local OpenID provider (oidc-provider 9) for tests: JWT access tokens for MCP
// resources (RFC 8707 resource indicators), an automatic login + consent handler, and one
// pre-registered confidential client. Reusable by any test that needs a real authorization
// server on 127.0.0.1.
//
// Options (command-line flags win over environment variables):
//   --port N              IDP_PORT             listen port (0 = ephemeral, default)
//   --mcp-url URL         IDP_MCP_URL          the MCP resource URL (required); tokens get aud=URL
//   --resource URL        IDP_EXTRA_RESOURCES  more accepted resource indicators (flag may repeat;
//                                              env is comma-separated), e.g. for negative tests
//   --client-id ID        IDP_CLIENT_ID        default "mcp-test-client"
//   --client-secret S     IDP_CLIENT_SECRET    default "mcp-test-secret"
//   --redirect-uri URI    IDP_REDIRECT_URIS    default "http://127.0.0.1:9999/callback" (flag may
//                                              repeat; env is comma-separated)
//   --account ID          IDP_ACCOUNT          the user every login becomes, default "test-user"
//   --registration        IDP_REGISTRATION=1   enable dynamic client registration (off by default)
//   --scopes "a b"        IDP_RESOURCE_SCOPES  scopes a resource may grant, default "mcp:read mcp:write"
//   --refresh-tokens      IDP_REFRESH_TOKENS=1 issue a refresh token to every client allowed the
//                                              refresh_token grant, even without offline_access
//                                              (off by default: oidc-provider's own rule applies)
//   --auth-method M       IDP_CLIENT_AUTH_METHOD  the pre-registered client's token endpoint auth
//                                              method, default "client_secret_post"
//
// When ready it prints one JSON line on stdout:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT,"jwks_uri":"...","token_endpoint":"...",
//    "authorization_endpoint":"...","client_id":"...","client_secret":"...","redirect_uris":[...]}
// It stops on SIGINT / SIGTERM.
import crypto from 'node:crypto';
import http from 'node:http';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

// oidc-provider is installed by tests/http (npm install there). It is looked up normally
// first, then in $IDP_NODE_MODULES, then in ../http/node_modules.
async function loadProvider() {
  try {
    return await import('oidc-provider');
  } catch (e) {
    if (e.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  const base = process.env.IDP_NODE_MODULES
    ? pathToFileURL(`${process.env.IDP_NODE_MODULES.replace(/\/$/, '')}/`)
    : new URL('../http/node_modules/', import.meta.url);
  return import(new URL('oidc-provider/lib/index.js', base).href);
}
const { default: Provider, errors } = await loadProvider();

function parseArgs(argv) {
  const env = process.env;
  const list = (v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);
  const o = {
    port: Number(env.IDP_PORT || 0),
    mcpUrl: env.IDP_MCP_URL || '',
    resources: list(env.IDP_EXTRA_RESOURCES),
    clientId: env.IDP_CLIENT_ID || 'mcp-test-client',
    clientSecret: env.IDP_CLIENT_SECRET || 'mcp-test-secret',
    redirectUris: list(env.IDP_REDIRECT_URIS),
    account: env.IDP_ACCOUNT || 'test-user',
    registration: env.IDP_REGISTRATION === '1' || env.IDP_REGISTRATION === 'true',
    scopes: env.IDP_RESOURCE_SCOPES || 'mcp:read mcp:write',
    refreshTokens: env.IDP_REFRESH_TOKENS === '1' || env.IDP_REFRESH_TOKENS === 'true',
    authMethod: env.IDP_CLIENT_AUTH_METHOD || 'client_secret_post',
  };
  let flagRedirects = null;
  let flagResources = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`option ${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(next());
    else if (a === '--mcp-url') o.mcpUrl = next();
    else if (a === '--resource') (flagResources ??= []).push(next());
    else if (a === '--client-id') o.clientId = next();
    else if (a === '--client-secret') o.clientSecret = next();
    else if (a === '--redirect-uri') (flagRedirects ??= []).push(next());
    else if (a === '--account') o.account = next();
    else if (a === '--registration') o.registration = true;
    else if (a === '--scopes') o.scopes = next();
    else if (a === '--refresh-tokens') o.refreshTokens = true;
    else if (a === '--auth-method') o.authMethod = next();
    else throw new Error(`unknown option ${a}`);
  }
  if (flagRedirects) o.redirectUris = flagRedirects;
  if (flagResources) o.resources = flagResources;
  if (o.redirectUris.length === 0) o.redirectUris = ['http://127.0.0.1:9999/callback'];
  if (!o.mcpUrl) throw new Error('the MCP resource URL is required (--mcp-url or IDP_MCP_URL)');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const accepted = new Set([opts.mcpUrl, ...opts.resources]);

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(opts.port, '127.0.0.1', resolve);
});
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: opts.clientId,
      client_secret: opts.clientSecret,
      redirect_uris: opts.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: opts.authMethod,
    },
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' }] },
  scopes: ['openid', 'offline_access', 'profile', 'email', ...opts.scopes.split(' ')],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: opts.registration },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf ?? opts.mcpUrl,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, indicator) => {
        if (!accepted.has(indicator)) throw new errors.InvalidTarget();
        return {
          scope: opts.scopes,
          audience: indicator,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: 'Test User', email: 'test@example.com', email_verified: true }),
  }),
  extraTokenClaims: async (ctx, token) =>
    token.kind === 'AccessToken' && token.accountId
      ? { email: 'test@example.com', name: 'Test User' }
      : undefined,
  pkce: { required: () => true },
  ...(opts.refreshTokens
    ? { issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token') }
    : {}),
  clientBasedCORS: () => true,
  cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 86400,
    Interaction: 600,
    Session: 86400,
    Grant: 86400,
  },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// Automatic interactions: every login becomes opts.account, every consent is granted.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: opts.account } };
  } else if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes)
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes))
        grant.addResourceScope(indicator, scopes.join(' '));
    result = { consent: { grantId: await grant.save() } };
  } else {
    ctx.status = 400;
    ctx.body = { error: 'unsupported_prompt', error_description: prompt.name };
    return undefined;
  }
  const to = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: prompt.name === 'consent',
  });
  ctx.status = 303;
  ctx.redirect(to);
  return undefined;
});

server.on('request', provider.callback());

const stop = () => {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

process.stdout.write(
  `${JSON.stringify({
    issuer,
    port,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    client_id: opts.clientId,
    client_secret: opts.clientSecret,
    redirect_uris: opts.redirectUris,
  })}\n`,
);
