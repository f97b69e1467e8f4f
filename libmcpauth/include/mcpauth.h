/*
 * mcpauth.h - the public interface of libmcpauth, the OAuth 2.1 layer for MCP servers.
 *
 * Conventions (they hold for every function below):
 *  - Handles are opaque. No structure layout is public.
 *  - Structured data crosses the boundary as UTF-8 JSON text.
 *  - Every function that can fail returns an int: MCPAUTH_OK (0) or one of the stable numbered
 *    codes of mcpauth_code. Codes are never renumbered nor reused.
 *  - Every buffer the library hands out (char ** out parameters) is allocated by the library and
 *    must be released with mcpauth_free(). On failure, out parameters are set to NULL, except
 *    `detail`, which then holds a human-readable message naming the bad input.
 *  - `detail` parameters are optional: pass NULL when the message is not wanted.
 *  - Input strings come with an explicit length where they may be network input.
 *  - No function is variadic; no structure is passed by value.
 *  - An engine is immutable once created and may be used from any number of threads at once.
 *    Its internal caches (JWKS, verified tokens) are synchronized inside the library.
 */
#ifndef MCPAUTH_H
#define MCPAUTH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MCPAUTH_BUILDING) && defined(__GNUC__)
#define MCPAUTH_API __attribute__((visibility("default")))
#else
#define MCPAUTH_API
#endif

/* ---- Versions --------------------------------------------------------------------------- */

#define MCPAUTH_VERSION_MAJOR 0
#define MCPAUTH_VERSION_MINOR 1
#define MCPAUTH_VERSION_PATCH 0
/* 0xMMmmpp */
#define MCPAUTH_VERSION_NUM 0x000100
#define MCPAUTH_VERSION_STR "0.1.0"

/* Returns the runtime version as "MAJOR.MINOR.PATCH" (static storage). */
MCPAUTH_API const char *mcpauth_version(void);

/* Returns the runtime version as 0xMMmmpp, to compare with MCPAUTH_VERSION_NUM. */
MCPAUTH_API unsigned mcpauth_version_num(void);

/* ---- Error codes (stable; never renumbered, never reused) ------------------------------- */

typedef enum mcpauth_code {
    MCPAUTH_OK = 0,

    /* The caller or the configuration is wrong (1-9). */
    MCPAUTH_E_INVALID_ARGUMENT = 1, /* a NULL or out-of-range argument */
    MCPAUTH_E_NOMEM = 2,            /* an allocation failed */
    MCPAUTH_E_CONFIG = 3,           /* bad configuration; detail names the option / env var */
    MCPAUTH_E_INTERNAL = 4,         /* a library bug or an OpenSSL failure */

    /* The token is rejected: RFC 6750 invalid_token, HTTP 401 (10-29). */
    MCPAUTH_E_TOKEN_MISSING = 10,     /* no credentials were presented */
    MCPAUTH_E_TOKEN_TOO_LARGE = 11,   /* over the configured size cap, not parsed */
    MCPAUTH_E_TOKEN_MALFORMED = 12,   /* not a compact JWS: segments, base64url, JSON */
    MCPAUTH_E_TOKEN_HEADER = 13,      /* unacceptable header: crit, b64, cty, jwk, typ */
    MCPAUTH_E_ALG_NOT_ALLOWED = 14,   /* alg not allowed by policy or by the key */
    MCPAUTH_E_KEY_NOT_FOUND = 15,     /* no configured key matches kid and alg */
    MCPAUTH_E_BAD_SIGNATURE = 16,     /* signature does not verify */
    MCPAUTH_E_EXPIRED = 17,           /* exp is in the past (beyond leeway) */
    MCPAUTH_E_NOT_YET_VALID = 18,     /* nbf or iat in the future (beyond leeway) */
    MCPAUTH_E_ISSUER_MISMATCH = 19,   /* iss missing or not exactly the configured issuer */
    MCPAUTH_E_AUDIENCE_MISMATCH = 20, /* aud / resource binding failed */
    MCPAUTH_E_CLAIM_INVALID = 21,     /* a claim is missing or of the wrong type */
    MCPAUTH_E_TOKEN_INACTIVE = 22,    /* introspection said active != true */
    MCPAUTH_E_MALFORMED_HEADER = 23,  /* Authorization header not "Bearer <token>" (400/401) */

    /* The token is valid but not enough: RFC 6750 insufficient_scope, HTTP 403 (30-39). */
    MCPAUTH_E_INSUFFICIENT_SCOPE = 30,

    /* Temporary or server-side conditions (40-49). */
    MCPAUTH_E_WOULD_BLOCK = 40,      /* non-blocking call needs network I/O: retry blocking */
    MCPAUTH_E_KEYS_UNAVAILABLE = 41, /* keys could not be fetched and none are cached (503) */
    MCPAUTH_E_UPSTREAM = 42,         /* an upstream server failed or answered garbage (502/503) */
    MCPAUTH_E_TOKEN_IN_QUERY = 43    /* access_token in the query string: refused (400) */
} mcpauth_code;

/* A static English description of `code` ("unknown error code" for unknown values). */
MCPAUTH_API const char *mcpauth_strerror(int code);

/* The symbolic name of `code`, e.g. "MCPAUTH_E_EXPIRED" (static storage), or "UNKNOWN". */
MCPAUTH_API const char *mcpauth_code_name(int code);

/* The OAuth error string a server should answer with for `code`: "invalid_token",
 * "insufficient_scope", "invalid_request", "server_error", "temporarily_unavailable";
 * NULL for MCPAUTH_OK and for MCPAUTH_E_TOKEN_MISSING (RFC 6750 section 3.1: a request without
 * credentials is answered with a challenge that carries no error code). */
MCPAUTH_API const char *mcpauth_oauth_error(int code);

/* The HTTP status a server should answer with for `code` (200 for MCPAUTH_OK). */
MCPAUTH_API int mcpauth_http_status(int code);

/* Frees any buffer the library returned. NULL is a no-op. */
MCPAUTH_API void mcpauth_free(void *ptr);

/* ---- Engine ----------------------------------------------------------------------------- */

typedef struct mcpauth_engine mcpauth_engine;

/* Flags for mcpauth_engine_new(). */
#define MCPAUTH_ENGINE_NO_ENV 0x1u   /* ignore MCP_USE_OAUTH_*, MCP_URL, MCPAUTH_SEALING_SECRET */
#define MCPAUTH_ENGINE_PREFETCH 0x2u /* fetch remote JWKS during creation (errors are ignored) */
/* An engine for signature checks only (`mcpauth verify --signature-only`): the configuration
 * need not name an audience or a resource, and every verification on it must pass
 * MCPAUTH_VERIFY_SIGNATURE_ONLY (others fail with MCPAUTH_E_INVALID_ARGUMENT). */
#define MCPAUTH_ENGINE_SIGNATURE_ONLY 0x4u

/*
 * Creates an engine from a JSON configuration object (see docs/config.md for every option).
 * Values missing from the JSON are taken from the provider's MCP_USE_OAUTH_* environment
 * variables unless MCPAUTH_ENGINE_NO_ENV is given; explicit config always beats env.
 * Tokens must be issued for this server: a configuration with neither `audience` nor a
 * resource (`resource`, `baseUrl`, MCP_URL) is refused unless it sets `allowAnyAudience`.
 * On failure returns MCPAUTH_E_CONFIG (or another code) with *detail naming the bad option.
 */
MCPAUTH_API int mcpauth_engine_new(const char *config_json, size_t config_len, unsigned flags,
                                   mcpauth_engine **out, char **detail);

/* Destroys an engine. No call on it may be in progress. NULL is a no-op. */
MCPAUTH_API void mcpauth_engine_free(mcpauth_engine *engine);

/* The resolved configuration (after presets and env) as JSON: provider, issuer, jwksUrl,
 * audience, endpoints, algorithms, ... Secrets are never included. */
MCPAUTH_API int mcpauth_engine_config(const mcpauth_engine *engine, char **config_json);

/* Flags for mcpauth_verify(). */
#define MCPAUTH_VERIFY_NONBLOCK 0x1u /* never do network I/O; MCPAUTH_E_WOULD_BLOCK if needed */
#define MCPAUTH_VERIFY_SIGNATURE_ONLY 0x2u /* JWS layer only; payload may be any bytes */
#define MCPAUTH_VERIFY_NO_CACHE 0x4u       /* bypass the verified-token cache (benchmarks, tests) */

/*
 * Verifies a bearer token (a compact JWS, without the "Bearer " prefix).
 * On MCPAUTH_OK, *auth_json (if auth_json is non-NULL) receives the auth result:
 *   {"user":{"userId","email","name","username","nickname","picture","roles","permissions",
 *            ...provider extras},
 *    "accessToken","scopes","permissions","payload","clientId","expiresAt","resource"}
 * With MCPAUTH_VERIFY_SIGNATURE_ONLY it receives {"header":{...},"payloadBase64url":"..."}.
 * Otherwise returns the failing code and *detail (if non-NULL) says why. Details are for logs;
 * clients should only ever see mcpauth_oauth_error(code).
 */
MCPAUTH_API int mcpauth_verify(const mcpauth_engine *engine, const char *token, size_t token_len,
                               unsigned flags, char **auth_json, char **detail);

/*
 * Maps a claims object that the host verified itself (e.g. a custom verifyToken) to the auth
 * result JSON, with the engine's provider mapping, claim map and required scopes applied.
 * `token` may be NULL (accessToken is then omitted).
 */
MCPAUTH_API int mcpauth_map_claims(const mcpauth_engine *engine, const char *claims_json,
                                   size_t claims_len, const char *token, size_t token_len,
                                   char **auth_json, char **detail);

/* ---- Development helpers (never for untrusted input in production) ---------------------- */

/* Decodes a token WITHOUT verifying it: {"verified":false,"header":{...},"payload":{...}}. */
MCPAUTH_API int mcpauth_decode_unverified(const char *token, size_t token_len, char **json,
                                          char **detail);

/*
 * Signs a token (through libjwt) for tests and development. `request_json`:
 *   {"alg":"RS256","key":"<PEM private key or HMAC secret>","kid":"k1",
 *    "claims":{...},"header":{...optional extra header members}}
 * Supported: HS256/384/512, RS256/384/512, ES256/384/512.
 */
MCPAUTH_API int mcpauth_mint(const char *request_json, size_t request_len, char **token,
                             char **detail);

/* ---- HTTP surface ----------------------------------------------------------------------- */

/* Flags for mcpauth_handle_request(). */
#define MCPAUTH_REQUEST_NONBLOCK 0x1u /* same contract as MCPAUTH_VERIFY_NONBLOCK */

/*
 * The request router: one HTTP request in, a decision out.
 * request_json: {"method":"GET","path":"/mcp","query":"a=b","headers":{"authorization":"..."},
 *                "body":"...","mcpMethod":"tools/call"}   (header names lower-case)
 * mcpMethod: the JSON-RPC method(s) (a string or an array), else read from "body"; null: the
 * body was not read, so every method-keyed scope applies, except on GET/HEAD/DELETE/OPTIONS,
 * which carry no JSON-RPC message and need only the base scopes.
 * *response_json:
 *   {"action":"pass"}                                    not an auth route: hand it on
 *   {"action":"pass","auth":{...auth result...}}          protected route, token good
 *   {"action":"respond","status":401,"headers":[["WWW-Authenticate","..."],...],"body":"..."}
 * Returns MCPAUTH_OK whenever *response_json was produced (whatever its status);
 * MCPAUTH_E_WOULD_BLOCK in non-blocking mode when network I/O is needed.
 */
MCPAUTH_API int mcpauth_handle_request(const mcpauth_engine *engine, const char *request_json,
                                       size_t request_len, unsigned flags, char **response_json);

/* RFC 9728 protected resource metadata for the configured MCP resource, as JSON. */
MCPAUTH_API int mcpauth_protected_resource_metadata(const mcpauth_engine *engine, char **json);

/* RFC 8414 authorization server metadata (mirrored from upstream or synthesized), as JSON. */
MCPAUTH_API int mcpauth_authorization_server_metadata(const mcpauth_engine *engine, unsigned flags,
                                                      char **json);

/*
 * The WWW-Authenticate header value for a failure `code` (MCPAUTH_E_TOKEN_MISSING gives the
 * no-error challenge). `scope` (space-separated) may be NULL for the configured scopes.
 * `description` may be NULL for the default text of the code.
 */
MCPAUTH_API int mcpauth_challenge(const mcpauth_engine *engine, int code, const char *scope,
                                  const char *description, char **www_authenticate);

/* ---- The router, second form (MCPAUTH_1.1) ---------------------------------------------- */

/*
 * Everything a host (a language binding, `mcpauth serve`) needs to protect an MCP server
 * without deciding anything itself: which paths are protected, which scopes a request needs,
 * when the body must be read, how a challenge reads. A host does exactly this:
 *
 *   1. mcpauth_route(request)           -> a decision
 *   2. "need_body":  read at most maxBytes of the body, call mcpauth_route again with "body"
 *                    (or with "bodyTruncated":true if it was longer)
 *   3. "host_verify": run the host's own verifier on "token" (custom providers, hostVerifies);
 *                    hand its answer to mcpauth_route_complete(request, result) -> a decision
 *   4. "pass":       hand the request on (with "auth" as the request's ctx.auth when present)
 *      "respond":    answer with status, headers and body exactly as given
 *
 * request_json: {"method":"POST","path":"/mcp","query":"a=b",
 *                "headers":{"authorization":"Bearer ...", ...},   (names lower-case)
 *                "body":"...",            absent: not read (yet); a GET/HEAD/DELETE/OPTIONS
 *                                         carries no JSON-RPC message and needs only the
 *                                         route's base scopes
 *                "bodyTruncated":true,    the body was longer than maxBytes: not read (every
 *                                         method-keyed scope applies; a proxy form gets 413)
 *                "peer":"192.0.2.7"}      the socket's peer address (a string of at most 256
 *                                         bytes; validated, reserved for trusted-proxy rules)
 *   At most 8 MiB of request JSON. "mcpMethod" is not read here: the core reads the JSON-RPC
 *   method(s) from the body (an object or a batch); a body that is not JSON-RPC makes every
 *   method-keyed scope apply, an empty one none.
 *
 * *decision_json, one of:
 *   {"action":"pass"}                                   not a protected route: hand it on
 *   {"action":"pass","auth":{...auth result...}}         protected route, token good; the auth
 *                                                       result carries "accessToken" only with
 *                                                       MCPAUTH_ROUTE_WITH_TOKEN
 *   {"action":"respond","status":401,"headers":[["WWW-Authenticate","..."],...],"body":"...",
 *    "code":20}                                         metadata, CORS, proxy routes, challenges;
 *                                                       "code" is present when the answer is an
 *                                                       auth failure (mcpauth_code: challenges
 *                                                       400/401/403, and 503/500 when keys or
 *                                                       the verifier failed)
 *   {"action":"need_body","maxBytes":1048576}           call again with the body: only when a
 *                                                       routeScopes entry keyed by MCP method
 *                                                       applies to a protected request that may
 *                                                       carry a message (1 MiB), or for the
 *                                                       OAuth proxy's POST forms (/register,
 *                                                       /authorize, /token: 65536)
 *   {"action":"host_verify","token":"..."}              verify "token" yourself, then
 *                                                       mcpauth_route_complete()
 *
 * Returns MCPAUTH_OK whenever *decision_json was produced (whatever its status), with *detail
 * (if non-NULL) saying why when the decision is an auth failure (for logs: never the token);
 * MCPAUTH_E_WOULD_BLOCK with MCPAUTH_ROUTE_NONBLOCK when network I/O is needed (call again
 * without the flag, off the event loop); MCPAUTH_E_INVALID_ARGUMENT for a request JSON that is
 * not of the form above; MCPAUTH_E_CONFIG when the engine cannot route (no resource URL).
 */
#define MCPAUTH_ROUTE_NONBLOCK 0x1u   /* same value and contract as MCPAUTH_REQUEST_NONBLOCK */
#define MCPAUTH_ROUTE_WITH_TOKEN 0x2u /* put "accessToken" into the auth result of a pass */
MCPAUTH_API int mcpauth_route(const mcpauth_engine *engine, const char *request_json,
                              size_t request_len, unsigned flags, char **decision_json,
                              char **detail);

/*
 * Completes a "host_verify" decision. request_json is the same request given to mcpauth_route
 * (with the same body, if one was read); result_json is the host verifier's answer:
 *   {"claims":{...}}                    the token's claims: the host vouches for the signature
 *   {"claims":{...},"user":{...}}       and the user the host mapped itself (getUserInfo): it
 *                                       replaces the provider's "user" in the auth result
 *   {"error":"...","detail":"...","code":17}
 *                                       the host refused the token; "detail" (optional, for
 *                                       logs) becomes *detail; "code" (optional) is the failure
 *                                       to answer with: 11-22 (401 invalid_token), 30 (403), 41
 *                                       or 42 (503); default MCPAUTH_E_TOKEN_INACTIVE (22)
 * Any other member, or claims together with error, is MCPAUTH_E_INVALID_ARGUMENT (1 MiB max).
 * The core applies to the claims the same checks as to its own tokens, wherever configured
 * (exp/nbf/iat with leeway, requireExp, iss, audience, resource binding, required and route
 * scopes) and answers "pass" with the auth result or "respond" with the challenge mcpauth_route
 * renders for its own verifications. The request is routed again: when it does not reach host
 * verification (another route, no credentials, need_body, or an engine that verifies tokens
 * itself) the result is ignored and the decision is mcpauth_route's. Returns and flags as
 * mcpauth_route.
 */
MCPAUTH_API int mcpauth_route_complete(const mcpauth_engine *engine, const char *request_json,
                                       size_t request_len, const char *result_json,
                                       size_t result_len, unsigned flags, char **decision_json,
                                       char **detail);

/*
 * Every public constant as JSON, so bindings check theirs at load:
 *   {"version":"0.1.0","versionNum":256,"codes":{"MCPAUTH_OK":0,...},
 *    "classes":{"MCPAUTH_OK":"ok","MCPAUTH_E_EXPIRED":"token",...},
 *    "flags":{"MCPAUTH_VERIFY_NONBLOCK":1,...}}
 * Every code of mcpauth_code and every MCPAUTH_* flag macro of this header. "classes" gives
 * each code's class, which bindings map to their error types: "ok", "internal" (1, 2, 4: a
 * failure of the library or of its caller), "config" (3), "token" (10-22: the token is refused;
 * 10 carries no OAuth error code), "request" (23, 43: a malformed request), "scope" (30),
 * "unavailable" (40, 41: try again later), "upstream" (42).
 */
MCPAUTH_API int mcpauth_constants(char **json);

#ifdef __cplusplus
}
#endif

#endif /* MCPAUTH_H */
