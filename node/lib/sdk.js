// The shapes the MCP SDKs and mcp-use take: the SDK's AuthInfo, token verifiers for SDK v1
// (@modelcontextprotocol/sdk, requireBearerAuth) and v2 (@modelcontextprotocol/server,
// verifyBearerToken / requireBearerAuth, also what mcp-use uses), and mcp-use's provider
// members (createTokenVerifier, oauthMetadata, mapAuthInfo).
//
// The SDKs tell an invalid token from a server failure by the error's class, so the errors
// thrown come from the host's own copy of the SDK (a peer dependency), loaded on first use or
// passed in explicitly.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');
const { AuthError, Code } = require('./errors');

/** The SDK's AuthInfo for one of ours: { token, clientId, scopes, expiresAt, resource: URL, extra }. */
function toSdkAuthInfo(auth, resource) {
  const out = {
    token: auth.accessToken,
    clientId: typeof auth.clientId === 'string' ? auth.clientId : '',
    scopes: Array.isArray(auth.scopes) ? [...auth.scopes] : [],
    expiresAt: auth.expiresAt,
    extra: { user: auth.user, payload: auth.payload || {}, permissions: Array.isArray(auth.permissions) ? [...auth.permissions] : [], mcpauth: auth },
  };
  const res = resource !== undefined ? resource : auth.resource;
  if (res !== undefined && res !== null) {
    try {
      out.resource = res instanceof URL ? new URL(res.href) : new URL(res);
    } catch {
      /* not a URL: left out */
    }
  }
  return out;
}

// Imports `id` as the host sees it: from this package first, then from the project the process
// runs in (a linked install resolves from its real folder, outside the host's node_modules).
async function hostImport(id, esmPath) {
  try {
    return await import(id);
  } catch (e) {
    if (e && e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND') throw e;
  }
  const bases = [process.cwd(), require.main && require.main.filename && path.dirname(require.main.filename)].filter(Boolean);
  const pkg = id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0];
  for (const b of bases) {
    if (esmPath) {
      // the package's folder, found the way Node looks (node_modules up the tree)
      for (let d = path.resolve(b); ; d = path.dirname(d)) {
        const file = path.join(d, 'node_modules', pkg, esmPath);
        if (fs.existsSync(file)) return import(pathToFileURL(file).href);
        if (path.dirname(d) === d) break;
      }
      continue;
    }
    let file;
    try {
      file = createRequire(path.join(b, 'noop.js')).resolve(id);
    } catch {
      continue;
    }
    return import(pathToFileURL(file).href);
  }
  const err = new Error(`libmcpauth: cannot load ${id}; install it in your project, or pass its errors explicitly`);
  err.code = 'ERR_MODULE_NOT_FOUND';
  throw err;
}

/**
 * A verifier for SDK v1's requireBearerAuth({ verifier }). `errors` is the host's
 * '@modelcontextprotocol/sdk/server/auth/errors.js' module (its classes are checked with
 * instanceof); by default the ESM copy is imported on first use. CommonJS hosts pass
 * require('@modelcontextprotocol/sdk/server/auth/errors.js').
 */
function sdkVerifier(provider, errors) {
  let mod = errors || null;
  const load = async () => (mod ??= await hostImport('@modelcontextprotocol/sdk/server/auth/errors.js', 'dist/esm/server/auth/errors.js'));
  return {
    async verifyAccessToken(token) {
      let auth;
      try {
        auth = await provider.verify(token);
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        const m = await load();
        const msg = e.message;
        if (e.code === Code.INSUFFICIENT_SCOPE) throw new m.InsufficientScopeError(msg);
        if (e.httpStatus === 401) throw new m.InvalidTokenError(msg);
        if (e.httpStatus === 400) throw new m.InvalidRequestError(msg);
        throw new m.ServerError(msg);
      }
      return toSdkAuthInfo(auth);
    },
  };
}

async function loadServer(explicit) {
  return explicit || hostImport('@modelcontextprotocol/server');
}

function v2Error(m, e) {
  const C = m.OAuthErrorCode || {};
  if (e.code === Code.INSUFFICIENT_SCOPE) return new m.OAuthError(C.InsufficientScope || 'insufficient_scope', e.message);
  if (e.httpStatus === 401) return new m.OAuthError(C.InvalidToken || 'invalid_token', e.message);
  if (e.httpStatus === 400) return new m.OAuthError(C.InvalidRequest || 'invalid_request', e.message);
  return new m.OAuthError(C.ServerError || 'server_error', e.message);
}

/**
 * A verifier for SDK v2 (@modelcontextprotocol/server: verifyBearerToken, requireBearerAuth,
 * the Express/Hono adapters) and mcp-use: invalid tokens throw the SDK's OAuthError (any copy:
 * it is brand-checked). `server` is the module, imported on first use by default.
 */
function serverVerifier(provider, server, resource) {
  let mod = server || null;
  return {
    async verifyAccessToken(token) {
      let auth;
      try {
        auth = await provider.verify(token);
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        mod ??= await loadServer();
        throw v2Error(mod, e);
      }
      return toSdkAuthInfo(auth, resource);
    },
  };
}

// ---- mcp-use -------------------------------------------------------------------------------
// mcp-use 2.x takes `oauth:` as a plain object { createTokenVerifier(resource), oauthMetadata,
// mapAuthInfo, resource?, requiredScopes?, scopesSupported?, resourceName? }. OAuthProvider has
// those members itself (lib/index wiring); these are their bodies.

function createTokenVerifier(provider, resource) {
  const bound = provider.config.resource;
  if (bound || !resource) return serverVerifier(provider, null, bound || undefined);
  // the engine has no resource of its own: a twin engine bound to the resource mcp-use uses,
  // so the core checks the token's binding (RFC 8707) against it
  const href = resource instanceof URL ? resource.href : String(resource);
  let twin = provider._derived.get(href);
  if (!twin) {
    twin = provider._twin({ resource: href });
    provider._derived.set(href, twin);
  }
  return serverVerifier(twin, null, undefined);
}

function mapAuthInfo(authInfo) {
  const ours = authInfo && authInfo.extra && authInfo.extra.mcpauth;
  if (!ours) throw new TypeError('mapAuthInfo: this AuthInfo was not made by libmcpauth');
  return { user: ours.user, payload: ours.payload || {}, permissions: Array.isArray(ours.permissions) ? [...ours.permissions] : [] };
}

module.exports = { toSdkAuthInfo, sdkVerifier, serverVerifier, createTokenVerifier, mapAuthInfo, hostImport };
