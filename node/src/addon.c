/*
 * addon.c - the N-API (version 8) face of libmcpauth for Node: a thin translation of the C ABI.
 *
 * Every call that can fail answers either its result string (JSON text from the core) or an
 * array [code, detail] (detail may be null); JavaScript (lib/provider.js) turns those into
 * objects and errors. Nothing is decided here. A verification's text comes with its accessToken
 * emptied (strip_token): the caller has the token.
 *
 * Engines are wrapped in an External whose finalizer frees them. Blocking work (a call that
 * answered MCPAUTH_E_WOULD_BLOCK in non-blocking mode) runs on the libuv pool through
 * napi_async_work; while a job is in flight it holds a reference on the External, so a dropped
 * provider is never freed under a running call, and close() defers the free to the last job.
 * Per-environment state (instance data + a cleanup hook) keeps the list of live engines, so a
 * worker_thread that exits frees its engines.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "mcpauth.h"

/* ---- state ------------------------------------------------------------------------------ */

typedef struct wrap wrap;
typedef struct env_state env_state;

struct wrap {
    mcpauth_engine *engine; /* NULL once freed */
    unsigned inflight;      /* async jobs running (touched on the JS thread only) */
    int closed;             /* close() was called, or the environment is going away */
    env_state *state;
    wrap *prev, *next; /* in state->live */
};

struct env_state {
    wrap *live;    /* engines not yet finalized */
    unsigned refs; /* 1 for the environment + 1 per wrap */
    int tearing;   /* the cleanup hook ran */
};

/* Engines alive in the whole process, every environment together (tests: a worker thread that
 * exits must bring this back down). */
static atomic_long engines_alive;

static void state_unref(env_state *s) {
    if (s && --s->refs == 0) free(s);
}

static void wrap_free_engine(wrap *w) {
    if (w->engine && w->inflight == 0) {
        mcpauth_engine_free(w->engine);
        w->engine = NULL;
        atomic_fetch_sub(&engines_alive, 1);
    }
}

static void wrap_unlink(wrap *w) {
    env_state *s = w->state;
    if (!s) return;
    if (w->prev)
        w->prev->next = w->next;
    else
        s->live = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->state = NULL;
    state_unref(s);
}

/* The environment is being torn down (process exit or a worker thread ending): free every
 * engine no job is using. An engine with a job still on the pool is left to that job's
 * completion (or leaked if the completion never runs): never freed under a running call. */
static void env_cleanup(void *arg) {
    env_state *s = arg;
    s->tearing = 1;
    for (wrap *w = s->live; w; w = w->next) {
        w->closed = 1;
        wrap_free_engine(w);
    }
}

static void state_finalize(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    env_state *s = data;
    if (!s->tearing) napi_remove_env_cleanup_hook(env, env_cleanup, s);
    env_cleanup(s);
    state_unref(s);
}

static void wrap_finalize(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    wrap *w = data;
    w->closed = 1;
    wrap_free_engine(w); /* inflight is 0 here: every job holds a reference on the External */
    wrap_unlink(w);
    free(w);
}

/* ---- helpers ---------------------------------------------------------------------------- */

#define CHECK(call)                                                                                \
    do {                                                                                           \
        if ((call) != napi_ok) return fail(env, #call);                                            \
    } while (0)

static napi_value fail(napi_env env, const char *what) {
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) {
        const char *msg = info && info->error_message ? info->error_message : what;
        napi_throw_error(env, "ERR_MCPAUTH_NAPI", msg);
    }
    return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
}

/* Copies a JS string argument into a new NUL-terminated buffer (*out, *len). Returns 0 or -1
 * (exception pending). `null`/`undefined` give *out == NULL when allow_null. */
static int get_str(napi_env env, napi_value v, int allow_null, char **out, size_t *len) {
    *out = NULL;
    *len = 0;
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok) return -1;
    if ((t == napi_null || t == napi_undefined) && allow_null) return 0;
    if (t != napi_string) {
        throw_type(env, "expected a string");
        return -1;
    }
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return -1;
    char *buf = malloc(n + 1);
    if (!buf) {
        napi_throw_error(env, "ERR_MCPAUTH_NOMEM", "out of memory");
        return -1;
    }
    size_t got = 0;
    if (napi_get_value_string_utf8(env, v, buf, n + 1, &got) != napi_ok) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = got;
    return 0;
}

/* A string argument read into a caller buffer when it fits (the hot path: tokens), else
 * into a heap buffer (*heap set, to free). napi_get_value_string_utf8 writes whole characters
 * only: a string cut short before a character of up to 4 bytes can leave as many as 3 bytes
 * free, so only an answer with at least 4 bytes to spare is known to be the whole string (a
 * valid token followed by a non-ASCII character must not be read as the valid token alone). */
static int get_str_fast(napi_env env, napi_value v, char *stack, size_t cap, char **out,
                        size_t *len, char **heap) {
    *heap = NULL;
    size_t got = 0;
    napi_status st = napi_get_value_string_utf8(env, v, stack, cap, &got);
    if (st == napi_string_expected) {
        throw_type(env, "expected a string");
        return -1;
    }
    if (st != napi_ok) return -1;
    if (got + 4 < cap) {
        *out = stack;
        *len = got;
        return 0;
    }
    if (get_str(env, v, 0, heap, len) != 0) return -1;
    *out = *heap;
    return 0;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
    if (napi_get_value_uint32(env, v, out) != napi_ok) {
        throw_type(env, "expected a number");
        return -1;
    }
    return 0;
}

static wrap *get_wrap(napi_env env, napi_value v) {
    void *p = NULL;
    if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
        throw_type(env, "expected an engine");
        return NULL;
    }
    wrap *w = p;
    if (w->closed || !w->engine) {
        napi_throw_error(env, "ERR_MCPAUTH_CLOSED", "this provider is closed");
        return NULL;
    }
    return w;
}

static napi_value str_or_null(napi_env env, const char *s) {
    napi_value v;
    if (!s) {
        napi_get_null(env, &v);
        return v;
    }
    if (napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) != napi_ok) return NULL;
    return v;
}

/* rc == OK and out != NULL: the string; else [rc, detail]. Frees out and detail. */
static napi_value result(napi_env env, int rc, char *out, char *detail) {
    napi_value v = NULL;
    if (rc == MCPAUTH_OK && out) {
        if (napi_create_string_utf8(env, out, NAPI_AUTO_LENGTH, &v) != napi_ok) v = NULL;
    } else {
        napi_value arr, code, det;
        if (napi_create_array_with_length(env, 2, &arr) == napi_ok &&
            napi_create_int32(env, rc == MCPAUTH_OK ? MCPAUTH_E_INTERNAL : rc, &code) == napi_ok &&
            (det = str_or_null(env, detail)) != NULL &&
            napi_set_element(env, arr, 0, code) == napi_ok &&
            napi_set_element(env, arr, 1, det) == napi_ok)
            v = arr;
    }
    mcpauth_free(out);
    mcpauth_free(detail);
    if (!v) return fail(env, "result");
    return v;
}

/* A verification's result text without its token: the core writes `{"accessToken":"<token>",`
 * first, and JavaScript already holds the token, so the member goes across empty
 * (`{"accessToken":"",`) and lib/provider.js puts the token back (the key keeps its place). That
 * spares copying the token into a new string and parsing it again (about a third of the text).
 * Only when the text holds exactly this token unescaped: a token with '"' or '\\' is left alone.
 * Returns the text's length. */
static size_t strip_token(char *out, const char *tok, size_t n) {
    static const char open[] = "{\"accessToken\":\"";
    const size_t o = sizeof open - 1;
    size_t len = strlen(out);
    if (n == 0 || len <= o + n || memcmp(out, open, o) != 0 || memcmp(out + o, tok, n) != 0 ||
        out[o + n] != '"' || memchr(tok, '"', n) || memchr(tok, '\\', n))
        return len;
    memmove(out + o, out + o + n, len - o - n + 1);
    return len - n;
}

/* A verification's answer: the result text with its token stripped, or [rc, detail]. Frees out
 * and detail. */
static napi_value verify_result(napi_env env, int rc, char *out, char *detail, const char *tok,
                                size_t n) {
    if (rc != MCPAUTH_OK || !out) return result(env, rc, out, detail);
    mcpauth_free(detail);
    size_t len = strip_token(out, tok, n);
    napi_value v;
    napi_status st = napi_create_string_utf8(env, out, len, &v);
    mcpauth_free(out);
    if (st != napi_ok) return fail(env, "verify_result");
    return v;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
    size_t argc = want;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
    if (argc < want) {
        throw_type(env, "missing argument");
        return -1;
    }
    return 0;
}

/* ---- async jobs ------------------------------------------------------------------------- */

enum job_kind { JOB_VERIFY, JOB_ROUTE, JOB_ROUTE_COMPLETE, JOB_AS_METADATA };

typedef struct job {
    enum job_kind kind;
    wrap *w;
    mcpauth_engine *engine;
    char *a, *b;
    size_t alen, blen;
    unsigned flags;
    int rc;
    char *out, *detail;
    napi_deferred deferred;
    napi_async_work work;
    napi_ref hold; /* keeps the External (and so the engine) alive */
} job;

static void job_free(napi_env env, job *j) {
    if (j->hold) napi_delete_reference(env, j->hold);
    if (j->work) napi_delete_async_work(env, j->work);
    free(j->a);
    free(j->b);
    mcpauth_free(j->out);
    mcpauth_free(j->detail);
    free(j);
}

/* On a pool thread: no napi call here. */
static void job_execute(napi_env env, void *data) {
    (void)env;
    job *j = data;
    switch (j->kind) {
    case JOB_VERIFY:
        j->rc = mcpauth_verify(j->engine, j->a, j->alen, j->flags, &j->out, &j->detail);
        break;
    case JOB_ROUTE:
        j->rc = mcpauth_route(j->engine, j->a, j->alen, j->flags, &j->out, &j->detail);
        break;
    case JOB_ROUTE_COMPLETE:
        j->rc = mcpauth_route_complete(j->engine, j->a, j->alen, j->b, j->blen, j->flags, &j->out,
                                       &j->detail);
        break;
    case JOB_AS_METADATA:
        j->rc = mcpauth_authorization_server_metadata(j->engine, j->flags, &j->out);
        break;
    }
}

static void job_complete(napi_env env, napi_status status, void *data) {
    job *j = data;
    wrap *w = j->w;
    w->inflight--;
    if (w->closed) wrap_free_engine(w);
    napi_value v = NULL;
    if (status == napi_ok) {
        v = j->kind == JOB_VERIFY ? verify_result(env, j->rc, j->out, j->detail, j->a, j->alen)
                                  : result(env, j->rc, j->out, j->detail);
        j->out = j->detail = NULL;
    }
    if (v) {
        napi_resolve_deferred(env, j->deferred, v);
    } else {
        napi_value err = NULL, msg = NULL;
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending) napi_get_and_clear_last_exception(env, &err);
        if (!err && napi_create_string_utf8(env, "the call was cancelled", NAPI_AUTO_LENGTH,
                                            &msg) == napi_ok)
            napi_create_error(env, NULL, msg, &err);
        if (err) napi_reject_deferred(env, j->deferred, err);
    }
    job_free(env, j);
}

/* Queues a job on engine `ext`; takes ownership of a and b. */
static napi_value job_start(napi_env env, napi_value ext, wrap *w, enum job_kind kind, char *a,
                            size_t alen, char *b, size_t blen, unsigned flags) {
    job *j = calloc(1, sizeof *j);
    if (!j) {
        free(a);
        free(b);
        napi_throw_error(env, "ERR_MCPAUTH_NOMEM", "out of memory");
        return NULL;
    }
    j->kind = kind;
    j->w = w;
    j->engine = w->engine;
    j->a = a;
    j->alen = alen;
    j->b = b;
    j->blen = blen;
    j->flags = flags;
    napi_value promise, name;
    if (napi_create_reference(env, ext, 1, &j->hold) != napi_ok ||
        napi_create_string_utf8(env, "libmcpauth", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work) !=
            napi_ok ||
        napi_create_promise(env, &j->deferred, &promise) != napi_ok) {
        job_free(env, j);
        return fail(env, "job_start");
    }
    if (napi_queue_async_work(env, j->work) != napi_ok) {
        napi_value err = NULL, msg = NULL;
        napi_create_string_utf8(env, "cannot queue the call", NAPI_AUTO_LENGTH, &msg);
        napi_create_error(env, NULL, msg, &err);
        napi_reject_deferred(env, j->deferred, err);
        job_free(env, j);
        return promise;
    }
    w->inflight++;
    return promise;
}

/* ---- exported functions ----------------------------------------------------------------- */

static napi_value js_version(napi_env env, napi_callback_info info) {
    (void)info;
    return str_or_null(env, mcpauth_version());
}

static napi_value js_constants(napi_env env, napi_callback_info info) {
    (void)info;
    char *out = NULL;
    int rc = mcpauth_constants(&out);
    return result(env, rc, out, NULL);
}

/* codeInfo(code) -> [name, description, oauthError | null, httpStatus] */
static napi_value js_code_info(napi_env env, napi_callback_info info) {
    napi_value argv[1], arr, v;
    if (get_args(env, info, 1, argv) != 0) return NULL;
    int32_t code;
    if (napi_get_value_int32(env, argv[0], &code) != napi_ok)
        return throw_type(env, "expected a code");
    CHECK(napi_create_array_with_length(env, 4, &arr));
    CHECK(napi_set_element(env, arr, 0, str_or_null(env, mcpauth_code_name(code))));
    CHECK(napi_set_element(env, arr, 1, str_or_null(env, mcpauth_strerror(code))));
    CHECK(napi_set_element(env, arr, 2, str_or_null(env, mcpauth_oauth_error(code))));
    CHECK(napi_create_int32(env, mcpauth_http_status(code), &v));
    CHECK(napi_set_element(env, arr, 3, v));
    return arr;
}

/* engineNew(configJson, flags) -> External | [code, detail] */
static napi_value js_engine_new(napi_env env, napi_callback_info info) {
    napi_value argv[2], ext;
    if (get_args(env, info, 2, argv) != 0) return NULL;
    char *cfg;
    size_t n;
    uint32_t flags;
    if (get_str(env, argv[0], 0, &cfg, &n) != 0) return NULL;
    if (get_u32(env, argv[1], &flags) != 0) {
        free(cfg);
        return NULL;
    }
    env_state *s = NULL;
    if (napi_get_instance_data(env, (void **)&s) != napi_ok || !s) {
        free(cfg);
        return fail(env, "instance data");
    }
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cfg, n, flags, &e, &detail);
    free(cfg);
    if (rc != MCPAUTH_OK) return result(env, rc, NULL, detail);
    mcpauth_free(detail);
    wrap *w = calloc(1, sizeof *w);
    if (!w) {
        mcpauth_engine_free(e);
        napi_throw_error(env, "ERR_MCPAUTH_NOMEM", "out of memory");
        return NULL;
    }
    w->engine = e;
    atomic_fetch_add(&engines_alive, 1);
    if (napi_create_external(env, w, wrap_finalize, NULL, &ext) != napi_ok) {
        atomic_fetch_sub(&engines_alive, 1);
        mcpauth_engine_free(e);
        free(w);
        return fail(env, "napi_create_external");
    }
    w->state = s;
    s->refs++;
    w->next = s->live;
    if (s->live) s->live->prev = w;
    s->live = w;
    return ext;
}

/* engineClose(ext): frees the engine now, or when the last job in flight completes. */
static napi_value js_engine_close(napi_env env, napi_callback_info info) {
    napi_value argv[1];
    if (get_args(env, info, 1, argv) != 0) return NULL;
    void *p = NULL;
    if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p)
        return throw_type(env, "expected an engine");
    wrap *w = p;
    w->closed = 1;
    wrap_free_engine(w);
    return NULL;
}

static napi_value js_engine_config(napi_env env, napi_callback_info info) {
    napi_value argv[1];
    if (get_args(env, info, 1, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    char *out = NULL;
    int rc = mcpauth_engine_config(w->engine, &out);
    return result(env, rc, out, NULL);
}

/* verify(ext, token, flags) -> authJson | [code, detail] */
static napi_value js_verify(napi_env env, napi_callback_info info) {
    napi_value argv[3];
    if (get_args(env, info, 3, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    if (get_u32(env, argv[2], &flags) != 0) return NULL;
    char stack[4096], *tok, *heap;
    size_t n;
    if (get_str_fast(env, argv[1], stack, sizeof stack, &tok, &n, &heap) != 0) return NULL;
    char *out = NULL, *detail = NULL;
    int rc = mcpauth_verify(w->engine, tok, n, flags, &out, &detail);
    napi_value v = verify_result(env, rc, out, detail, tok, n);
    free(heap);
    return v;
}

static napi_value js_verify_async(napi_env env, napi_callback_info info) {
    napi_value argv[3];
    if (get_args(env, info, 3, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    char *tok;
    size_t n;
    if (get_u32(env, argv[2], &flags) != 0 || get_str(env, argv[1], 0, &tok, &n) != 0) return NULL;
    return job_start(env, argv[0], w, JOB_VERIFY, tok, n, NULL, 0, flags);
}

/* mapClaims(ext, claimsJson, token | null) -> authJson | [code, detail] */
static napi_value js_map_claims(napi_env env, napi_callback_info info) {
    napi_value argv[3];
    if (get_args(env, info, 3, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    char *claims, *tok;
    size_t cn, tn;
    if (get_str(env, argv[1], 0, &claims, &cn) != 0) return NULL;
    if (get_str(env, argv[2], 1, &tok, &tn) != 0) {
        free(claims);
        return NULL;
    }
    char *out = NULL, *detail = NULL;
    int rc = mcpauth_map_claims(w->engine, claims, cn, tok, tn, &out, &detail);
    free(claims);
    free(tok);
    return result(env, rc, out, detail);
}

/* route(ext, requestJson, flags) -> decisionJson | [code, detail]. The request JSON (headers,
 * no body: typically under 2 KiB) is read into a stack buffer when it fits. */
static napi_value js_route(napi_env env, napi_callback_info info) {
    napi_value argv[3];
    if (get_args(env, info, 3, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    if (get_u32(env, argv[2], &flags) != 0) return NULL;
    char stack[8192], *req, *heap;
    size_t n;
    if (get_str_fast(env, argv[1], stack, sizeof stack, &req, &n, &heap) != 0) return NULL;
    char *out = NULL, *detail = NULL;
    int rc = mcpauth_route(w->engine, req, n, flags, &out, &detail);
    free(heap);
    return result(env, rc, out, detail);
}

static napi_value js_route_async(napi_env env, napi_callback_info info) {
    napi_value argv[3];
    if (get_args(env, info, 3, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    char *req;
    size_t n;
    if (get_u32(env, argv[2], &flags) != 0 || get_str(env, argv[1], 0, &req, &n) != 0) return NULL;
    return job_start(env, argv[0], w, JOB_ROUTE, req, n, NULL, 0, flags);
}

/* routeComplete(ext, requestJson, resultJson, flags) -> decisionJson | [code, detail] */
static napi_value js_route_complete(napi_env env, napi_callback_info info) {
    napi_value argv[4];
    if (get_args(env, info, 4, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    char *req, *res;
    size_t n, m;
    if (get_u32(env, argv[3], &flags) != 0 || get_str(env, argv[1], 0, &req, &n) != 0) return NULL;
    if (get_str(env, argv[2], 0, &res, &m) != 0) {
        free(req);
        return NULL;
    }
    char *out = NULL, *detail = NULL;
    int rc = mcpauth_route_complete(w->engine, req, n, res, m, flags, &out, &detail);
    free(req);
    free(res);
    return result(env, rc, out, detail);
}

static napi_value js_route_complete_async(napi_env env, napi_callback_info info) {
    napi_value argv[4];
    if (get_args(env, info, 4, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    char *req, *res;
    size_t n, m;
    if (get_u32(env, argv[3], &flags) != 0 || get_str(env, argv[1], 0, &req, &n) != 0) return NULL;
    if (get_str(env, argv[2], 0, &res, &m) != 0) {
        free(req);
        return NULL;
    }
    return job_start(env, argv[0], w, JOB_ROUTE_COMPLETE, req, n, res, m, flags);
}

static napi_value js_prm(napi_env env, napi_callback_info info) {
    napi_value argv[1];
    if (get_args(env, info, 1, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    char *out = NULL;
    int rc = mcpauth_protected_resource_metadata(w->engine, &out);
    return result(env, rc, out, NULL);
}

/* asMetadata(ext, flags) -> json | [code, null] */
static napi_value js_as_metadata(napi_env env, napi_callback_info info) {
    napi_value argv[2];
    if (get_args(env, info, 2, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    if (get_u32(env, argv[1], &flags) != 0) return NULL;
    char *out = NULL;
    int rc = mcpauth_authorization_server_metadata(w->engine, flags, &out);
    return result(env, rc, out, NULL);
}

static napi_value js_as_metadata_async(napi_env env, napi_callback_info info) {
    napi_value argv[2];
    if (get_args(env, info, 2, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    uint32_t flags;
    if (get_u32(env, argv[1], &flags) != 0) return NULL;
    return job_start(env, argv[0], w, JOB_AS_METADATA, NULL, 0, NULL, 0, flags);
}

/* challenge(ext, code, scope | null, description | null) -> string | [code, null] */
static napi_value js_challenge(napi_env env, napi_callback_info info) {
    napi_value argv[4];
    if (get_args(env, info, 4, argv) != 0) return NULL;
    wrap *w = get_wrap(env, argv[0]);
    if (!w) return NULL;
    int32_t code;
    if (napi_get_value_int32(env, argv[1], &code) != napi_ok)
        return throw_type(env, "expected a code");
    char *scope, *desc;
    size_t sn, dn;
    if (get_str(env, argv[2], 1, &scope, &sn) != 0) return NULL;
    if (get_str(env, argv[3], 1, &desc, &dn) != 0) {
        free(scope);
        return NULL;
    }
    char *out = NULL;
    int rc = mcpauth_challenge(w->engine, code, scope, desc, &out);
    free(scope);
    free(desc);
    return result(env, rc, out, NULL);
}

/* The engine-free calls that take one string and answer a string or a detail:
 * mcpauth_decode_unverified and mcpauth_mint have this one signature. */
typedef int (*string_call)(const char *in, size_t len, char **out, char **detail);

/* fn(argv[0]) -> string | [code, detail] */
static napi_value call_string_fn(napi_env env, napi_callback_info info, string_call fn) {
    napi_value argv[1];
    if (get_args(env, info, 1, argv) != 0) return NULL;
    char *in;
    size_t n;
    if (get_str(env, argv[0], 0, &in, &n) != 0) return NULL;
    char *out = NULL, *detail = NULL;
    int rc = fn(in, n, &out, &detail);
    free(in);
    return result(env, rc, out, detail);
}

/* decodeUnverified(token) -> json | [code, detail] */
static napi_value js_decode_unverified(napi_env env, napi_callback_info info) {
    return call_string_fn(env, info, mcpauth_decode_unverified);
}

/* mint(requestJson) -> token | [code, detail] */
static napi_value js_mint(napi_env env, napi_callback_info info) {
    return call_string_fn(env, info, mcpauth_mint);
}

/* liveEngines() -> number of engines not yet freed in this environment (tests) */
static napi_value js_live_engines(napi_env env, napi_callback_info info) {
    (void)info;
    env_state *s = NULL;
    if (napi_get_instance_data(env, (void **)&s) != napi_ok || !s)
        return fail(env, "instance data");
    uint32_t n = 0;
    for (wrap *w = s->live; w; w = w->next)
        if (w->engine) n++;
    napi_value v;
    CHECK(napi_create_uint32(env, n, &v));
    return v;
}

/* processEngines() -> engines not yet freed in the whole process (tests) */
static napi_value js_process_engines(napi_env env, napi_callback_info info) {
    (void)info;
    napi_value v;
    CHECK(napi_create_int64(env, (int64_t)atomic_load(&engines_alive), &v));
    return v;
}

/* ---- module ----------------------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports) {
    env_state *s = calloc(1, sizeof *s);
    if (!s) {
        napi_throw_error(env, "ERR_MCPAUTH_NOMEM", "out of memory");
        return NULL;
    }
    s->refs = 1;
    if (napi_set_instance_data(env, s, state_finalize, NULL) != napi_ok) {
        free(s);
        return fail(env, "napi_set_instance_data");
    }
    CHECK(napi_add_env_cleanup_hook(env, env_cleanup, s));
    static const struct {
        const char *name;
        napi_callback fn;
    } fns[] = {
        {"version", js_version},
        {"constants", js_constants},
        {"codeInfo", js_code_info},
        {"engineNew", js_engine_new},
        {"engineClose", js_engine_close},
        {"engineConfig", js_engine_config},
        {"verify", js_verify},
        {"verifyAsync", js_verify_async},
        {"mapClaims", js_map_claims},
        {"route", js_route},
        {"routeAsync", js_route_async},
        {"routeComplete", js_route_complete},
        {"routeCompleteAsync", js_route_complete_async},
        {"protectedResourceMetadata", js_prm},
        {"authorizationServerMetadata", js_as_metadata},
        {"authorizationServerMetadataAsync", js_as_metadata_async},
        {"challenge", js_challenge},
        {"decodeUnverified", js_decode_unverified},
        {"mint", js_mint},
        {"liveEngines", js_live_engines},
        {"processEngines", js_process_engines},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        napi_value f;
        CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f));
        CHECK(napi_set_named_property(env, exports, fns[i].name, f));
    }
    return exports;
}

/* node_api.h's module macros define the two exported entry points without prototypes */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
#pragma GCC diagnostic pop
