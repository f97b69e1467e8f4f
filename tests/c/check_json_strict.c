/* check_json_strict.c - the hostile-input JSON parser and the typed accessors. */
#include <check.h>
#include <jansson.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_strict.h"

#define CODE 4242

static json_t *parse(const char *s, int want_object, mcp_err *err) {
    return mcp_json_parse(s, strlen(s), MCP_JSON_MAX_DEPTH, want_object, "test doc", CODE, err);
}

static void expect_refused(const char *s, size_t len, int want_object) {
    mcp_err err = {0};
    json_t *j = mcp_json_parse(s, len, MCP_JSON_MAX_DEPTH, want_object, "test doc", CODE, &err);
    ck_assert_msg(j == NULL, "accepted: %.*s", (int)len, s);
    ck_assert_int_eq(err.code, CODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "test doc"));
}

START_TEST(accepts_objects_and_with_any_other_values) {
    mcp_err err = {0};
    json_t *j = parse(" {\"a\":1,\"b\":[true,null,\"x\"]} \n", 1, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "a")), 1);
    json_decref(j);
    j = parse("[1,2]", 0, &err);
    ck_assert(json_is_array(j));
    json_decref(j);
    j = parse("\"text\"", 0, &err);
    ck_assert(json_is_string(j));
    json_decref(j);
    j = parse("12", 0, &err);
    ck_assert(json_is_integer(j));
    json_decref(j);
}
END_TEST

START_TEST(want_object_refuses_other_roots) {
    const char *bad[] = {"[]", "\"s\"", "1", "null", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i], strlen(bad[i]), 1);
}
END_TEST

START_TEST(duplicate_keys_refused_at_every_level) {
    expect_refused("{\"a\":1,\"a\":1}", 13, 0);
    expect_refused("{\"x\":{\"a\":1,\"a\":2}}", 19, 0);
    expect_refused("[{\"a\":1,\"a\":2}]", 15, 0);
}
END_TEST

START_TEST(trailing_data_refused_whitespace_allowed) {
    expect_refused("{} {}", 5, 1);
    expect_refused("{}x", 3, 1);
    expect_refused("{},", 3, 1);
    mcp_err err = {0};
    json_t *j = parse("{}  \r\n\t", 1, &err);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
}
END_TEST

START_TEST(nul_bytes_refused) {
    expect_refused("{}\0", 3, 1);
    expect_refused("{\"a\":\"b\0c\"}", 11, 1);
    expect_refused("{\"a\":\"\\u0000\"}", 13, 1);
    expect_refused("{\"\\u0000\":1}", 12, 1);
}
END_TEST

START_TEST(invalid_utf8_and_syntax_refused) {
    expect_refused("{\"a\":\"\xc3\x28\"}", 10, 1);
    expect_refused("{\"a\":\"\xed\xa0\x80\"}", 11, 1); /* surrogate as UTF-8 */
    expect_refused("{'a':1}", 7, 1);
    expect_refused("{\"a\":01}", 8, 1);
    expect_refused("{\"a\":NaN}", 9, 1);
    expect_refused("{\"a\":1,}", 8, 1);
    expect_refused("", 0, 0);
    expect_refused("{", 1, 1);
    mcp_err err = {0};
    ck_assert_ptr_null(mcp_json_parse(NULL, 3, 8, 0, "x", CODE, &err));
    ck_assert_int_eq(err.code, CODE);
}
END_TEST

static char *nested(int depth, const char *open, const char *close) {
    size_t n = (size_t)depth * 2 + 1;
    char *s = malloc(n);
    for (int i = 0; i < depth; i++) {
        s[i] = open[0];
        s[depth + i] = close[0];
    }
    s[2 * depth] = '\0';
    return s;
}

START_TEST(depth_bounded) {
    mcp_err err = {0};
    char *ok = nested(MCP_JSON_MAX_DEPTH, "[", "]");
    json_t *j = parse(ok, 0, &err);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    free(ok);
    char *deep = nested(MCP_JSON_MAX_DEPTH + 1, "[", "]");
    expect_refused(deep, strlen(deep), 0);
    free(deep);
    /* a smaller cap given by the caller */
    j = mcp_json_parse("[[1]]", 5, 2, 0, "x", CODE, &err);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    ck_assert_ptr_null(mcp_json_parse("[[[1]]]", 7, 2, 0, "x", CODE, &err));
    /* 0 and larger than the library cap both mean the library cap */
    deep = nested(MCP_JSON_MAX_DEPTH + 1, "[", "]");
    ck_assert_ptr_null(mcp_json_parse(deep, strlen(deep), 0, 0, "x", CODE, &err));
    ck_assert_ptr_null(mcp_json_parse(deep, strlen(deep), 1000, 0, "x", CODE, &err));
    free(deep);
    /* a million brackets cost one scan */
    size_t n = (size_t)1 << 20;
    char *bomb = malloc(n);
    memset(bomb, '{', n);
    expect_refused(bomb, n, 1);
    free(bomb);
}
END_TEST

START_TEST(brackets_inside_strings_do_not_count) {
    mcp_err err = {0};
    json_t *j = parse("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{{{{{{{{{"
                      "{{{{{{{{{{{\"}",
                      1, &err);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
}
END_TEST

START_TEST(error_text_never_quotes_input) {
    mcp_err err = {0};
    ck_assert_ptr_null(parse("{\"a\": secretvalue}", 1, &err));
    ck_assert_ptr_null(strstr(err.msg, "secretvalue"));
    ck_assert_ptr_null(parse("{\"a\":1} trailingsecret", 1, &err));
    ck_assert_ptr_null(strstr(err.msg, "trailingsecret"));
}
END_TEST

START_TEST(path_lookup) {
    mcp_err err = {0};
    json_t *j = parse("{\"realm_access\":{\"roles\":[\"a\"]},\"https://x.example/roles\":[\"r\"],"
                      "\"a\":{\"b\":{\"c\":3}},\"s\":\"str\",\"d.e\":{\"f\":1}}",
                      1, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_array(mcp_json_path(j, "realm_access.roles")));
    ck_assert_int_eq(json_integer_value(mcp_json_path(j, "a.b.c")), 3);
    ck_assert(json_is_array(mcp_json_path(j, "https://x.example/roles")));
    ck_assert_int_eq(json_integer_value(mcp_json_path(j, "d.e.f")), 1);
    ck_assert_ptr_eq(mcp_json_path(j, "s"), json_object_get(j, "s"));
    ck_assert_ptr_null(mcp_json_path(j, "a.b.c.d"));
    ck_assert_ptr_null(mcp_json_path(j, "s.x"));
    ck_assert_ptr_null(mcp_json_path(j, "missing"));
    ck_assert_ptr_null(mcp_json_path(j, "a."));
    ck_assert_ptr_null(mcp_json_path(j, ".a"));
    ck_assert_ptr_null(mcp_json_path(j, ""));
    ck_assert_ptr_null(mcp_json_path(j, NULL));
    ck_assert_ptr_null(mcp_json_path(NULL, "a"));
    json_decref(j);
}
END_TEST

START_TEST(time_values) {
    int64_t t = -7;
    json_t *v = json_integer(1700000000);
    ck_assert_int_eq(mcp_json_time(v, &t), 0);
    ck_assert_int_eq(t, 1700000000);
    json_decref(v);
    v = json_integer(0);
    ck_assert_int_eq(mcp_json_time(v, &t), 0);
    ck_assert_int_eq(t, 0);
    json_decref(v);
    v = json_integer(INT64_MAX);
    ck_assert_int_eq(mcp_json_time(v, &t), 0);
    ck_assert(t == INT64_MAX);
    json_decref(v);
    v = json_real(1700000000.75);
    ck_assert_int_eq(mcp_json_time(v, &t), 0);
    ck_assert_int_eq(t, 1700000000);
    json_decref(v);
    t = 5;
    json_t *bad[] = {json_integer(-1),
                     json_real(-0.5),
                     json_real(1e19),
                     json_real(9.3e18),
                     json_string("1700000000"),
                     json_true(),
                     json_false(),
                     json_null(),
                     json_array()};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(mcp_json_time(bad[i], &t) == -1, "case %zu accepted", i);
        json_decref(bad[i]);
    }
    ck_assert_int_eq(t, 5); /* untouched on failure */
    ck_assert_int_eq(mcp_json_time(NULL, &t), -1);
    v = json_integer(1);
    ck_assert_int_eq(mcp_json_time(v, NULL), -1);
    json_decref(v);
}
END_TEST

static void expect_list(json_t *in, const char *const *want, size_t n) {
    json_t *l = mcp_json_string_list(in);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(json_array_size(l), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(json_string_value(json_array_get(l, i)), want[i]);
    json_decref(l);
    json_decref(in);
}

START_TEST(string_lists) {
    const char *abcd[] = {"a", "b", "c", "d"};
    expect_list(json_string(" a b\tc\n\r d  "), abcd, 4);
    expect_list(json_string(""), NULL, 0);
    expect_list(json_string(" \t\n"), NULL, 0);
    const char *one[] = {"read:all"};
    expect_list(json_string("read:all"), one, 1);
    const char *ac[] = {"a", "c d"};
    expect_list(json_pack("[s,i,s,n,{},[s]]", "a", 1, "c d", "x"), ac, 2);
    expect_list(NULL, NULL, 0);
    expect_list(json_integer(3), NULL, 0);
    expect_list(json_object(), NULL, 0);
}
END_TEST

START_TEST(escapes_and_unicode_decoded) {
    mcp_err err = {0};
    json_t *j = parse("{\"k\\u00e9y\\n\":{\"x\\\"\":\"v\\t\\/\\\\\",\"e\":\"\\ud83d\\ude00\"},"
                      "\"raw\":\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\",\"k2\":\"\\u4e2d\"}",
                      1, &err);
    ck_assert_msg(j != NULL, "%s", err.msg);
    json_t *inner = json_object_get(j, "k\xc3\xa9y\n");
    ck_assert_ptr_nonnull(inner);
    ck_assert_str_eq(json_string_value(json_object_get(inner, "x\"")), "v\t/\\");
    ck_assert_str_eq(json_string_value(json_object_get(inner, "e")), "\xf0\x9f\x98\x80");
    ck_assert_str_eq(json_string_value(json_object_get(j, "raw")),
                     "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
    ck_assert_str_eq(json_string_value(json_object_get(j, "k2")), "\xe4\xb8\xad");
    json_decref(j);
}
END_TEST

START_TEST(bad_escapes_and_surrogates_refused) {
    const char *bad[] = {
        "[\"\\ud800\"]",
        "[\"\\udc00\"]",
        "[\"\\ud800\\u0041\"]",
        "[\"\\ud800x\"]",
        "[\"\\x41\"]",
        "[\"\\u12\"]",
        "[\"\\u12g4\"]",
        "[\"\\\"]",
        "[\"a\nb\"]",
        "[\"a\tb\"]",
        "[\"\xc0\x80\"]",
        "[\"\xe0\x80\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\xf8\x88\x80\x80\x80\"]",
        "[\"\xc3\"]",
        "[\"abc",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i], strlen(bad[i]), 0);
}
END_TEST

START_TEST(numbers) {
    mcp_err err = {0};
    json_t *j =
        parse("[0,-0,9223372036854775807,-9223372036854775808,1.5,-2.5e3,1E2,1e-400]", 0, &err);
    ck_assert_msg(j != NULL, "%s", err.msg);
    ck_assert(json_integer_value(json_array_get(j, 2)) == INT64_MAX);
    ck_assert(json_integer_value(json_array_get(j, 3)) == INT64_MIN);
    ck_assert(json_real_value(json_array_get(j, 4)) == 1.5);
    ck_assert(json_real_value(json_array_get(j, 5)) == -2500.0);
    ck_assert(json_is_real(json_array_get(j, 6)));
    ck_assert(json_real_value(json_array_get(j, 7)) == 0.0);
    json_decref(j);
    const char *bad[] = {"[9223372036854775808]",
                         "[-9223372036854775809]",
                         "[1e400]",
                         "[-1e999]",
                         "[01]",
                         "[1.]",
                         "[.5]",
                         "[1e]",
                         "[+1]",
                         "[-]",
                         "[0x10]",
                         "[1.5e+]",
                         "[Infinity]",
                         "[--1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i], strlen(bad[i]), 0);
}
END_TEST

START_TEST(reals_ignore_the_process_locale) {
    const char *locs[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof locs / sizeof locs[0] && !set; i++)
        set = setlocale(LC_NUMERIC, locs[i]);
    mcp_err err = {0};
    json_t *j = parse("[1.25]", 0, &err);
    setlocale(LC_NUMERIC, "C");
    ck_assert_ptr_nonnull(j);
    ck_assert(json_real_value(json_array_get(j, 0)) == 1.25);
    json_decref(j);
    if (!set) printf("reals_ignore_the_process_locale: no comma-decimal locale installed\n");
}
END_TEST

static Suite *json_suite(void) {
    Suite *s = suite_create("json_strict");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accepts_objects_and_with_any_other_values);
    tcase_add_test(tc, want_object_refuses_other_roots);
    tcase_add_test(tc, duplicate_keys_refused_at_every_level);
    tcase_add_test(tc, trailing_data_refused_whitespace_allowed);
    tcase_add_test(tc, nul_bytes_refused);
    tcase_add_test(tc, invalid_utf8_and_syntax_refused);
    tcase_add_test(tc, depth_bounded);
    tcase_add_test(tc, brackets_inside_strings_do_not_count);
    tcase_add_test(tc, error_text_never_quotes_input);
    tcase_add_test(tc, path_lookup);
    tcase_add_test(tc, time_values);
    tcase_add_test(tc, string_lists);
    tcase_add_test(tc, escapes_and_unicode_decoded);
    tcase_add_test(tc, bad_escapes_and_surrogates_refused);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, reals_ignore_the_process_locale);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
