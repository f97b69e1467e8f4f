/* check_b64url.c - strict base64url decoding and encoding. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"

/* Decodes a NUL-terminated string; returns the rc and leaves the bytes in *out. */
static int dec(const char *s, unsigned char **out, size_t *len) {
    return mcp_b64url_decode(s, strlen(s), out, len);
}

static void expect_ok(const char *in, const char *want, size_t want_len) {
    unsigned char *out = NULL;
    size_t len = 99;
    ck_assert_int_eq(dec(in, &out, &len), 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, want_len);
    ck_assert_int_eq(memcmp(out, want, want_len), 0);
    ck_assert_int_eq(out[len], 0); /* NUL-terminated for convenience */
    free(out);
}

static void expect_bad(const char *in, size_t in_len) {
    unsigned char *out = (unsigned char *)"sentinel";
    size_t len = 99;
    ck_assert_int_eq(mcp_b64url_decode(in, in_len, &out, &len), -1);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
}

START_TEST(rfc4648_vectors) {
    expect_ok("", "", 0);
    expect_ok("Zg", "f", 1);
    expect_ok("Zm8", "fo", 2);
    expect_ok("Zm9v", "foo", 3);
    expect_ok("Zm9vYg", "foob", 4);
    expect_ok("Zm9vYmE", "fooba", 5);
    expect_ok("Zm9vYmFy", "foobar", 6);
}
END_TEST

START_TEST(url_alphabet_decodes) {
    /* 0xfb 0xff 0xbf -> "-_-_" in base64url, "+/+/" in standard base64. */
    expect_ok("-_-_", "\xfb\xff\xbf", 3);
}
END_TEST

START_TEST(padding_refused) {
    expect_bad("Zg==", 4);
    expect_bad("Zm8=", 4);
    expect_bad("Zg=", 3);
    expect_bad("====", 4);
}
END_TEST

START_TEST(whitespace_refused) {
    expect_bad("Zm9v ", 5);
    expect_bad(" Zm9v", 5);
    expect_bad("Zm\n9v", 5);
    expect_bad("Zm\t9v", 5);
    expect_bad("Zm9v\r\n", 6);
}
END_TEST

START_TEST(standard_alphabet_refused) {
    expect_bad("+/+/", 4);
    expect_bad("ab+c", 4);
    expect_bad("ab/c", 4);
}
END_TEST

START_TEST(other_bytes_refused) {
    expect_bad("Zm9v\0Zm9v", 9); /* embedded NUL */
    expect_bad("Zm9?", 4);
    expect_bad("Zm9.", 4);
    expect_bad("Zm9\x80", 4);
    expect_bad("Zm9\xff", 4);
}
END_TEST

START_TEST(nonzero_unused_bits_refused) {
    /* "Zg" is the canonical encoding of 'f'; "Zh".."Zv" carry the same byte plus set unused
     * bits and must be refused. */
    expect_ok("Zg", "f", 1);
    expect_bad("Zh", 2);
    expect_bad("Zv", 2);
    /* Three characters leave two unused bits: "Zm8" canonical, "Zm9" not. */
    expect_ok("Zm8", "fo", 2);
    expect_bad("Zm9", 3);
    expect_bad("Zm-", 3);
    /* Wycheproof ModifiedUnusedBitsInPayload: "AB". */
    expect_bad("AB", 2);
    expect_ok("AA", "\0", 1);
}
END_TEST

START_TEST(length_mod4_is_1_refused) {
    expect_bad("Z", 1);
    expect_bad("Zm9vY", 5);
    expect_bad("Zm9vYmFyZ", 9);
}
END_TEST

START_TEST(null_arguments) {
    unsigned char *out;
    size_t len;
    ck_assert_int_eq(mcp_b64url_decode(NULL, 3, &out, &len), -1);
    ck_assert_int_eq(mcp_b64url_decode("Zm9v", 4, NULL, &len), -1);
    ck_assert_int_eq(mcp_b64url_decode("Zm9v", 4, &out, NULL), -1);
    ck_assert_int_eq(mcp_b64url_decode(NULL, 0, &out, &len), 0);
    ck_assert_uint_eq(len, 0);
    free(out);
    ck_assert_ptr_null(mcp_b64url_encode(NULL, 1, &len));
}
END_TEST

START_TEST(encode_vectors) {
    static const struct {
        const char *in, *out;
    } v[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff\xbf", "-_-_"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = 99;
        char *s = mcp_b64url_encode((const unsigned char *)v[i].in, strlen(v[i].in), &len);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, v[i].out);
        ck_assert_uint_eq(len, strlen(v[i].out));
        free(s);
    }
}
END_TEST

START_TEST(round_trip_all_lengths) {
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof buf; n++) {
        size_t elen = 0, dlen = 0;
        char *e = mcp_b64url_encode(buf, n, &elen);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_ne(elen % 4, 1);
        ck_assert_ptr_null(strpbrk(e, "+/=")); /* never standard alphabet or padding */
        unsigned char *d = NULL;
        ck_assert_int_eq(mcp_b64url_decode(e, elen, &d, &dlen), 0);
        ck_assert_uint_eq(dlen, n);
        ck_assert_int_eq(memcmp(d, buf, n), 0);
        free(e);
        free(d);
    }
}
END_TEST

START_TEST(every_single_byte_round_trips) {
    for (int b = 0; b < 256; b++) {
        unsigned char in = (unsigned char)b, *d = NULL;
        size_t elen = 0, dlen = 0;
        char *e = mcp_b64url_encode(&in, 1, &elen);
        ck_assert_uint_eq(elen, 2);
        ck_assert_int_eq(mcp_b64url_decode(e, elen, &d, &dlen), 0);
        ck_assert_uint_eq(dlen, 1);
        ck_assert_uint_eq(d[0], in);
        free(e);
        free(d);
    }
}
END_TEST

static Suite *b64url_suite(void) {
    Suite *s = suite_create("b64url");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rfc4648_vectors);
    tcase_add_test(tc, url_alphabet_decodes);
    tcase_add_test(tc, padding_refused);
    tcase_add_test(tc, whitespace_refused);
    tcase_add_test(tc, standard_alphabet_refused);
    tcase_add_test(tc, other_bytes_refused);
    tcase_add_test(tc, nonzero_unused_bits_refused);
    tcase_add_test(tc, length_mod4_is_1_refused);
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, encode_vectors);
    tcase_add_test(tc, round_trip_all_lengths);
    tcase_add_test(tc, every_single_byte_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(b64url_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
