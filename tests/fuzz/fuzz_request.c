/* fuzz_request.c - libFuzzer target: the HTTP router (metadata, challenges, the Authorization
 * header, query strings, cookies, forms and JSON bodies of the OAuth proxy endpoints), in
 * non-blocking mode so that no input can cause network I/O.
 *
 * Input: byte 0 picks the method, byte 1 the path; the rest is split on '\n' into query,
 * authorization, cookie, content-type, origin and body. With byte 0 == 0xff the rest is handed
 * to the router as raw request JSON instead. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mcpauth_engine *engine;

static const char config[] =
    "{\"issuer\":\"https://issuer.fuzz\",\"secret\":\"fuzz-secret-0123456789abcdef-0123456789\","
    "\"algorithms\":[\"HS256\"],\"baseUrl\":\"http://localhost:8080\",\"requiredScopes\":[\"a\"],"
    "\"routeScopes\":{\"/mcp/admin\":[\"admin\"],\"tools/call\":[\"tools\"]},"
    "\"proxy\":{\"authEndpoint\":\"http://127.0.0.1:1/auth\",\"tokenEndpoint\":"
    "\"http://127.0.0.1:1/token\",\"clientId\":\"upstream\",\"clientSecret\":\"s\","
    "\"sealingSecret\":\"fuzz-sealing-secret-0123456789abcdef-xyz\"}}";

static const char *const methods[] = {"GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE"};
static const char *const paths[] = {"/mcp",
                                    "/mcp/admin",
                                    "/.well-known/oauth-protected-resource",
                                    "/.well-known/oauth-protected-resource/mcp",
                                    "/.well-known/oauth-authorization-server",
                                    "/.well-known/openid-configuration",
                                    "/register",
                                    "/authorize",
                                    "/oauth/callback",
                                    "/token",
                                    "/consent",
                                    "/other"};

static void put(json_t *o, const char *k, const uint8_t *p, size_t n) {
    json_t *s = json_stringn((const char *)p, n); /* NULL for invalid UTF-8: skipped */
    if (s) json_object_set_new(o, k, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!engine) {
        char *d = NULL;
        if (mcpauth_engine_new(config, sizeof config - 1, MCPAUTH_ENGINE_NO_ENV, &engine, &d) !=
            MCPAUTH_OK)
            abort();
    }
    if (size < 2) return 0;
    char *out = NULL;
    if (data[0] == 0xff) {
        mcpauth_handle_request(engine, (const char *)data + 1, size - 1, MCPAUTH_REQUEST_NONBLOCK,
                               &out);
        mcpauth_free(out);
        return 0;
    }
    json_t *req = json_object(), *headers = json_object();
    json_object_set_new(req, "method",
                        json_string(methods[data[0] % (sizeof methods / sizeof *methods)]));
    json_object_set_new(req, "path", json_string(paths[data[1] % (sizeof paths / sizeof *paths)]));
    static const char *const fields[] = {"query",        "authorization", "cookie",
                                         "content-type", "origin",        "body"};
    const uint8_t *p = data + 2, *end = data + size;
    for (size_t f = 0; f < sizeof fields / sizeof *fields && p <= end; f++) {
        const uint8_t *nl =
            f + 1 < sizeof fields / sizeof *fields ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (f == 0 || f == 5)
            put(req, fields[f], p, n);
        else
            put(headers, fields[f], p, n);
        p += n + 1;
    }
    json_object_set_new(req, "headers", headers);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (text) {
        mcpauth_handle_request(engine, text, strlen(text), MCPAUTH_REQUEST_NONBLOCK, &out);
        mcpauth_free(out);
        free(text);
    }
    return 0;
}
