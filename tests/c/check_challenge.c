/* check_challenge.c - WWW-Authenticate rendering, byte for byte (RFC 6750 section 3,
 * RFC 9728 section 5.1, MCP 2025-11-25 examples), and the public mcpauth_challenge(). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http/challenge.h"
#include "mcpauth.h"

#define PRM "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

static void expect(const char *error, const char *desc, const char *scope, const char *prm,
                   const char *want) {
    char *out = (char *)"sentinel";
    ck_assert_int_eq(mcp_challenge_render(error, desc, scope, prm, &out), MCPAUTH_OK);
    ck_assert_str_eq(out, want);
    free(out);
}

static void expect_refused(const char *error, const char *desc, const char *scope,
                           const char *prm) {
    char *out = (char *)"sentinel";
    ck_assert_int_eq(mcp_challenge_render(error, desc, scope, prm, &out),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
}

START_TEST(no_credentials_has_no_error) {
    expect(NULL, NULL, "mcp:read mcp:write", PRM,
           "Bearer resource_metadata=\"" PRM "\", scope=\"mcp:read mcp:write\"");
    /* a description without an error code is never emitted (RFC 6750 3.1) */
    expect(NULL, "ignored", "mcp:read", PRM,
           "Bearer resource_metadata=\"" PRM "\", scope=\"mcp:read\"");
}
END_TEST

START_TEST(no_credentials_without_scope) {
    expect(NULL, NULL, NULL, PRM, "Bearer resource_metadata=\"" PRM "\"");
    expect(NULL, NULL, "", PRM, "Bearer resource_metadata=\"" PRM "\"");
    expect(NULL, NULL, NULL, NULL, "Bearer");
}
END_TEST

START_TEST(invalid_token_order) {
    expect("invalid_token", "token has expired", "mcp:read", PRM,
           "Bearer error=\"invalid_token\", error_description=\"token has expired\", "
           "resource_metadata=\"" PRM "\", scope=\"mcp:read\"");
    expect("invalid_token", "token has expired", NULL, PRM,
           "Bearer error=\"invalid_token\", error_description=\"token has expired\", "
           "resource_metadata=\"" PRM "\"");
}
END_TEST

START_TEST(insufficient_scope_order) {
    expect("insufficient_scope", "insufficient scope", "mcp:read admin", PRM,
           "Bearer error=\"insufficient_scope\", scope=\"mcp:read admin\", "
           "resource_metadata=\"" PRM "\", error_description=\"insufficient scope\"");
}
END_TEST

START_TEST(invalid_request_order) {
    expect("invalid_request", "malformed Authorization header", "s", PRM,
           "Bearer error=\"invalid_request\", error_description=\"malformed Authorization "
           "header\", resource_metadata=\"" PRM "\", scope=\"s\"");
}
END_TEST

START_TEST(quoted_string_escaping) {
    expect("invalid_token", "say \"hi\" \\ bye", NULL, NULL,
           "Bearer error=\"invalid_token\", error_description=\"say \\\"hi\\\" \\\\ bye\"");
    expect(NULL, NULL, NULL, "https://h/a\"b\\c",
           "Bearer resource_metadata=\"https://h/a\\\"b\\\\c\"");
}
END_TEST

START_TEST(header_injection_refused) {
    expect_refused("invalid_token", "line\r\nSet-Cookie: x=1", NULL, PRM);
    expect_refused("invalid_token", "tab\there", NULL, PRM);
    expect_refused(NULL, NULL, "a\nb", PRM);
    expect_refused(NULL, NULL, NULL, "https://h/\x7f");
    expect_refused("invalid_token", "caf\xc3\xa9", NULL, PRM);
    expect_refused("bad code", "x", NULL, PRM);
    expect_refused("bad\"code", "x", NULL, PRM);
    expect_refused("", "x", NULL, PRM);
    ck_assert_int_eq(mcp_challenge_render(NULL, NULL, NULL, NULL, NULL),
                     MCPAUTH_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(scope_tokens) {
    ck_assert_int_eq(mcp_scope_token_valid("mcp:read"), 1);
    ck_assert_int_eq(mcp_scope_token_valid("https://graph.example.com/.default"), 1);
    ck_assert_int_eq(mcp_scope_token_valid("!"), 1);
    ck_assert_int_eq(mcp_scope_token_valid(""), 0);
    ck_assert_int_eq(mcp_scope_token_valid(NULL), 0);
    ck_assert_int_eq(mcp_scope_token_valid("a b"), 0);
    ck_assert_int_eq(mcp_scope_token_valid("a\"b"), 0);
    ck_assert_int_eq(mcp_scope_token_valid("a\\b"), 0);
    ck_assert_int_eq(mcp_scope_token_valid("caf\xc3\xa9"), 0);
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(mcp_scope_token_valid(big), 0);
    big[256] = '\0';
    ck_assert_int_eq(mcp_scope_token_valid(big), 1);
}
END_TEST

/* ---- the public function, through an engine ---------------------------------------------- */

static const char *const engine_cfg =
    "{\"issuer\":\"https://issuer.example.com\",\"secret\":\"0123456789abcdef0123456789abcdef\","
    "\"algorithms\":[\"HS256\"],\"baseUrl\":\"https://mcp.example.com\","
    "\"requiredScopes\":[\"mcp:read\",\"mcp:write\"]}";

static mcpauth_engine *make_engine(const char *cfg) {
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, &detail);
    if (rc != MCPAUTH_OK) ck_abort_msg("engine: %s", detail ? detail : mcpauth_code_name(rc));
    return e;
}

static void expect_public(mcpauth_engine *e, int code, const char *scope, const char *desc,
                          const char *want) {
    char *out = (char *)"sentinel";
    ck_assert_int_eq(mcpauth_challenge(e, code, scope, desc, &out), MCPAUTH_OK);
    ck_assert_str_eq(out, want);
    mcpauth_free(out);
}

START_TEST(public_challenge_forms) {
    mcpauth_engine *e = make_engine(engine_cfg);
    expect_public(e, MCPAUTH_E_TOKEN_MISSING, NULL, NULL,
                  "Bearer resource_metadata=\"" PRM "\", scope=\"mcp:read mcp:write\"");
    expect_public(e, MCPAUTH_E_EXPIRED, NULL, NULL,
                  "Bearer error=\"invalid_token\", error_description=\"token has expired\", "
                  "resource_metadata=\"" PRM "\", scope=\"mcp:read mcp:write\"");
    expect_public(e, MCPAUTH_E_AUDIENCE_MISMATCH, "x", NULL,
                  "Bearer error=\"invalid_token\", error_description=\"token audience or "
                  "resource mismatch\", resource_metadata=\"" PRM "\", scope=\"x\"");
    expect_public(e, MCPAUTH_E_INSUFFICIENT_SCOPE, "admin", "need admin",
                  "Bearer error=\"insufficient_scope\", scope=\"admin\", "
                  "resource_metadata=\"" PRM "\", error_description=\"need admin\"");
    expect_public(e, MCPAUTH_E_MALFORMED_HEADER, "", NULL,
                  "Bearer error=\"invalid_request\", error_description=\"malformed "
                  "Authorization header\", resource_metadata=\"" PRM "\"");
    expect_public(e, MCPAUTH_E_TOKEN_IN_QUERY, "", NULL,
                  "Bearer error=\"invalid_request\", error_description=\"access token in the "
                  "query string is refused\", resource_metadata=\"" PRM "\"");
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(public_challenge_refusals) {
    mcpauth_engine *e = make_engine(engine_cfg);
    char *out = (char *)"sentinel";
    /* codes that have no challenge */
    int none[] = {MCPAUTH_OK,
                  MCPAUTH_E_KEYS_UNAVAILABLE,
                  MCPAUTH_E_UPSTREAM,
                  MCPAUTH_E_NOMEM,
                  MCPAUTH_E_WOULD_BLOCK,
                  9999,
                  -1};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        out = (char *)"sentinel";
        ck_assert_int_eq(mcpauth_challenge(e, none[i], NULL, NULL, &out),
                         MCPAUTH_E_INVALID_ARGUMENT);
        ck_assert_ptr_null(out);
    }
    out = (char *)"sentinel";
    ck_assert_int_eq(mcpauth_challenge(e, MCPAUTH_E_EXPIRED, NULL, "bad\r\nx", &out),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(mcpauth_challenge(NULL, MCPAUTH_E_EXPIRED, NULL, NULL, &out),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_int_eq(mcpauth_challenge(e, MCPAUTH_E_EXPIRED, NULL, NULL, NULL),
                     MCPAUTH_E_INVALID_ARGUMENT);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(public_challenge_needs_base_url) {
    mcpauth_engine *e =
        make_engine("{\"issuer\":\"https://"
                    "issuer.example.com\",\"secret\":\"0123456789abcdef0123456789abcdef\","
                    "\"algorithms\":[\"HS256\"],\"audience\":\"api\"}");
    char *out = (char *)"sentinel";
    ck_assert_int_eq(mcpauth_challenge(e, MCPAUTH_E_TOKEN_MISSING, NULL, NULL, &out),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(out);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(public_challenge_explicit_resource) {
    mcpauth_engine *e = make_engine(
        "{\"issuer\":\"https://"
        "issuer.example.com\",\"secret\":\"0123456789abcdef0123456789abcdef\","
        "\"algorithms\":[\"HS256\"],\"resource\":\"https://api.example.com/tenant/mcp\"}");
    expect_public(e, MCPAUTH_E_TOKEN_MISSING, NULL, NULL,
                  "Bearer resource_metadata=\"https://api.example.com/.well-known/"
                  "oauth-protected-resource/tenant/mcp\"");
    mcpauth_engine_free(e);
}
END_TEST

static Suite *challenge_suite(void) {
    Suite *s = suite_create("challenge");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, no_credentials_has_no_error);
    tcase_add_test(tc, no_credentials_without_scope);
    tcase_add_test(tc, invalid_token_order);
    tcase_add_test(tc, insufficient_scope_order);
    tcase_add_test(tc, invalid_request_order);
    tcase_add_test(tc, quoted_string_escaping);
    tcase_add_test(tc, header_injection_refused);
    tcase_add_test(tc, scope_tokens);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("public");
    tcase_add_test(tp, public_challenge_forms);
    tcase_add_test(tp, public_challenge_refusals);
    tcase_add_test(tp, public_challenge_needs_base_url);
    tcase_add_test(tp, public_challenge_explicit_resource);
    suite_add_tcase(s, tp);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(challenge_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
