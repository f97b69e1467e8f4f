// The factories, in the seed's names and with its camelCase options. Options go to the C core
// as they are (the core's keys are the seed's names); the callbacks (verifyToken, getUserInfo)
// and the binding's own switches (useEnv, prefetch, options) stay here. Options left out are
// read by the core from the provider's MCP_USE_OAUTH_* variables unless useEnv is false; an
// explicit option always wins. A wrong or missing option throws ConfigError at once.
'use strict';
const { OAuthProvider } = require('./provider');

const OWN = new Set(['verifyToken', 'getUserInfo', 'useEnv', 'prefetch', 'options']);
const KEY_SOURCES = ['jwksUrl', 'jwks', 'publicKey', 'secret', 'introspection', 'userinfo'];

function split(provider, opts) {
  if (opts !== undefined && (opts === null || typeof opts !== 'object' || Array.isArray(opts))) {
    throw new TypeError('options must be an object');
  }
  const o = opts || {};
  const config = { provider };
  for (const [k, v] of Object.entries(o)) {
    if (OWN.has(k) || v === undefined) continue;
    config[k] = v instanceof URL ? v.href : v;
  }
  if (o.options) Object.assign(config, o.options);
  return { config, o };
}

function build(provider, opts) {
  const { config, o } = split(provider, opts);
  return new OAuthProvider(config, { useEnv: o.useEnv, prefetch: o.prefetch, getUserInfo: o.getUserInfo, verifyToken: o.verifyToken });
}

/** Auth0 (env MCP_USE_OAUTH_AUTH0_DOMAIN, MCP_USE_OAUTH_AUTH0_AUDIENCE). */
const oauthAuth0Provider = (opts) => build('auth0', opts);
/** Better Auth (env MCP_USE_OAUTH_BETTER_AUTH_URL): { authURL }. */
const oauthBetterAuthProvider = (opts) => build('betterauth', opts);
/** Clerk (env MCP_USE_OAUTH_CLERK_FRONTEND_API_URL): { frontendApiUrl }. */
const oauthClerkProvider = (opts) => build('clerk', opts);
/** WorkOS AuthKit (env MCP_USE_OAUTH_WORKOS_SUBDOMAIN): { subdomain }. */
const oauthWorkOSProvider = (opts) => build('workos', opts);
/** Supabase (env MCP_USE_OAUTH_SUPABASE_PROJECT_ID, _URL, _JWT_SECRET): { projectId, jwtSecret }. */
const oauthSupabaseProvider = (opts) => build('supabase', opts);
/** Keycloak (env MCP_USE_OAUTH_KEYCLOAK_SERVER_URL, _REALM, _AUDIENCE): { serverUrl, realm }. */
const oauthKeycloakProvider = (opts) => build('keycloak', opts);

/**
 * Any DCR-capable authorization server: { issuer, authEndpoint, tokenEndpoint, jwksUrl?,
 * verifyToken?, getUserInfo? }. No zero-config. With verifyToken and no key source the core
 * verifies nothing itself (hostVerifies): every token goes through verifyToken (sync or
 * async; returns the claims or { payload }; throws to reject), and the core applies its claim
 * mapping, time, issuer, audience, resource and scope checks to the claims.
 */
function oauthCustomProvider(opts) {
  const { config, o } = split('custom', opts);
  if (typeof o.verifyToken === 'function' && !KEY_SOURCES.some((k) => k in config) && !('hostVerifies' in config)) {
    config.hostVerifies = true;
  }
  return new OAuthProvider(config, { useEnv: o.useEnv, prefetch: o.prefetch, getUserInfo: o.getUserInfo, verifyToken: o.verifyToken });
}

/**
 * A plain JWT verifier: { jwksUrl | jwks | publicKey | secret, issuer, audience?, ... }. Use it
 * alone, or as the verifyToken of oauthProxy (the seed's oauthProxy + jwksVerifier).
 */
const jwksVerifier = (opts) => build('jwks', opts);

// oauthProxy options that go into the core's "proxy" object
const PROXY_KEYS = new Set([
  'authEndpoint', 'authorizationEndpoint', 'tokenEndpoint', 'issuer', 'clientId', 'clientSecret', 'scopes', 'grantTypes',
  'extraAuthorizeParams', 'sealingSecret', 'previousSecrets', 'tokenEndpointAuthMethod', 'preset', 'domain', 'tenant',
  'allowedRedirectUris', 'allowedScopes', 'allowedAudiences', 'consent', 'serverName', 'forwardResource', 'codeTtlSeconds', 'stateTtlSeconds', 'clientTtlSeconds',
  'consentTtlSeconds', 'clientMetadataCacheSeconds', 'clientMetadataProxy', 'allowLoopbackClientMetadata',
]);

/**
 * The OAuth proxy, for providers without dynamic registration (Google, GitHub, Okta, Azure AD):
 * the server holds one pre-registered client and is the authorization server MCP clients see
 * (/register, /authorize with a consent page, /oauth/callback, /token). The seed's options
 * (authEndpoint, tokenEndpoint, issuer, clientId, clientSecret, scopes, grantTypes,
 * extraAuthorizeParams) and the core's (sealingSecret or env MCPAUTH_SEALING_SECRET, preset,
 * consent, TTLs, ...) go into the core's "proxy" object, proxyOptions adds any other key of it.
 * verifyToken checks the upstream tokens: a jwksVerifier(...) (its configuration becomes the rest
 * of the engine's) or a function returning the claims.
 */
function oauthProxy(opts) {
  if (!opts || typeof opts !== 'object') throw new TypeError('oauthProxy needs its options');
  const proxy = {};
  const top = {};
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined || OWN.has(k) || k === 'proxyOptions') continue;
    if (PROXY_KEYS.has(k)) proxy[k] = v instanceof URL ? v.href : v;
    else top[k] = v instanceof URL ? v.href : v;
  }
  if (opts.proxyOptions) Object.assign(proxy, opts.proxyOptions);
  const vt = opts.verifyToken;
  let config;
  let fn = null;
  let getUserInfo = opts.getUserInfo;
  if (vt instanceof OAuthProvider) {
    config = { ...vt.options };
    fn = vt.verifyTokenFn;
    if (!getUserInfo) getUserInfo = vt.getUserInfoFn || undefined;
  } else if (typeof vt === 'function') {
    config = { provider: 'custom', hostVerifies: true };
    for (const k of ['issuer', 'authEndpoint', 'tokenEndpoint']) if (opts[k] !== undefined) config[k] = opts[k];
    fn = vt;
  } else {
    throw new TypeError('oauthProxy: verifyToken must be a jwksVerifier(...) or a function');
  }
  Object.assign(config, top);
  config.proxy = proxy;
  if (opts.options) Object.assign(config, opts.options);
  return new OAuthProvider(config, { useEnv: opts.useEnv, prefetch: opts.prefetch, getUserInfo, verifyToken: fn || undefined });
}

module.exports = {
  oauthAuth0Provider,
  oauthBetterAuthProvider,
  oauthClerkProvider,
  oauthWorkOSProvider,
  oauthSupabaseProvider,
  oauthKeycloakProvider,
  oauthCustomProvider,
  jwksVerifier,
  oauthProxy,
};
