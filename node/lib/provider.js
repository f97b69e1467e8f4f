// OAuthProvider: one libmcpauth engine (an immutable, thread-safe verifier and HTTP router)
// and the JavaScript shapes around it. Everything is decided by the C core; this file
// translates: JSON in, JSON out, errors by code.
'use strict';
const native = require('./native');
const { Code, AuthError, McpAuthError, ConfigError, toError } = require('./errors');

// Flags of mcpauth.h (checked against the core's own table at load when it has one).
const ENGINE_NO_ENV = 0x1;
const ENGINE_PREFETCH = 0x2;
const VERIFY_NONBLOCK = 0x1;
const VERIFY_NO_CACHE = 0x4;
const ROUTE_NONBLOCK = 0x1;
const ROUTE_WITH_TOKEN = 0x2;
const AS_NONBLOCK = 0x1;

const MEMO_MAX = 1024;

function deepFreeze(o) {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const k of Object.keys(o)) deepFreeze(o[k]);
  }
  return o;
}

// deepFreeze for what JSON.parse made (own enumerable data properties only, plain prototypes):
// for-in and no key array, the hot path's freezer.
function freezeParsed(o) {
  Object.freeze(o);
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'object' && v !== null) freezeParsed(v);
  }
  return o;
}

// The AuthInfo of a verification's text. The addon sends the text with accessToken emptied
// when it was this very token (the caller has it: src/addon.c strip_token); it goes back here,
// in its place. A verified token is never empty, so '' means stripped.
function parseAuth(text, token) {
  const info = JSON.parse(text);
  if (info.accessToken === '') info.accessToken = token;
  return info;
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

// verifyToken may return the claims, or the seed's `{ payload: claims }` shape.
function unwrapClaims(result) {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    throw new TypeError('verifyToken must return the claims object (or { payload: claims })');
  }
  const p = result.payload;
  if (p && typeof p === 'object' && !Array.isArray(p) && Object.keys(result).every((k) => k === 'payload' || k === 'protectedHeader' || k === 'header')) {
    return p;
  }
  return result;
}

function customRejection(e) {
  if (e instanceof AuthError) return e;
  const what = e && e.name ? `${e.name}: ${e.message}` : String(e);
  return new AuthError(Code.BAD_SIGNATURE, `verifyToken rejected the token (${what})`);
}

function userFrom(got) {
  if (got === null || typeof got !== 'object' || Array.isArray(got)) throw new TypeError('getUserInfo must return an object');
  const user = { ...got };
  if (user.userId === undefined && typeof user.user_id === 'string') {
    user.userId = user.user_id;
    delete user.user_id;
  }
  if (typeof user.userId !== 'string' || user.userId === '') {
    throw new AuthError(Code.CLAIM_INVALID, 'getUserInfo returned no userId');
  }
  return user;
}

/**
 * A configured libmcpauth engine. Create it with the factories (oauthAuth0Provider,
 * jwksVerifier, ...) or directly from a configuration object in the core's keys (camelCase,
 * docs/config.md). Construction validates the configuration and throws ConfigError naming the
 * bad option. The object is immutable; one provider serves any number of requests at once.
 */
class OAuthProvider {
  constructor(config, opts = {}) {
    if (config === null || typeof config !== 'object') throw new TypeError('config must be an object');
    const flags = (opts.useEnv === false ? ENGINE_NO_ENV : 0) | (opts.prefetch ? ENGINE_PREFETCH : 0);
    const r = native.engineNew(JSON.stringify(config), flags);
    if (Array.isArray(r)) {
      throw r[0] === Code.CONFIG ? new ConfigError(r[1]) : toError(r[0], r[1]);
    }
    this._engine = r;
    this._options = config;
    this._flags = flags;
    this._getUserInfo = typeof opts.getUserInfo === 'function' ? opts.getUserInfo : null;
    this._verifyToken = typeof opts.verifyToken === 'function' ? opts.verifyToken : null;
    this._memo = new Map(); // token -> { text, info }
    this._passMemo = new Map(); // decision text of a pass with auth -> that decision, frozen
    this._resolved = null;
    this._closed = false;
    this._derived = new Map(); // resource -> provider bound to it (mcp-use without a resource)
  }

  // ---- lifetime ------------------------------------------------------------------------

  /** Frees the engine (after the calls in flight). Further calls throw. */
  close() {
    if (this._closed) return;
    this._closed = true;
    native.engineClose(this._engine);
    for (const p of this._derived.values()) p.close();
    this._derived.clear();
    this._memo.clear();
    this._passMemo.clear();
  }

  get closed() {
    return this._closed;
  }

  // ---- configuration -------------------------------------------------------------------

  /** The configuration given to the core (camelCase keys). */
  get options() {
    return { ...this._options };
  }

  /** The resolved configuration (after presets and env), without secrets. */
  get config() {
    if (!this._resolved) {
      const r = native.engineConfig(this._engine);
      if (Array.isArray(r)) throw toError(r[0], r[1]);
      this._resolved = deepFreeze(JSON.parse(r));
    }
    return this._resolved;
  }

  /** The provider preset: auth0, keycloak, jwks, custom, ... */
  get name() {
    return String(this.config.provider || this._options.provider || '');
  }

  /** The host's verifyToken callback (custom providers), or null. */
  get verifyTokenFn() {
    return this._verifyToken;
  }

  /** The host's getUserInfo callback, or null. */
  get getUserInfoFn() {
    return this._getUserInfo;
  }

  // ---- verification --------------------------------------------------------------------

  _info(text, token) {
    // The core answers a repeated token from its verified-token cache with the very same
    // text; the object built from that text is reused (frozen). The decision is the core's,
    // made on this call: this runs only after mcpauth_verify accepted the token.
    if (this._getUserInfo === null) {
      const hit = this._memo.get(token);
      if (hit !== undefined && hit.text === text) return hit.info;
      const info = freezeParsed(parseAuth(text, token));
      if (this._memo.size >= MEMO_MAX) this._memo.clear();
      this._memo.set(token, { text, info });
      return info;
    }
    return parseAuth(text, token);
  }

  _withUser(info, sync) {
    if (this._getUserInfo === null) return info;
    const got = this._getUserInfo(info.payload || {});
    if (isThenable(got)) {
      if (sync) throw new TypeError('getUserInfo is async: use verify(), not verifySync()');
      return got.then((u) => ({ ...info, user: userFrom(u) }));
    }
    return { ...info, user: userFrom(got) };
  }

  /**
   * Verifies a bearer token (without "Bearer "). Resolves to the AuthInfo (the seed's
   * ctx.auth) or rejects with AuthError. Cached keys: checked on this thread, no hop;
   * the network (a JWKS fetch) runs on the libuv pool, never on the event loop.
   */
  async verify(token, opts) {
    if (typeof token !== 'string') throw new TypeError('token must be a string');
    if (this._verifyToken !== null) {
      let got;
      try {
        got = await this._verifyToken(token);
      } catch (e) {
        throw customRejection(e);
      }
      return this._withUser(this._mapClaims(unwrapClaims(got), token), false);
    }
    const flags = opts && opts.noCache ? VERIFY_NO_CACHE : 0;
    let r = native.verify(this._engine, token, flags | VERIFY_NONBLOCK);
    if (typeof r !== 'string') {
      if (r[0] === Code.WOULD_BLOCK) r = await native.verifyAsync(this._engine, token, flags);
      if (typeof r !== 'string') throw toError(r[0], r[1]);
    }
    return this._withUser(this._info(r, token), false);
  }

  /** Like verify(), synchronously: blocks the thread when keys must be fetched. */
  verifySync(token, opts) {
    if (typeof token !== 'string') throw new TypeError('token must be a string');
    if (this._verifyToken !== null) {
      let got;
      try {
        got = this._verifyToken(token);
      } catch (e) {
        throw customRejection(e);
      }
      if (isThenable(got)) throw new TypeError('verifyToken is async: use verify(), not verifySync()');
      return this._withUser(this._mapClaims(unwrapClaims(got), token), true);
    }
    const flags = opts && opts.noCache ? VERIFY_NO_CACHE : 0;
    const r = native.verify(this._engine, token, flags);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return this._withUser(this._info(r, token), true);
  }

  /** verify() that resolves to { auth } or { error } instead of rejecting. */
  async tryVerify(token, opts) {
    try {
      return { auth: await this.verify(token, opts) };
    } catch (e) {
      if (e instanceof AuthError) return { error: e };
      throw e;
    }
  }

  _mapClaims(claims, token) {
    const r = native.mapClaims(this._engine, JSON.stringify(claims), token === undefined ? null : token);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return JSON.parse(r);
  }

  /**
   * Maps claims the host verified itself to an AuthInfo, with the provider's mapping, claim
   * map and required scopes applied (mcpauth_map_claims).
   */
  mapClaims(claims, token) {
    return this._mapClaims(claims, token);
  }

  // ---- the HTTP surface ----------------------------------------------------------------

  /** RFC 9728 protected resource metadata of the MCP resource. */
  protectedResourceMetadata() {
    const r = native.protectedResourceMetadata(this._engine);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return JSON.parse(r);
  }

  /** RFC 8414 authorization server metadata (mirrored from upstream or synthesized). */
  async authorizationServerMetadata() {
    let r = native.authorizationServerMetadata(this._engine, AS_NONBLOCK);
    if (typeof r !== 'string' && r[0] === Code.WOULD_BLOCK) r = await native.authorizationServerMetadataAsync(this._engine, 0);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return JSON.parse(r);
  }

  /** authorizationServerMetadata(), blocking when it must be fetched. */
  authorizationServerMetadataSync() {
    const r = native.authorizationServerMetadata(this._engine, 0);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return JSON.parse(r);
  }

  /** The WWW-Authenticate value for a failure code (Code.TOKEN_MISSING: the no-error one). */
  challenge(code = Code.TOKEN_MISSING, opts = {}) {
    const r = native.challenge(this._engine, code, opts.scope ?? null, opts.description ?? null);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return r;
  }

  // A decision's object. A pass with auth (a good token on a protected route) is built once per
  // decision text and reused, frozen, while the same text comes back: a repeated token is
  // re-checked by the core on every request, but its answer is not parsed again.
  _decision(r) {
    const hit = this._passMemo.get(r);
    if (hit !== undefined) return hit;
    const d = JSON.parse(r);
    if (d.action === 'pass' && d.auth) {
      freezeParsed(d);
      if (this._passMemo.size >= MEMO_MAX) this._passMemo.clear();
      this._passMemo.set(r, d);
    }
    return d;
  }

  async _routeCall(text) {
    let r = native.route(this._engine, text, ROUTE_NONBLOCK | ROUTE_WITH_TOKEN);
    if (typeof r !== 'string' && r[0] === Code.WOULD_BLOCK) r = await native.routeAsync(this._engine, text, ROUTE_WITH_TOKEN);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return this._decision(r);
  }

  async _completeCall(text, result) {
    const res = JSON.stringify(result);
    let r = native.routeComplete(this._engine, text, res, ROUTE_NONBLOCK | ROUTE_WITH_TOKEN);
    if (typeof r !== 'string' && r[0] === Code.WOULD_BLOCK) r = await native.routeCompleteAsync(this._engine, text, res, ROUTE_WITH_TOKEN);
    if (typeof r !== 'string') throw toError(r[0], r[1]);
    return this._decision(r);
  }

  // The host's verifier on a "host_verify" token -> the result object of mcpauth_route_complete.
  async _hostVerify(token) {
    if (this._verifyToken === null) {
      return { error: 'invalid_token', detail: 'the core asked for a host verification but this provider has no verifyToken' };
    }
    let claims;
    try {
      claims = unwrapClaims(await this._verifyToken(token));
    } catch (e) {
      const err = customRejection(e);
      return { error: err.oauthError || 'invalid_token', detail: err.detail };
    }
    if (this._getUserInfo === null) return { claims };
    try {
      return { claims, user: userFrom(await this._getUserInfo(claims)) };
    } catch (e) {
      return { error: 'invalid_token', detail: `getUserInfo failed (${e && e.message})` };
    }
  }

  /**
   * The router, second form: one request in, the core's final decision out. `request` is
   * { method, path, query, headers (lower-case names), peer? }; `readBody(maxBytes)` is called
   * when the core asks for the body and resolves to { body: string } or { truncated: true }.
   * Resolves to { action: "pass", auth? } or { action: "respond", status, headers, body, code? }.
   */
  async decide(request, readBody) {
    const req = { ...request };
    let text = JSON.stringify(req);
    let d = await this._routeCall(text);
    for (let round = 0; round < 4; round++) {
      if (d.action === 'need_body') {
        if ('body' in req || req.bodyTruncated) throw new McpAuthError(Code.INTERNAL, 'the router asked twice for the body');
        const got = readBody ? await readBody(d.maxBytes) : { truncated: true };
        if (got.truncated) req.bodyTruncated = true;
        else req.body = got.body;
        text = JSON.stringify(req);
        d = await this._routeCall(text);
      } else if (d.action === 'host_verify') {
        d = await this._completeCall(text, await this._hostVerify(d.token));
      } else {
        break;
      }
    }
    if (d.action === 'pass') {
      let auth = d.auth;
      if (auth && this._getUserInfo !== null && !this._verifyToken) auth = await this._withUser(auth, false);
      return { action: 'pass', auth: auth ? deepFreeze(auth) : undefined };
    }
    if (d.action === 'respond') {
      return {
        action: 'respond',
        status: d.status | 0,
        headers: Array.isArray(d.headers) ? d.headers : [],
        body: typeof d.body === 'string' ? d.body : '',
        code: d.code,
      };
    }
    throw new McpAuthError(Code.INTERNAL, `the router answered an unknown action ${JSON.stringify(d.action)}`);
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `OAuthProvider <${this._options.provider || '?'}${this._closed ? ', closed' : ''}>`;
  }
}

module.exports = {
  OAuthProvider,
  unwrapClaims,
  deepFreeze,
  flags: { ENGINE_NO_ENV, ENGINE_PREFETCH, VERIFY_NONBLOCK, VERIFY_NO_CACHE, ROUTE_NONBLOCK, ROUTE_WITH_TOKEN },
};
