/* check_json_write.c - the result serializer matches jansson's compact output byte for byte
 * (reals: same value), escapes what JSON requires and fails closed on absurd nesting. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_write.h"

static void same_as_jansson(const char *text) {
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    ck_assert_msg(v != NULL, "bad test input %s", text);
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len = 0;
    char *got = mcp_json_write(v, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(len, strlen(want));
    free(want);
    free(got);
    json_decref(v);
}

START_TEST(matches_jansson_compact_output) {
    same_as_jansson("{}");
    same_as_jansson("[]");
    same_as_jansson("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}");
    same_as_jansson("[0,-1,9223372036854775807,-9223372036854775808,42]");
    same_as_jansson("\"plain ascii\"");
    same_as_jansson("\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\"");
    same_as_jansson("\"ctl \\u0001\\u001f del \\u007f\"");
    same_as_jansson("\"utf-8 \\u00e9\\u4e2d\\ud83d\\ude00\"");
    same_as_jansson("{\"k\\\"ey\":\"v\",\"\\u0001ctl\":1}");
    same_as_jansson("[[[[[[[[[[\"deep\"]]]]]]]]]]");
    same_as_jansson(
        "{\"user\":{\"userId\":\"u\",\"roles\":[\"a\",\"b\"]},\"expiresAt\":1790000000}");
}
END_TEST

/* The 8-bytes-at-a-time scan must notice an escape at every position of a word. */
START_TEST(escapes_found_at_every_offset) {
    const char specials[] = {'"', '\\', '\n', 0x01, 0x1f};
    for (size_t k = 0; k < sizeof specials; k++) {
        for (size_t pos = 0; pos < 41; pos++) {
            char raw[42];
            memset(raw, 'a', 41);
            raw[41] = '\0';
            raw[pos] = specials[k];
            json_t *v = json_string(raw);
            char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            char *got = mcp_json_write(v, NULL);
            ck_assert_ptr_nonnull(got);
            ck_assert_str_eq(got, want);
            free(want);
            free(got);
            json_decref(v);
        }
    }
}
END_TEST

START_TEST(reals_keep_their_value_and_stay_reals) {
    const double values[] = {0.5, -1.25, 1e300, 3.0, 1.5e-7, 123456789.125};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        json_t *v = json_real(values[i]);
        char *s = mcp_json_write(v, NULL);
        ck_assert_ptr_nonnull(s);
        json_error_t je;
        json_t *back = json_loads(s, JSON_DECODE_ANY, &je);
        ck_assert_msg(back && json_is_real(back), "not a real: %s", s);
        ck_assert(json_real_value(back) == values[i]);
        json_decref(back);
        json_decref(v);
        free(s);
    }
}
END_TEST

START_TEST(absurd_nesting_fails_closed) {
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < 100; i++) {
        json_t *n = json_array();
        json_array_append_new(cur, n);
        cur = n;
    }
    ck_assert_ptr_null(mcp_json_write(root, NULL));
    json_decref(root);
    ck_assert_ptr_null(mcp_json_write(NULL, NULL));
}
END_TEST

int main(void) {
    Suite *s = suite_create("json_write");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, matches_jansson_compact_output);
    tcase_add_test(tc, escapes_found_at_every_offset);
    tcase_add_test(tc, reals_keep_their_value_and_stay_reals);
    tcase_add_test(tc, absurd_nesting_fails_closed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
