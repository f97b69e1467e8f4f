/* seal.h - authenticated encryption of small JSON payloads for the stateless OAuth proxy.
 *
 * A sealed value is base64url( 0x01 | IV (12 random bytes) | AES-256-GCM ciphertext | tag (16) ).
 * The key is HKDF-SHA256(secret, salt "libmcpauth-seal-v1", info "purpose:<name>"), so a value
 * sealed for one purpose never opens under another; the purpose is also the GCM additional
 * data and is repeated inside the plaintext ({"p":purpose,"e":exp,"d":payload}), with the
 * expiry. Rotation: a sealer has one primary secret (used to seal) and previous secrets that
 * are tried, after the primary, when opening. Every replica built from the same secret opens
 * what any other replica sealed. */
#ifndef MCP_SEAL_H
#define MCP_SEAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/common.h"

typedef enum mcp_seal_purpose {
    MCP_SEAL_CLIENT = 0, /* a registered client: client_id */
    MCP_SEAL_STATE,      /* a pending authorization: the upstream `state` */
    MCP_SEAL_CODE,       /* the proxy's authorization code */
    MCP_SEAL_CONSENT,    /* a remembered approval (cookie) and the consent form's request */
    MCP_SEAL_BINDING,    /* the browser binding cookie */
    MCP_SEAL_CSRF,       /* the consent form's CSRF token */
    MCP_SEAL_REFRESH,    /* an upstream refresh token bound to the client it was issued to */
    MCP_SEAL_PURPOSES
} mcp_seal_purpose;

#define MCP_SEAL_MIN_SECRET 32
#define MCP_SEAL_MAX_SECRETS 8       /* primary + previous */
#define MCP_SEAL_MAX_PLAINTEXT 16384 /* bytes of serialized payload */
#define MCP_SEAL_MAX_SEALED 24000    /* characters accepted by mcp_unseal() */

typedef struct mcp_sealer mcp_sealer;

/* The purpose's label ("client", "state", "code", "consent", "binding", "csrf", "refresh"). */
const char *mcp_seal_purpose_name(mcp_seal_purpose p);

/* A sealer with its primary secret (>= MCP_SEAL_MIN_SECRET bytes). MCPAUTH_E_CONFIG when the
 * secret is too short, MCPAUTH_E_INTERNAL when OpenSSL fails. */
int mcp_sealer_new(const unsigned char *secret, size_t len, mcp_sealer **out, mcp_err *err);

/* Adds a previous secret (tried when opening, never used to seal). At most
 * MCP_SEAL_MAX_SECRETS secrets in all. */
int mcp_sealer_add_previous(mcp_sealer *s, const unsigned char *secret, size_t len, mcp_err *err);

void mcp_sealer_free(mcp_sealer *s);

/* Seals `payload` (any JSON value, borrowed) for `purpose`, valid until `exp` (seconds since
 * the epoch, > 0). *out receives a malloc'd base64url string. */
int mcp_seal(const mcp_sealer *s, mcp_seal_purpose purpose, json_t *payload, int64_t exp,
             char **out, mcp_err *err);

/* Opens a sealed value. *payload receives a new reference. Codes:
 * MCPAUTH_E_TOKEN_MALFORMED (not base64url, wrong size or version), MCPAUTH_E_BAD_SIGNATURE
 * (tampered, another purpose, unknown key), MCPAUTH_E_EXPIRED (now >= exp). */
int mcp_unseal(const mcp_sealer *s, mcp_seal_purpose purpose, const char *in, size_t len,
               int64_t now, json_t **payload, mcp_err *err);

/* Helpers shared by the proxy modules. */

/* Fills buf with n cryptographically random bytes. 0, or -1 on failure. */
int mcp_random_bytes(unsigned char *buf, size_t n);

/* base64url of n random bytes (malloc'd) or NULL. */
char *mcp_random_b64url(size_t n);

/* base64url(SHA-256(data)) (malloc'd, 43 characters) or NULL. */
char *mcp_sha256_b64url(const void *data, size_t len);

#endif
