// The stable numbered codes of libmcpauth (enum mcpauth_code) and the errors of the binding.
'use strict';
const native = require('./native');

/** Code names (without the MCPAUTH_E_ prefix) -> numbers; never renumbered. */
const Code = Object.freeze({
  OK: 0,
  INVALID_ARGUMENT: 1,
  NOMEM: 2,
  CONFIG: 3,
  INTERNAL: 4,
  TOKEN_MISSING: 10,
  TOKEN_TOO_LARGE: 11,
  TOKEN_MALFORMED: 12,
  TOKEN_HEADER: 13,
  ALG_NOT_ALLOWED: 14,
  KEY_NOT_FOUND: 15,
  BAD_SIGNATURE: 16,
  EXPIRED: 17,
  NOT_YET_VALID: 18,
  ISSUER_MISMATCH: 19,
  AUDIENCE_MISMATCH: 20,
  CLAIM_INVALID: 21,
  TOKEN_INACTIVE: 22,
  MALFORMED_HEADER: 23,
  INSUFFICIENT_SCOPE: 30,
  WOULD_BLOCK: 40,
  KEYS_UNAVAILABLE: 41,
  UPSTREAM: 42,
  TOKEN_IN_QUERY: 43,
});

// [name, description, oauthError, httpStatus] per code, asked once from the core
const infoCache = new Map();
function codeInfo(code) {
  let i = infoCache.get(code);
  if (!i) {
    i = native.codeInfo(code | 0);
    infoCache.set(code, i);
  }
  return i;
}

/** The symbolic C name of a code, e.g. "MCPAUTH_E_EXPIRED" ("UNKNOWN" for unknown codes). */
const codeName = (code) => codeInfo(code)[0];
/** A static English description of a code. */
const strerror = (code) => codeInfo(code)[1];
/** The OAuth error string for a code ("invalid_token", "insufficient_scope", ...) or null. */
const oauthError = (code) => codeInfo(code)[2];
/** The HTTP status a server answers with for a code. */
const httpStatus = (code) => codeInfo(code)[3];

/** A libmcpauth failure: `code` (a number of Code), `codeName`, and `detail` (for logs). */
class McpAuthError extends Error {
  constructor(code, detail) {
    const d = detail || strerror(code);
    super(d);
    this.name = 'McpAuthError';
    this.code = code;
    this.detail = d;
  }
  get codeName() {
    return codeName(this.code);
  }
}

/** The configuration is wrong; the message names the option and its environment variable. */
class ConfigError extends McpAuthError {
  constructor(detail, code = Code.CONFIG) {
    super(code, detail);
    this.name = 'ConfigError';
  }
}

/**
 * A request is not authorized: the token is missing, invalid, lacks a scope, or the keys could
 * not be had. `oauthError` and `httpStatus` are what a server answers with; `detail` is for logs
 * only and never contains the token.
 */
class AuthError extends McpAuthError {
  constructor(code, detail) {
    super(code, detail);
    this.name = 'AuthError';
  }
  get oauthError() {
    return oauthError(this.code);
  }
  get httpStatus() {
    return httpStatus(this.code);
  }
}

function toError(code, detail) {
  if (code === Code.CONFIG) return new ConfigError(detail || strerror(code));
  if (code === Code.INVALID_ARGUMENT || code === Code.NOMEM || code === Code.INTERNAL) return new McpAuthError(code, detail);
  return new AuthError(code, detail);
}

module.exports = { Code, codeName, strerror, oauthError, httpStatus, McpAuthError, ConfigError, AuthError, toError };
