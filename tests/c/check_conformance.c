/* check_conformance.c - the binding conformance vectors (bindings/conformance/vectors.json)
 * through the C API: every binding must report exactly these outcomes. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth.h"

static json_t *vectors;

/* Every value of `want` (a subset) must equal the same member of `got`. */
static void expect_subset(const char *name, const char *what, json_t *want, json_t *got) {
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v) {
        json_t *g = json_object_get(got, k);
        ck_assert_msg(g && json_equal(v, g), "%s: %s.%s differs", name, what, k);
    }
}

/* Same members, any order (scopes). */
static void expect_same_set(const char *name, json_t *want, json_t *got) {
    ck_assert_msg(json_is_array(got) && json_array_size(got) == json_array_size(want),
                  "%s: scopes differ in size", name);
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w) {
        int found = 0;
        for (size_t j = 0; j < json_array_size(got); j++)
            if (json_equal(w, json_array_get(got, j))) found = 1;
        ck_assert_msg(found, "%s: scope %s missing", name, json_string_value(w));
    }
}

START_TEST(every_vector) {
    json_t *cases = json_object_get(vectors, "cases"),
           *configs = json_object_get(vectors, "configs");
    ck_assert_uint_gt(json_array_size(cases), 20);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *cfg = json_object_get(configs, json_string_value(json_object_get(c, "config")));
        char *cfg_text = json_dumps(cfg, JSON_COMPACT);
        mcpauth_engine *e = NULL;
        char *detail = NULL;
        ck_assert_msg(mcpauth_engine_new(cfg_text, strlen(cfg_text), MCPAUTH_ENGINE_NO_ENV, &e,
                                         &detail) == MCPAUTH_OK,
                      "%s: config: %s", name, detail ? detail : "?");
        free(cfg_text);
        const char *token = json_string_value(json_object_get(c, "token"));
        json_t *expect = json_object_get(c, "expect");
        char *auth = NULL;
        int rc = mcpauth_verify(e, token, strlen(token), 0, &auth, &detail);
        if (json_is_true(json_object_get(expect, "valid"))) {
            ck_assert_msg(rc == MCPAUTH_OK, "%s: %s (%s)", name, mcpauth_code_name(rc),
                          detail ? detail : "");
            json_error_t je;
            json_t *res = json_loads(auth, 0, &je);
            ck_assert_ptr_nonnull(res);
            /* "payload" is the token's own claims, exactly (the engine splices them in) */
            char *decoded = NULL;
            ck_assert_int_eq(mcpauth_decode_unverified(token, strlen(token), &decoded, NULL),
                             MCPAUTH_OK);
            json_t *dec = json_loads(decoded, 0, &je);
            ck_assert_ptr_nonnull(dec);
            ck_assert_msg(
                json_equal(json_object_get(res, "payload"), json_object_get(dec, "payload")),
                "%s: payload differs from the token's claims", name);
            json_decref(dec);
            mcpauth_free(decoded);
            json_t *user = json_object_get(expect, "user");
            if (user) expect_subset(name, "user", user, json_object_get(res, "user"));
            json_t *scopes = json_object_get(expect, "scopes");
            if (scopes) expect_same_set(name, scopes, json_object_get(res, "scopes"));
            json_t *rest = json_deep_copy(expect);
            json_object_del(rest, "valid");
            json_object_del(rest, "user");
            json_object_del(rest, "scopes");
            expect_subset(name, "auth", rest, res);
            json_decref(rest);
            json_decref(res);
        } else {
            const char *want = json_string_value(json_object_get(expect, "code"));
            ck_assert_msg(strcmp(mcpauth_code_name(rc), want) == 0, "%s: got %s, want %s (%s)",
                          name, mcpauth_code_name(rc), want, detail ? detail : "");
            ck_assert_str_eq(mcpauth_oauth_error(rc),
                             json_string_value(json_object_get(expect, "error")));
            ck_assert_ptr_null(auth);
        }
        mcpauth_free(auth);
        mcpauth_free(detail);
        detail = NULL;
        mcpauth_engine_free(e);
    }
}
END_TEST

int main(void) {
    json_error_t je;
    vectors = json_load_file(MCPAUTH_SOURCE_DIR "/bindings/conformance/vectors.json", 0, &je);
    if (!vectors) {
        fprintf(stderr, "cannot read the conformance vectors: %s\n", je.text);
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, every_vector);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_decref(vectors);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
