/* fuzz_route.c - libFuzzer target: the router's second form (mcpauth_route,
 * mcpauth_route_complete): the request members it adds (body, bodyTruncated, peer), the body
 * rule for method-keyed scopes, and the host verifier's answer (claims, user, error, detail,
 * code), on an engine that verifies itself and on a hostVerifies engine, in non-blocking mode so
 * that no input can cause network I/O.
 *
 * Input: byte 0 picks the method, byte 1 the path, byte 2 the shape (bit 0: body present,
 * bit 1: bodyTruncated, bit 2: peer, bit 3: MCPAUTH_ROUTE_WITH_TOKEN); the rest is split on '\n'
 * into authorization, body, peer and the host verifier's result JSON. With byte 0 == 0xff the
 * rest is split on the first '\n' into raw request JSON and raw result JSON instead. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mcpauth_engine *own, *host;

static const char own_config[] =
    "{\"issuer\":\"https://issuer.fuzz\",\"secret\":\"fuzz-secret-0123456789abcdef-0123456789\","
    "\"algorithms\":[\"HS256\"],\"baseUrl\":\"http://localhost:8080\",\"requiredScopes\":[\"a\"],"
    "\"routeScopes\":{\"/mcp/admin\":[\"admin\"],\"tools/call\":[\"tools\"]},"
    "\"proxy\":{\"authEndpoint\":\"http://127.0.0.1:1/auth\",\"tokenEndpoint\":"
    "\"http://127.0.0.1:1/token\",\"clientId\":\"upstream\",\"clientSecret\":\"s\","
    "\"sealingSecret\":\"fuzz-sealing-secret-0123456789abcdef-xyz\"}}";

static const char host_config[] =
    "{\"provider\":\"custom\",\"issuer\":\"https://issuer.fuzz\",\"authEndpoint\":"
    "\"https://issuer.fuzz/a\",\"tokenEndpoint\":\"https://issuer.fuzz/t\",\"hostVerifies\":true,"
    "\"trustHostHeader\":true,\"requiredScopes\":[\"a\"],\"routeScopes\":{\"tools/call\":"
    "\"tools\"}}";

static const char *const methods[] = {"GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE"};
static const char *const paths[] = {"/mcp",   "/mcp/admin", "/.well-known/oauth-protected-resource",
                                    "/token", "/register",  "/authorize",
                                    "/other", "/mcp/../mcp"};

static void put(json_t *o, const char *k, const uint8_t *p, size_t n) {
    json_t *s = json_stringn((const char *)p, n); /* NULL for invalid UTF-8: skipped */
    if (s) json_object_set_new(o, k, s);
}

static void run(const char *req, size_t req_len, const char *res, size_t res_len, unsigned flags) {
    mcpauth_engine *engines[] = {own, host};
    for (int i = 0; i < 2; i++) {
        char *out = NULL, *detail = NULL;
        mcpauth_route(engines[i], req, req_len, flags | MCPAUTH_ROUTE_NONBLOCK, &out, &detail);
        mcpauth_free(out);
        mcpauth_free(detail);
        out = detail = NULL;
        mcpauth_route_complete(engines[i], req, req_len, res, res_len,
                               flags | MCPAUTH_ROUTE_NONBLOCK, &out, &detail);
        mcpauth_free(out);
        mcpauth_free(detail);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!own) {
        char *d = NULL;
        if (mcpauth_engine_new(own_config, sizeof own_config - 1, MCPAUTH_ENGINE_NO_ENV, &own,
                               &d) != MCPAUTH_OK ||
            mcpauth_engine_new(host_config, sizeof host_config - 1, MCPAUTH_ENGINE_NO_ENV, &host,
                               &d) != MCPAUTH_OK)
            abort();
    }
    if (size < 3) return 0;
    if (data[0] == 0xff) {
        const char *p = (const char *)data + 1;
        size_t n = size - 1;
        const char *nl = memchr(p, '\n', n);
        size_t rl = nl ? (size_t)(nl - p) : n;
        run(p, rl, nl ? nl + 1 : "", nl ? n - rl - 1 : 0, 0);
        return 0;
    }
    unsigned shape = data[2];
    json_t *req = json_object(), *headers = json_object();
    json_object_set_new(req, "method",
                        json_string(methods[data[0] % (sizeof methods / sizeof *methods)]));
    json_object_set_new(req, "path", json_string(paths[data[1] % (sizeof paths / sizeof *paths)]));
    json_object_set_new(headers, "host", json_string("mcp.fuzz:8080"));
    const uint8_t *p = data + 3, *end = data + size;
    const uint8_t *field[4] = {NULL, NULL, NULL, NULL};
    size_t flen[4] = {0, 0, 0, 0};
    for (size_t f = 0; f < 4 && p <= end; f++) {
        const uint8_t *nl = f < 3 ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        field[f] = p;
        flen[f] = n;
        p += n + 1;
    }
    if (field[0]) put(headers, "authorization", field[0], flen[0]);
    if ((shape & 1) && field[1]) put(req, "body", field[1], flen[1]);
    if (shape & 2) json_object_set_new(req, "bodyTruncated", json_true());
    if ((shape & 4) && field[2]) put(req, "peer", field[2], flen[2]);
    json_object_set_new(req, "headers", headers);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (text) {
        run(text, strlen(text), field[3] ? (const char *)field[3] : "", field[3] ? flen[3] : 0,
            (shape & 8) ? MCPAUTH_ROUTE_WITH_TOKEN : 0);
        free(text);
    }
    return 0;
}
