/* jwk.c - JWK / JWKS / PEM / HMAC secret import onto OpenSSL 3 EVP_PKEYs, done once per key.
 *
 * Policy decisions (security review notes):
 *  - Private members (d, p, q, dp, dq, qi, oth) in a JWK for verification are REFUSED: a
 *    private key in a verification keyset means it was published or pasted by mistake, and
 *    anyone holding that document can forge tokens. Failing closed makes the mistake visible.
 *  - Keys whose "use" is not "sig", or whose "key_ops" lacks "verify", are skipped. Key types
 *    and curves we do not implement (kty other than RSA/EC/OKP/oct; EC curves other than
 *    P-256/384/521; OKP other than Ed25519) are skipped as well: they cannot verify anything
 *    here. A key of a supported type with bad material, or with an "alg" member that is
 *    unknown or incompatible with the key, is an error for the whole set.
 *  - The algorithms a key may verify come from kty/crv (and key length for oct), intersected
 *    with the JWK "alg" when present (RFC 8725 section 3.1).
 *  - Duplicate kids and sets mixing symmetric with asymmetric keys are refused.
 */
#include "jose/jwk.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"
#include "util/json_strict.h"
#include "jose/sig.h"

#define MCP_RSA_MIN_BITS 2048
#define MCP_RSA_MAX_BITS 16384
#define MCP_RSA_MAX_E_BYTES 8 /* e < 2^64 */
#define MCP_HMAC_MIN_BYTES 32
#define MCP_HMAC_MAX_BYTES 4096
#define MCP_KID_MAX 1024
#define MCP_JWKS_DEFAULT_MAX_KEYS 256
#define MCP_PEM_MAX 65536

#define MASK_RSA                                                                                   \
    (MCP_ALG_BIT(MCP_ALG_RS256) | MCP_ALG_BIT(MCP_ALG_RS384) | MCP_ALG_BIT(MCP_ALG_RS512) |        \
     MCP_ALG_BIT(MCP_ALG_PS256) | MCP_ALG_BIT(MCP_ALG_PS384) | MCP_ALG_BIT(MCP_ALG_PS512))

/* ---- keyset lifetime ---------------------------------------------------------------------- */

static void key_clear(mcp_key *k) {
    mcp_sig_release(k);
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    if (k->secret) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }
    memset(k, 0, sizeof *k);
}

static mcp_keyset *keyset_new(size_t cap) {
    mcp_keyset *ks = calloc(1, sizeof *ks);
    if (!ks) return NULL;
    if (cap) {
        ks->keys = calloc(cap, sizeof *ks->keys);
        if (!ks->keys) {
            free(ks);
            return NULL;
        }
    }
    atomic_init(&ks->refs, 1);
    return ks;
}

static void keyset_free(mcp_keyset *ks) {
    for (size_t i = 0; i < ks->n; i++) key_clear(&ks->keys[i]);
    free(ks->keys);
    free(ks);
}

void mcp_keyset_ref(mcp_keyset *ks) {
    if (ks) atomic_fetch_add_explicit(&ks->refs, 1, memory_order_relaxed);
}

void mcp_keyset_unref(mcp_keyset *ks) {
    if (!ks) return;
    if (atomic_fetch_sub_explicit(&ks->refs, 1, memory_order_acq_rel) == 1) keyset_free(ks);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static unsigned hmac_mask_for_len(size_t len) {
    unsigned m = 0;
    if (len >= 32) m |= MCP_ALG_BIT(MCP_ALG_HS256);
    if (len >= 48) m |= MCP_ALG_BIT(MCP_ALG_HS384);
    if (len >= 64) m |= MCP_ALG_BIT(MCP_ALG_HS512);
    return m;
}

/* A label for error messages: the kid (truncated, it came from the network) or the index. */
static void key_label(char *buf, size_t size, size_t idx, const char *kid) {
    if (kid) {
        /* Only printable ASCII of the kid goes into logs. */
        char safe[48];
        size_t j = 0;
        for (size_t i = 0; kid[i] && j + 1 < sizeof safe; i++) {
            unsigned char c = (unsigned char)kid[i];
            safe[j++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
        }
        safe[j] = '\0';
        snprintf(buf, size, "key %zu (kid \"%s\")", idx, safe);
    } else {
        snprintf(buf, size, "key %zu", idx);
    }
}

/* Decodes the base64url string member `name` of `jwk`. Returns 0, 1 when absent, -1 when
 * not a string or not strict base64url, -2 on no memory. */
static int get_b64_member(json_t *jwk, const char *name, unsigned char **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    json_t *v = json_object_get(jwk, name);
    if (!v) return 1;
    if (!json_is_string(v)) return -1;
    return mcp_b64url_decode(json_string_value(v), json_string_length(v), out, out_len);
}

static int is_private_member(const char *name) {
    static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth"};
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++)
        if (strcmp(name, priv[i]) == 0) return 1;
    return 0;
}

/* RSA public key from big-endian n and e, with the strength checks. */
static int rsa_from_ne(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
                       EVP_PKEY **out, const char *label, mcp_err *err) {
    *out = NULL;
    /* Leading zero bytes carry no value (RFC 7518 forbids them, some issuers emit one). */
    while (n_len && n[0] == 0) n++, n_len--;
    while (e_len && e[0] == 0) e++, e_len--;
    size_t bits = n_len ? n_len * 8 : 0;
    if (n_len) {
        unsigned char top = n[0];
        while (!(top & 0x80)) top <<= 1, bits--;
    }
    if (bits < MCP_RSA_MIN_BITS)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: RSA modulus of %zu bits (minimum %d)", label,
                           bits, MCP_RSA_MIN_BITS);
    if (bits > MCP_RSA_MAX_BITS)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: RSA modulus of %zu bits (maximum %d)", label,
                           bits, MCP_RSA_MAX_BITS);
    if (!(n[n_len - 1] & 1))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: RSA modulus is even", label);
    if (e_len == 0 || e_len > MCP_RSA_MAX_E_BYTES)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: RSA exponent out of range", label);
    if (!(e[e_len - 1] & 1) || (e_len == 1 && e[0] < 3))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: RSA exponent must be odd and >= 3", label);

    int rc = MCPAUTH_E_NOMEM;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (!bn_n || !bn_e || !bld) goto done;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx) goto done;
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: RSA key rejected by OpenSSL", label);
        goto done;
    }
    rc = MCPAUTH_OK;
done:
    if (rc == MCPAUTH_E_NOMEM) mcp_err_set(err, rc, "%s: out of memory", label);
    if (rc != MCPAUTH_OK) ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return rc;
}

typedef struct ec_curve {
    const char *jwk_name;
    const char *group;
    size_t coord_len;
    mcp_alg alg;
} ec_curve;

static const ec_curve ec_curves[] = {
    {"P-256", "prime256v1", 32, MCP_ALG_ES256},
    {"P-384", "secp384r1", 48, MCP_ALG_ES384},
    {"P-521", "secp521r1", 66, MCP_ALG_ES512},
};

static const ec_curve *curve_by_jwk_name(const char *name) {
    for (size_t i = 0; i < sizeof ec_curves / sizeof ec_curves[0]; i++)
        if (strcmp(ec_curves[i].jwk_name, name) == 0) return &ec_curves[i];
    return NULL;
}

static const ec_curve *curve_by_group(const char *group) {
    for (size_t i = 0; i < sizeof ec_curves / sizeof ec_curves[0]; i++)
        if (strcmp(ec_curves[i].group, group) == 0 || strcmp(ec_curves[i].jwk_name, group) == 0)
            return &ec_curves[i];
    return NULL;
}

/* Runs OpenSSL's full public-key check (point on the curve, not infinity, right order). */
static int pkey_public_check(EVP_PKEY *pk) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    if (!ctx) return -1;
    int ok = EVP_PKEY_public_check(ctx);
    EVP_PKEY_CTX_free(ctx);
    return ok == 1 ? 0 : -1;
}

static int ec_from_xy(const ec_curve *cv, const unsigned char *x, const unsigned char *y,
                      EVP_PKEY **out, const char *label, mcp_err *err) {
    *out = NULL;
    unsigned char point[1 + 2 * 66];
    point[0] = 0x04; /* uncompressed: the only encoding a JWK can express */
    memcpy(point + 1, x, cv->coord_len);
    memcpy(point + 1 + cv->coord_len, y, cv->coord_len);
    int rc = MCPAUTH_E_NOMEM;
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)cv->group, 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * cv->coord_len);
    params[2] = OSSL_PARAM_construct_end();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx) goto done;
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
        pkey_public_check(*out) != 0) {
        EVP_PKEY_free(*out);
        *out = NULL;
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: EC point is not a valid %s public key", label,
                         cv->jwk_name);
        goto done;
    }
    rc = MCPAUTH_OK;
done:
    if (rc == MCPAUTH_E_NOMEM) mcp_err_set(err, rc, "%s: out of memory", label);
    if (rc != MCPAUTH_OK) ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* ---- one JWK ------------------------------------------------------------------------------ */

/* Imports one JWK into *k. Returns MCPAUTH_OK with k->kty set, MCPAUTH_OK with k->kty == 0
 * when the key is to be skipped, or an error code. */
static int import_jwk(json_t *jwk, unsigned flags, size_t idx, mcp_key *k, mcp_err *err) {
    char label[96];
    memset(k, 0, sizeof *k);
    if (!json_is_object(jwk))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "key %zu: not a JSON object", idx);

    json_t *jkid = json_object_get(jwk, "kid");
    const char *kid = NULL;
    if (jkid) {
        if (!json_is_string(jkid))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "key %zu: kid is not a string", idx);
        if (json_string_length(jkid) > MCP_KID_MAX ||
            strlen(json_string_value(jkid)) != json_string_length(jkid))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "key %zu: kid too long or not text", idx);
        kid = json_string_value(jkid);
    }
    key_label(label, sizeof label, idx, kid);

    /* Intended use: anything but signature verification is skipped. */
    json_t *use = json_object_get(jwk, "use");
    if (use) {
        if (!json_is_string(use))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: use is not a string", label);
        if (strcmp(json_string_value(use), "sig") != 0) return MCPAUTH_OK; /* skip */
    }
    json_t *ops = json_object_get(jwk, "key_ops");
    if (ops) {
        if (!json_is_array(ops))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: key_ops is not an array", label);
        int verify = 0;
        size_t i;
        json_t *op;
        json_array_foreach(ops, i, op) {
            if (!json_is_string(op))
                return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: key_ops member not a string", label);
            if (strcmp(json_string_value(op), "verify") == 0) verify = 1;
        }
        if (!verify) return MCPAUTH_OK; /* skip */
    }

    json_t *jkty = json_object_get(jwk, "kty");
    if (!json_is_string(jkty))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: kty missing or not a string", label);
    const char *kty = json_string_value(jkty);

    json_t *jalg = json_object_get(jwk, "alg");
    mcp_alg alg = MCP_ALG_UNKNOWN;
    if (jalg) {
        if (!json_is_string(jalg))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: alg is not a string", label);
        alg = mcp_alg_from_name(json_string_value(jalg));
        if (alg == MCP_ALG_UNKNOWN)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "%s: alg is not a supported signature algorithm", label);
    }

    int is_oct = strcmp(kty, "oct") == 0;
    if (!is_oct) {
        const char *member;
        json_t *val;
        json_object_foreach(jwk, member, val) {
            if (is_private_member(member))
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "%s: JWK contains private key material (\"%s\"); "
                                   "publish and configure public keys only",
                                   label, member);
        }
    }

    unsigned char *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    int rc = MCPAUTH_OK, r1, r2;
    unsigned mask = 0;

    if (strcmp(kty, "RSA") == 0) {
        r1 = get_b64_member(jwk, "n", &a, &a_len);
        r2 = get_b64_member(jwk, "e", &b, &b_len);
        if (r1 == -2 || r2 == -2) {
            rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "%s: out of memory", label);
        } else if (r1 != 0 || r2 != 0) {
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: RSA key needs base64url members n and e",
                             label);
        } else {
            rc = rsa_from_ne(a, a_len, b, b_len, &k->pkey, label, err);
        }
        k->kty = MCP_KTY_RSA;
        mask = MASK_RSA;
    } else if (strcmp(kty, "EC") == 0) {
        json_t *crv = json_object_get(jwk, "crv");
        if (!json_is_string(crv))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: EC key without crv", label);
        const ec_curve *cv = curve_by_jwk_name(json_string_value(crv));
        if (!cv) return MCPAUTH_OK; /* a curve we do not implement (e.g. secp256k1): skip */
        r1 = get_b64_member(jwk, "x", &a, &a_len);
        r2 = get_b64_member(jwk, "y", &b, &b_len);
        if (r1 == -2 || r2 == -2) {
            rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "%s: out of memory", label);
        } else if (r1 != 0 || r2 != 0 || a_len != cv->coord_len || b_len != cv->coord_len) {
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                             "%s: EC key needs x and y of exactly %zu bytes for %s", label,
                             cv->coord_len, cv->jwk_name);
        } else {
            rc = ec_from_xy(cv, a, b, &k->pkey, label, err);
        }
        k->kty = MCP_KTY_EC;
        mask = MCP_ALG_BIT(cv->alg);
    } else if (strcmp(kty, "OKP") == 0) {
        json_t *crv = json_object_get(jwk, "crv");
        if (!json_is_string(crv))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: OKP key without crv", label);
        if (strcmp(json_string_value(crv), "Ed25519") != 0)
            return MCPAUTH_OK; /* X25519/X448 are not signature keys, Ed448 unsupported */
        r1 = get_b64_member(jwk, "x", &a, &a_len);
        if (r1 == -2) {
            rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "%s: out of memory", label);
        } else if (r1 != 0 || a_len != 32) {
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: Ed25519 key needs x of 32 bytes", label);
        } else {
            k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, a_len);
            if (!k->pkey) {
                ERR_clear_error();
                rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: Ed25519 key rejected", label);
            }
        }
        k->kty = MCP_KTY_OKP;
        mask = MCP_ALG_BIT(MCP_ALG_EDDSA);
    } else if (is_oct) {
        if (!(flags & MCP_JWKS_ALLOW_OCT))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "%s: symmetric (oct) keys are not allowed in this key set", label);
        r1 = get_b64_member(jwk, "k", &a, &a_len);
        if (r1 == -2) {
            rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "%s: out of memory", label);
        } else if (r1 != 0) {
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: oct key needs a base64url k", label);
        } else if (a_len < MCP_HMAC_MIN_BYTES || a_len > MCP_HMAC_MAX_BYTES) {
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: HMAC key of %zu bytes (must be %d..%d)",
                             label, a_len, MCP_HMAC_MIN_BYTES, MCP_HMAC_MAX_BYTES);
        } else {
            k->secret = a;
            k->secret_len = a_len;
            a = NULL;
        }
        k->kty = MCP_KTY_OCT;
        mask = hmac_mask_for_len(k->secret_len);
    } else {
        return MCPAUTH_OK; /* unknown kty: nothing we can verify with; skip */
    }

    if (a) OPENSSL_cleanse(a, a_len);
    free(a);
    free(b);
    if (rc != MCPAUTH_OK) {
        key_clear(k);
        return rc;
    }
    if (alg != MCP_ALG_UNKNOWN) {
        if (!(mask & MCP_ALG_BIT(alg))) {
            key_clear(k);
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: alg %s does not fit this key", label,
                               mcp_alg_name(alg));
        }
        mask = MCP_ALG_BIT(alg);
    }
    k->alg_mask = mask;
    if (kid) {
        k->kid = mcp_strdup(kid);
        if (!k->kid) {
            key_clear(k);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "%s: out of memory", label);
        }
    }
    return MCPAUTH_OK;
}

/* ---- sets ---------------------------------------------------------------------------------- */

int mcp_keyset_from_jwks(json_t *jwks, unsigned flags, size_t max_keys, mcp_keyset **out,
                         mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output");
    *out = NULL;
    if (!json_is_object(jwks)) return mcp_err_set(err, MCPAUTH_E_CONFIG, "JWKS: not a JSON object");
    json_t *arr = json_object_get(jwks, "keys");
    if (!json_is_array(arr))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "JWKS: \"keys\" missing or not an array");
    if (max_keys == 0) max_keys = MCP_JWKS_DEFAULT_MAX_KEYS;
    size_t n = json_array_size(arr);
    if (n > max_keys)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "JWKS: %zu keys (at most %zu allowed)", n,
                           max_keys);
    mcp_keyset *ks = keyset_new(n);
    if (!ks) return mcp_err_set(err, MCPAUTH_E_NOMEM, "JWKS: out of memory");

    int rc = MCPAUTH_OK;
    for (size_t i = 0; i < n; i++) {
        mcp_key k;
        rc = import_jwk(json_array_get(arr, i), flags, i, &k, err);
        if (rc != MCPAUTH_OK) goto fail;
        if (k.kty == 0) continue; /* skipped */
        ks->keys[ks->n++] = k;
    }
    int sym = 0, asym = 0;
    for (size_t i = 0; i < ks->n; i++) {
        if (ks->keys[i].kty == MCP_KTY_OCT)
            sym = 1;
        else
            asym = 1;
        if (!ks->keys[i].kid) continue;
        for (size_t j = i + 1; j < ks->n; j++) {
            if (ks->keys[j].kid && strcmp(ks->keys[i].kid, ks->keys[j].kid) == 0) {
                char label[96];
                key_label(label, sizeof label, j, ks->keys[j].kid);
                rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "JWKS: %s: duplicate kid", label);
                goto fail;
            }
        }
    }
    if (sym && asym) {
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                         "JWKS: mixes symmetric (oct) and asymmetric keys; use separate sets");
        goto fail;
    }
    for (size_t i = 0; i < ks->n; i++) mcp_sig_prepare(&ks->keys[i]);
    *out = ks;
    return MCPAUTH_OK;
fail:
    keyset_free(ks);
    return rc;
}

int mcp_keyset_from_jwks_text(const char *text, size_t len, unsigned flags, size_t max_keys,
                              mcp_keyset **out, mcp_err *err) {
    if (out) *out = NULL;
    json_t *root = mcp_json_parse(text, len, MCP_JSON_MAX_DEPTH, 1, "JWKS", MCPAUTH_E_CONFIG, err);
    if (!root) return err ? err->code : MCPAUTH_E_CONFIG;
    int rc = mcp_keyset_from_jwks(root, flags, max_keys, out, err);
    json_decref(root);
    return rc;
}

static int contains(const char *hay, size_t len, const char *needle) {
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0) return 1;
    return 0;
}

/* Checks an asymmetric EVP_PKEY from PEM/certificate and fills kty and alg_mask. */
static int classify_pkey(EVP_PKEY *pk, mcp_key *k, mcp_err *err) {
    int id = EVP_PKEY_get_base_id(pk);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(pk);
        if (bits < MCP_RSA_MIN_BITS || bits > MCP_RSA_MAX_BITS)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "PEM: RSA key of %d bits (%d..%d)", bits,
                               MCP_RSA_MIN_BITS, MCP_RSA_MAX_BITS);
        BIGNUM *e = NULL;
        if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
            ERR_clear_error();
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "PEM: RSA exponent unreadable");
        }
        int ok = BN_is_odd(e) && BN_num_bits(e) >= 2 && BN_num_bytes(e) <= MCP_RSA_MAX_E_BYTES;
        BN_free(e);
        if (!ok) return mcp_err_set(err, MCPAUTH_E_CONFIG, "PEM: RSA exponent must be odd, >= 3");
        k->kty = MCP_KTY_RSA;
        k->alg_mask = MASK_RSA;
        return MCPAUTH_OK;
    }
    if (id == EVP_PKEY_EC) {
        char group[64];
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &glen) != 1) {
            ERR_clear_error();
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "PEM: EC key without a named curve");
        }
        const ec_curve *cv = curve_by_group(group);
        if (!cv)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "PEM: EC curve not supported (P-256, P-384, P-521 only)");
        if (pkey_public_check(pk) != 0) {
            ERR_clear_error();
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "PEM: EC point is not valid");
        }
        k->kty = MCP_KTY_EC;
        k->alg_mask = MCP_ALG_BIT(cv->alg);
        return MCPAUTH_OK;
    }
    if (id == EVP_PKEY_ED25519) {
        k->kty = MCP_KTY_OKP;
        k->alg_mask = MCP_ALG_BIT(MCP_ALG_EDDSA);
        return MCPAUTH_OK;
    }
    return mcp_err_set(err, MCPAUTH_E_CONFIG,
                       "PEM: key type not supported (RSA, EC P-256/384/521, Ed25519)");
}

int mcp_keyset_from_pem(const char *pem, size_t len, mcp_keyset **out, mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output");
    *out = NULL;
    if (!pem || len == 0 || len > MCP_PEM_MAX)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "PEM: empty or larger than %d bytes",
                           MCP_PEM_MAX);
    if (contains(pem, len, "PRIVATE KEY"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "PEM: a private key was given; configure the public key");
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return mcp_err_set(err, MCPAUTH_E_NOMEM, "PEM: out of memory");
    EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (!pk) {
        /* Also accept an X.509 certificate and use its subject public key. */
        ERR_clear_error();
        if (BIO_reset(bio) == 1) {
            X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
            if (cert) {
                pk = X509_get_pubkey(cert);
                X509_free(cert);
            }
        }
    }
    BIO_free(bio);
    if (!pk) {
        ERR_clear_error();
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "PEM: no SubjectPublicKeyInfo (\"BEGIN PUBLIC KEY\") or certificate");
    }
    mcp_key k;
    memset(&k, 0, sizeof k);
    int rc = classify_pkey(pk, &k, err);
    if (rc != MCPAUTH_OK) {
        EVP_PKEY_free(pk);
        return rc;
    }
    mcp_keyset *ks = keyset_new(1);
    if (!ks) {
        EVP_PKEY_free(pk);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "PEM: out of memory");
    }
    k.pkey = pk;
    ks->keys[0] = k;
    ks->n = 1;
    mcp_sig_prepare(&ks->keys[0]);
    *out = ks;
    return MCPAUTH_OK;
}

int mcp_keyset_from_secret(const unsigned char *secret, size_t len, mcp_keyset **out,
                           mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output");
    *out = NULL;
    if (!secret || len < MCP_HMAC_MIN_BYTES)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "HMAC secret must be at least %d bytes",
                           MCP_HMAC_MIN_BYTES);
    if (len > MCP_HMAC_MAX_BYTES)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "HMAC secret longer than %d bytes",
                           MCP_HMAC_MAX_BYTES);
    mcp_keyset *ks = keyset_new(1);
    unsigned char *copy = malloc(len);
    if (!ks || !copy) {
        free(copy);
        if (ks) keyset_free(ks);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "HMAC secret: out of memory");
    }
    memcpy(copy, secret, len);
    ks->keys[0].kty = MCP_KTY_OCT;
    ks->keys[0].secret = copy;
    ks->keys[0].secret_len = len;
    ks->keys[0].alg_mask = hmac_mask_for_len(len);
    ks->n = 1;
    mcp_sig_prepare(&ks->keys[0]);
    *out = ks;
    return MCPAUTH_OK;
}

/* ---- lookup -------------------------------------------------------------------------------- */

size_t mcp_keyset_candidates(const mcp_keyset *ks, const char *kid, mcp_alg alg,
                             const mcp_key **out, size_t max) {
    if (!ks || alg <= MCP_ALG_UNKNOWN || alg >= MCP_ALG_COUNT) return 0;
    size_t found = 0;
    for (size_t i = 0; i < ks->n && found < max; i++) {
        const mcp_key *k = &ks->keys[i];
        if (!(k->alg_mask & MCP_ALG_BIT(alg))) continue;
        if (kid && (!k->kid || strcmp(k->kid, kid) != 0)) continue;
        out[found++] = k;
    }
    return found;
}

int mcp_keyset_has_kid(const mcp_keyset *ks, const char *kid) {
    if (!ks || !kid) return 0;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->keys[i].kid && strcmp(ks->keys[i].kid, kid) == 0) return 1;
    return 0;
}
