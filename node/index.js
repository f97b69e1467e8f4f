// libmcpauth: OAuth 2.1 for MCP servers, the Node binding of the libmcpauth C core.
'use strict';
const native = require('./lib/native');
const errors = require('./lib/errors');
const { OAuthProvider, flags } = require('./lib/provider');
const factories = require('./lib/factories');
const http = require('./lib/http');
const sdk = require('./lib/sdk');

// ---- the plug-in points, as provider methods -------------------------------------------------
Object.assign(OAuthProvider.prototype, {
  /** fetch hosts: (await provider.route(request)) ?? next(request). */
  route(request, opts) {
    return http.route(this, request, opts);
  },
  /** Express 4/5 middleware. */
  express() {
    return http.express(this);
  },
  /** A node:http listener running the router before `inner`. */
  nodeHandler(inner) {
    return http.nodeHandler(this, inner);
  },
  /** fastmcp: the `authenticate` option (throws the core's challenge as a Response). */
  fastmcp() {
    return http.fastmcp(this);
  },
  /** SDK v1 (@modelcontextprotocol/sdk) OAuthTokenVerifier for requireBearerAuth. */
  sdkVerifier(errorsModule) {
    return sdk.sdkVerifier(this, errorsModule);
  },
  /** SDK v2 (@modelcontextprotocol/server) OAuthTokenVerifier (verifyBearerToken, adapters). */
  serverVerifier(serverModule) {
    return sdk.serverVerifier(this, serverModule);
  },
  /** mcp-use: createTokenVerifier(resource) -> OAuthTokenVerifier. */
  createTokenVerifier(resource) {
    return sdk.createTokenVerifier(this, resource);
  },
  /** mcp-use: the seed's ctx.auth parts { user, payload, permissions } of a verified AuthInfo. */
  mapAuthInfo(authInfo) {
    return sdk.mapAuthInfo(authInfo);
  },
  /**
   * mcp-use: a plain provider object for `new MCPServer({ oauth })` (the provider itself works
   * too). Fetches the authorization server metadata first, off the event loop.
   */
  async mcpUse() {
    const meta = await this.authorizationServerMetadata();
    this._asMeta = meta;
    const out = {
      createTokenVerifier: (resource) => this.createTokenVerifier(resource),
      oauthMetadata: meta,
      mapAuthInfo: (a) => sdk.mapAuthInfo(a),
    };
    for (const k of ['resource', 'requiredScopes', 'scopesSupported', 'resourceName']) if (this[k] !== undefined) out[k] = this[k];
    return out;
  },
  _twin(extra) {
    return new OAuthProvider({ ...this._options, ...extra }, {
      useEnv: !(this._flags & flags.ENGINE_NO_ENV),
      getUserInfo: this._getUserInfo || undefined,
      verifyToken: this._verifyToken || undefined,
    });
  },
});

function listOrUndefined(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  return Array.isArray(v) && v.length ? [...v] : undefined;
}

Object.defineProperties(OAuthProvider.prototype, {
  /** mcp-use: the RFC 9728 metadata's authorization server document (RFC 8414). */
  oauthMetadata: {
    get() {
      if (!this._asMeta) this._asMeta = this.authorizationServerMetadataSync();
      return this._asMeta;
    },
  },
  /** The MCP resource this provider binds tokens to (RFC 8707), if configured. */
  resource: {
    get() {
      return this.config.resource || undefined;
    },
  },
  requiredScopes: {
    get() {
      return listOrUndefined(this.config.requiredScopes);
    },
  },
  scopesSupported: {
    get() {
      return listOrUndefined(this.config.scopesSupported);
    },
  },
  resourceName: {
    get() {
      return this.config.resourceName || undefined;
    },
  },
});

// ---- constants: the binding's numbers must be the core's ------------------------------------
{
  const c = native.constants();
  if (typeof c === 'string') {
    const table = JSON.parse(c);
    for (const [name, value] of Object.entries(errors.Code)) {
      const key = name === 'OK' ? 'MCPAUTH_OK' : `MCPAUTH_E_${name}`;
      if (table.codes && table.codes[key] !== undefined && table.codes[key] !== value) {
        throw new Error(`libmcpauth: code ${key} is ${table.codes[key]} in the core but ${value} in the binding`);
      }
    }
  }
}

/** The version of the C core compiled into the addon. */
function coreVersion() {
  return native.version();
}

/** Decodes a token WITHOUT verifying it (development only): { verified: false, header, payload }. */
function decodeUnverified(token) {
  const r = native.decodeUnverified(token);
  if (typeof r !== 'string') throw errors.toError(r[0], r[1]);
  return JSON.parse(r);
}

module.exports = {
  ...factories,
  OAuthProvider,
  McpAuthError: errors.McpAuthError,
  ConfigError: errors.ConfigError,
  AuthError: errors.AuthError,
  Code: errors.Code,
  codeName: errors.codeName,
  strerror: errors.strerror,
  oauthError: errors.oauthError,
  httpStatus: errors.httpStatus,
  authOf: http.authOf,
  toSdkAuthInfo: sdk.toSdkAuthInfo,
  coreVersion,
  decodeUnverified,
  version: require('./package.json').version,
};
