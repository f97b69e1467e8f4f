/* check_http_client.c - the bounded HTTP client against the loopback test server, and URL
 * checks. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/http_client.h"
#include "httpd.h"

static tu_httpd *srv;

static void setup(void) {
    srv = tu_httpd_start();
    ck_assert_ptr_nonnull(srv);
}

static void teardown(void) {
    tu_httpd_stop(srv);
    srv = NULL;
}

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static mcp_http_opts quick_opts(void) {
    mcp_http_opts o = {.connect_timeout_ms = 1000, .total_timeout_ms = 2000, .max_body = 1 << 20};
    return o;
}

/* ---------------------------------------------------------------------------------------- */

typedef struct seen_addr {
    int calls;
    char last[64];
    int allow;
} seen_addr;

static int record_addr(const struct sockaddr *sa, void *ctx) {
    seen_addr *s = ctx;
    s->calls++;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, s->last,
                  sizeof s->last);
    return s->allow;
}

/* addr_ok sees the address of the socket that connects, and a refusal fails the fetch before
 * any byte is sent */
START_TEST(connect_address_checked) {
    tu_httpd_route(srv, "/pin", 200, "{}");
    mcp_http_opts o = quick_opts();
    seen_addr s = {0, "", 0};
    o.addr_ok = record_addr;
    o.addr_ctx = &s;
    o.direct = 1;
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/pin"), &o, NULL, &resp, &err),
                     MCPAUTH_E_UPSTREAM);
    mcp_http_response_clear(&resp);
    ck_assert_int_ge(s.calls, 1);
    ck_assert_str_eq(s.last, "127.0.0.1");
    ck_assert_uint_eq(tu_httpd_hits(srv, "/pin"), 0);
    s.allow = 1;
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/pin"), &o, NULL, &resp, &err), MCPAUTH_OK);
    ck_assert_int_eq(resp.status, 200);
    mcp_http_response_clear(&resp);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/pin"), 1);
}
END_TEST

START_TEST(get_200_body) {
    tu_route r = {.path = "/hello",
                  .body = "{\"hello\":\"world\"}",
                  .content_type = "application/json; charset=utf-8"};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    mcp_http_opts o = quick_opts();
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/hello"), &o, NULL, &resp, &err), MCPAUTH_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_uint_eq(resp.body_len, strlen("{\"hello\":\"world\"}"));
    ck_assert_str_eq(resp.body, "{\"hello\":\"world\"}");
    ck_assert_ptr_nonnull(resp.content_type);
    ck_assert_str_eq(resp.content_type, "application/json; charset=utf-8");
    ck_assert_int_eq(resp.max_age, -1);
    ck_assert_int_eq(resp.no_store, 0);
    mcp_http_response_clear(&resp);
    ck_assert_ptr_null(resp.body);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/hello"), 1);
    char *m = tu_httpd_last_method(srv, "/hello");
    ck_assert_str_eq(m, "GET");
    free(m);
}
END_TEST

START_TEST(get_empty_body_and_404) {
    tu_httpd_route(srv, "/empty", 204, NULL);
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/empty"), NULL, NULL, &resp, &err),
                     MCPAUTH_OK);
    ck_assert_int_eq(resp.status, 204);
    ck_assert_ptr_nonnull(resp.body);
    ck_assert_uint_eq(resp.body_len, 0);
    ck_assert_str_eq(resp.body, "");
    mcp_http_response_clear(&resp);
    /* Any HTTP status is a successful request; the caller checks it. */
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/nothing"), NULL, NULL, &resp, &err),
                     MCPAUTH_OK);
    ck_assert_int_eq(resp.status, 404);
    mcp_http_response_clear(&resp);
    ck_assert_uint_eq(tu_httpd_misses(srv), 1);
}
END_TEST

START_TEST(body_over_cap_content_length) {
    size_t n = 5000;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    tu_httpd_route(srv, "/big", 200, big);
    mcp_http_opts o = quick_opts();
    o.max_body = 4999;
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/big"), &o, NULL, &resp, &err),
                     MCPAUTH_E_UPSTREAM);
    ck_assert_int_eq(err.code, MCPAUTH_E_UPSTREAM);
    ck_assert_ptr_nonnull(strstr(err.msg, "response too large"));
    ck_assert_ptr_null(resp.body);
    /* exactly at the cap is fine */
    o.max_body = 5000;
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/big"), &o, NULL, &resp, &err), MCPAUTH_OK);
    ck_assert_uint_eq(resp.body_len, 5000);
    mcp_http_response_clear(&resp);
    free(big);
}
END_TEST

START_TEST(body_over_cap_chunked) {
    /* No Content-Length: the cap must be enforced while receiving. */
    size_t n = 3 << 20;
    char *big = malloc(n + 1);
    memset(big, 'b', n);
    big[n] = '\0';
    tu_route r = {.path = "/chunked", .body = big, .chunked = 1};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    free(big);
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/chunked"), NULL, NULL, &resp, &err),
                     MCPAUTH_E_UPSTREAM);
    ck_assert_ptr_nonnull(strstr(err.msg, "response too large"));
    /* a small chunked body passes */
    tu_route r2 = {.path = "/chunked-small", .body = "{\"ok\":true}", .chunked = 1};
    ck_assert_int_eq(tu_httpd_set(srv, &r2), 0);
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/chunked-small"), NULL, NULL, &resp, &err),
                     MCPAUTH_OK);
    ck_assert_str_eq(resp.body, "{\"ok\":true}");
    mcp_http_response_clear(&resp);
}
END_TEST

START_TEST(timeout_on_hanging_route) {
    tu_route r = {.path = "/hang", .body = "{}", .delay_ms = 10000};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_http_opts o = {.connect_timeout_ms = 200, .total_timeout_ms = 400, .max_body = 1 << 20};
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    double t0 = mono_ms();
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/hang"), &o, NULL, &resp, &err),
                     MCPAUTH_E_UPSTREAM);
    double dt = mono_ms() - t0;
    ck_assert_msg(dt >= 350 && dt < 400 + 600, "timeout took %.0f ms", dt);
    ck_assert_ptr_nonnull(strstr(err.msg, "timed out"));
    ck_assert_uint_eq(tu_httpd_hits(srv, "/hang"), 1);
}
END_TEST

START_TEST(connection_refused) {
    unsigned port = tu_httpd_port(srv);
    tu_httpd_stop(srv);
    srv = tu_httpd_start(); /* teardown stops this one */
    char url[64];
    if (tu_httpd_port(srv) == port) return; /* same port reused: nothing to test */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", port);
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(url, NULL, NULL, &resp, &err), MCPAUTH_E_UPSTREAM);
    ck_assert_ptr_nonnull(strstr(err.msg, "HTTP request failed"));
}
END_TEST

static int64_t max_age_for(const char *cc, int *no_store) {
    tu_route r = {.path = "/cc", .body = "{}", .cache_control = cc};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/cc"), NULL, NULL, &resp, &err), MCPAUTH_OK);
    int64_t a = resp.max_age;
    if (no_store) *no_store = resp.no_store;
    mcp_http_response_clear(&resp);
    return a;
}

START_TEST(cache_control_parsing) {
    int ns = -1;
    ck_assert_int_eq(max_age_for(NULL, &ns), -1);
    ck_assert_int_eq(ns, 0);
    ck_assert_int_eq(max_age_for("max-age=120", &ns), 120);
    ck_assert_int_eq(ns, 0);
    ck_assert_int_eq(max_age_for("public, max-age=3600, must-revalidate", &ns), 3600);
    ck_assert_int_eq(max_age_for("MAX-AGE=10", &ns), 10);
    ck_assert_int_eq(max_age_for("max-age=\"90\"", &ns), 90);
    ck_assert_int_eq(max_age_for("max-age = 45", &ns), 45);
    ck_assert_int_eq(max_age_for("s-maxage=30, max-age=600", &ns), 30);
    ck_assert_int_eq(max_age_for("max-age=600, s-maxage=900", &ns), 600);
    ck_assert_int_eq(max_age_for("max-age=0", &ns), 0);
    ck_assert_int_eq(max_age_for("max-age=99999999999999999999999", &ns), 2147483648LL);
    /* garbage is ignored */
    ck_assert_int_eq(max_age_for("max-age=abc", &ns), -1);
    ck_assert_int_eq(max_age_for("max-age=-5", &ns), -1);
    ck_assert_int_eq(max_age_for("max-age=12x", &ns), -1);
    ck_assert_int_eq(max_age_for("max-age", &ns), -1);
    ck_assert_int_eq(max_age_for("max-age=", &ns), -1);
    ck_assert_int_eq(max_age_for(",,,=,=,\"", &ns), -1);
    ck_assert_int_eq(ns, 0);
    ck_assert_int_eq(max_age_for("xmax-age=50, foo=\"max-age=5\"", &ns), -1);
    ck_assert_int_eq(max_age_for("no-store", &ns), -1);
    ck_assert_int_eq(ns, 1);
    ck_assert_int_eq(max_age_for("private, no-cache, max-age=100", &ns), 100);
    ck_assert_int_eq(ns, 1);
    ck_assert_int_eq(max_age_for("No-Cache=\"Set-Cookie\"", &ns), -1);
    ck_assert_int_eq(ns, 1);
    /* a value past the bound is ignored as a whole */
    char *huge = malloc(3000);
    memset(huge, 'a', 2980);
    memcpy(huge + 2980, ", max-age=7", 12);
    ck_assert_int_eq(max_age_for(huge, &ns), -1);
    free(huge);
    /* many directives: only the first 32 are looked at */
    char many[1000] = "";
    for (int i = 0; i < 40; i++) strcat(many, "x, ");
    strcat(many, "max-age=5");
    ck_assert_int_eq(max_age_for(many, &ns), -1);
}
END_TEST

START_TEST(content_type_absent) {
    tu_route r = {.path = "/noct", .body = "x", .content_type = ""};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/noct"), NULL, NULL, &resp, &err), MCPAUTH_OK);
    ck_assert_ptr_null(resp.content_type);
    mcp_http_response_clear(&resp);
}
END_TEST

START_TEST(redirect_not_followed) {
    tu_httpd_route(srv, "/target", 200, "{\"target\":true}");
    tu_route r = {
        .path = "/redir", .status = 302, .body = "", .location = tu_httpd_url(srv, "/target")};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/redir"), NULL, NULL, &resp, &err),
                     MCPAUTH_OK);
    ck_assert_int_eq(resp.status, 302);
    mcp_http_response_clear(&resp);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/redir"), 1);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/target"), 0);
}
END_TEST

START_TEST(post_form_and_headers) {
    tu_route r = {.path = "/token", .method = "POST", .body = "{\"access_token\":\"x\"}"};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          "Authorization: Basic Y2xpZW50OnNlY3JldA==", NULL};
    const char *form = "grant_type=authorization_code&code=abc";
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(
        mcp_http_post(tu_httpd_url(srv, "/token"), NULL, hdrs, form, strlen(form), &resp, &err),
        MCPAUTH_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "{\"access_token\":\"x\"}");
    mcp_http_response_clear(&resp);
    char *b = tu_httpd_last_body(srv, "/token");
    ck_assert_str_eq(b, form);
    free(b);
    char *m = tu_httpd_last_method(srv, "/token");
    ck_assert_str_eq(m, "POST");
    free(m);
    char *ct = tu_httpd_last_header(srv, "/token", "content-type");
    ck_assert_str_eq(ct, "application/x-www-form-urlencoded");
    free(ct);
    char *au = tu_httpd_last_header(srv, "/token", "Authorization");
    ck_assert_str_eq(au, "Basic Y2xpZW50OnNlY3JldA==");
    free(au);
    /* GET on a POST-only route is a miss */
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/token"), NULL, NULL, &resp, &err),
                     MCPAUTH_OK);
    ck_assert_int_eq(resp.status, 404);
    mcp_http_response_clear(&resp);
}
END_TEST

START_TEST(header_injection_refused) {
    tu_httpd_route(srv, "/h", 200, "{}");
    const char *bad1[] = {"X-A: 1\r\nX-B: 2", NULL};
    const char *bad2[] = {"NoColon", NULL};
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/h"), NULL, bad1, &resp, &err),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_int_eq(mcp_http_get(tu_httpd_url(srv, "/h"), NULL, bad2, &resp, &err),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/h"), 0);
}
END_TEST

START_TEST(get_refuses_bad_urls_without_io) {
    mcp_http_response resp;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_http_get("http://example.com/jwks", NULL, NULL, &resp, &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_http_get("file:///etc/passwd", NULL, NULL, &resp, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_http_get(NULL, NULL, NULL, &resp, &err), MCPAUTH_E_CONFIG);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */

static int url_ok(const char *u) {
    mcp_err err = {0, {0}};
    int rc = mcp_url_check(u, "jwks_uri", &err);
    if (rc != MCPAUTH_OK) {
        ck_assert_int_eq(err.code, MCPAUTH_E_CONFIG);
        ck_assert_msg(strstr(err.msg, "jwks_uri") != NULL, "message lacks option: %s", err.msg);
    }
    return rc == MCPAUTH_OK;
}

START_TEST(url_check_cases) {
    ck_assert(url_ok("https://idp.example.com/.well-known/jwks.json"));
    ck_assert(url_ok("HTTPS://idp.example.com"));
    ck_assert(url_ok("https://idp.example.com:8443/keys?x=1"));
    ck_assert(url_ok("https://10.0.0.1/keys"));
    ck_assert(url_ok("https://[2001:db8::1]/keys"));
    ck_assert(url_ok("http://127.0.0.1:8080/jwks"));
    ck_assert(url_ok("http://127.1.2.3/jwks"));
    ck_assert(url_ok("http://localhost:3000/jwks"));
    ck_assert(url_ok("http://LOCALHOST/jwks"));
    ck_assert(url_ok("http://[::1]:9000/jwks"));
    ck_assert(url_ok("http://localhost"));

    ck_assert(!url_ok("http://example.com/jwks"));
    ck_assert(!url_ok("http://10.0.0.1/jwks"));
    ck_assert(!url_ok("http://128.0.0.1/jwks"));
    ck_assert(!url_ok("http://127.0.0.1.evil.com/jwks"));
    ck_assert(!url_ok("http://localhost.evil.com/jwks"));
    ck_assert(!url_ok("http://127.0.0.01/jwks")); /* octal ambiguity */
    ck_assert(!url_ok("http://0177.0.0.1/jwks"));
    ck_assert(!url_ok("http://2130706433/jwks"));
    ck_assert(!url_ok("http://127.1/jwks"));
    ck_assert(!url_ok("http://[::2]/jwks"));
    ck_assert(!url_ok("http://[::ffff:127.0.0.1]/jwks"));
    ck_assert(!url_ok("ftp://idp.example.com/jwks"));
    ck_assert(!url_ok("file:///etc/passwd"));
    ck_assert(!url_ok("gopher://idp.example.com/"));
    ck_assert(!url_ok("https:/idp.example.com"));
    ck_assert(!url_ok("//idp.example.com/jwks"));
    ck_assert(!url_ok("idp.example.com/jwks"));
    ck_assert(!url_ok(""));
    ck_assert(!url_ok(NULL));
    ck_assert(!url_ok("https://user:pass@idp.example.com/jwks"));
    ck_assert(!url_ok("https://user@idp.example.com/jwks"));
    ck_assert(!url_ok("http://evil.com@127.0.0.1/jwks"));
    ck_assert(!url_ok("http://127.0.0.1@evil.com/jwks"));
    ck_assert(!url_ok("https://idp.example.com/jwks#frag"));
    ck_assert(!url_ok("https://idp.example.com/jw ks"));
    ck_assert(!url_ok("https://idp.example.com/jwks\n"));
    ck_assert(!url_ok("https://idp.example.com/\tjwks"));
    ck_assert(!url_ok("https://idp.example.com\\@evil.com/"));
    ck_assert(!url_ok("https://idp.ex\xc3\xa4mple.com/"));
    ck_assert(!url_ok("https://idp%2eexample.com/"));
    ck_assert(!url_ok("https:///jwks"));
    ck_assert(!url_ok("https://:443/jwks"));
    ck_assert(!url_ok("https://idp.example.com:/jwks"));
    ck_assert(!url_ok("https://idp.example.com:0/jwks"));
    ck_assert(!url_ok("https://idp.example.com:65536/jwks"));
    ck_assert(!url_ok("https://idp.example.com:80a/jwks"));
    ck_assert(!url_ok("https://[::1/jwks"));
    ck_assert(!url_ok("https://[::1]x/jwks"));
    ck_assert(!url_ok("https://[zz::1]/jwks"));

    /* length bound */
    size_t n = 2100;
    char *lng = malloc(n + 1);
    strcpy(lng, "https://idp.example.com/");
    size_t l = strlen(lng);
    memset(lng + l, 'a', n - l);
    lng[n] = '\0';
    ck_assert(!url_ok(lng));
    lng[2048] = '\0';
    ck_assert(url_ok(lng));
    lng[2049] = '\0';
    lng[2048] = 'a';
    ck_assert(!url_ok(lng));
    free(lng);

    /* the option name shows up; a NULL name still gives a message */
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_url_check("http://example.com", "introspection_endpoint", &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "introspection_endpoint"));
    ck_assert_int_eq(mcp_url_check("ftp://x", NULL, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_url_check("ftp://x", NULL, NULL), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(url_is_loopback) {
    ck_assert_int_eq(mcp_url_is_loopback("http://127.0.0.1:1/"), 1);
    ck_assert_int_eq(mcp_url_is_loopback("https://localhost/"), 1);
    ck_assert_int_eq(mcp_url_is_loopback("http://[::1]/"), 1);
    ck_assert_int_eq(mcp_url_is_loopback("http://127.255.255.254"), 1);
    ck_assert_int_eq(mcp_url_is_loopback("https://example.com/"), 0);
    ck_assert_int_eq(mcp_url_is_loopback("http://10.1.1.1/"), 0);
    ck_assert_int_eq(mcp_url_is_loopback("http://u@127.0.0.1/"), 0);
    ck_assert_int_eq(mcp_url_is_loopback("garbage"), 0);
    ck_assert_int_eq(mcp_url_is_loopback(NULL), 0);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("http_client");
    TCase *net = tcase_create("loopback");
    tcase_add_checked_fixture(net, setup, teardown);
    tcase_set_timeout(net, 30);
    tcase_add_test(net, get_200_body);
    tcase_add_test(net, connect_address_checked);
    tcase_add_test(net, get_empty_body_and_404);
    tcase_add_test(net, body_over_cap_content_length);
    tcase_add_test(net, body_over_cap_chunked);
    tcase_add_test(net, timeout_on_hanging_route);
    tcase_add_test(net, connection_refused);
    tcase_add_test(net, cache_control_parsing);
    tcase_add_test(net, content_type_absent);
    tcase_add_test(net, redirect_not_followed);
    tcase_add_test(net, post_form_and_headers);
    tcase_add_test(net, header_injection_refused);
    tcase_add_test(net, get_refuses_bad_urls_without_io);
    suite_add_tcase(s, net);
    TCase *url = tcase_create("url");
    tcase_add_test(url, url_check_cases);
    tcase_add_test(url, url_is_loopback);
    suite_add_tcase(s, url);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
