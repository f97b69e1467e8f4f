//go:build cgo

package mcpauth

/*
#include <stdlib.h>
#include <string.h>
#include "mcpauth.h"

// One C call per operation: the core's answer is copied into the caller's Go buffer when it
// fits (and freed here), else handed back in *big for the caller to copy and free.
typedef struct mcpgo_out {
    size_t len;   // length of the answer; 0 with none
    int has;      // an answer was produced
    int cut;      // the answer began {"accessToken":"<the token>" and the token was left out
    char *big;    // the answer when it did not fit into buf (free with mcpauth_free)
    char *detail; // the core's detail, or NULL (free with mcpauth_free)
} mcpgo_out;

static void mcpgo_take(char *s, char *buf, size_t cap, mcpgo_out *o) {
    o->len = 0;
    o->has = 0;
    o->cut = 0;
    o->big = NULL;
    if (s == NULL)
        return;
    o->has = 1;
    o->len = strlen(s);
    if (o->len <= cap) {
        memcpy(buf, s, o->len);
        mcpauth_free(s);
    } else {
        o->big = s;
    }
}

// The core writes an auth result as {"accessToken":"<token>",...}. The caller holds the token
// already, so when the answer begins so it crosses without it ({"accessToken":"",...} and cut
// set): that is most of its bytes, not to be copied twice and read again.
#define MCPGO_TOK_OPEN "{\"accessToken\":\""
static int mcpgo_verify(const mcpauth_engine *e, const char *tok, size_t n, unsigned flags,
                        char *buf, size_t cap, mcpgo_out *o) {
    char *auth = NULL;
    o->detail = NULL;
    int rc = mcpauth_verify(e, tok, n, flags, &auth, &o->detail);
    const size_t open = sizeof MCPGO_TOK_OPEN - 1;
    size_t len = auth ? strlen(auth) : 0;
    if (auth && n > 0 && len > open + n && len - n <= cap &&
        memcmp(auth, MCPGO_TOK_OPEN, open) == 0 && memcmp(auth + open, tok, n) == 0 &&
        auth[open + n] == '"') {
        memcpy(buf, auth, open);
        memcpy(buf + open, auth + open + n, len - open - n);
        mcpauth_free(auth);
        o->has = 1;
        o->len = len - n;
        o->cut = 1;
        o->big = NULL;
        return rc;
    }
    mcpgo_take(auth, buf, cap, o);
    return rc;
}

static int mcpgo_map_claims(const mcpauth_engine *e, const char *claims, size_t cn,
                            const char *tok, size_t tn, char *buf, size_t cap, mcpgo_out *o) {
    char *auth = NULL;
    o->detail = NULL;
    int rc = mcpauth_map_claims(e, claims, cn, tok, tn, &auth, &o->detail);
    mcpgo_take(auth, buf, cap, o);
    return rc;
}
static int mcpgo_route(const mcpauth_engine *e, const char *req, size_t rn, const char *res,
                       size_t resn, int complete, unsigned flags, char *buf, size_t cap,
                       mcpgo_out *o) {
    char *d = NULL;
    o->detail = NULL;
    int rc = complete ? mcpauth_route_complete(e, req, rn, res, resn, flags, &d, &o->detail)
                      : mcpauth_route(e, req, rn, flags, &d, &o->detail);
    mcpgo_take(d, buf, cap, o);
    return rc;
}
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// The stable numbered codes of the core (enum mcpauth_code).
const (
	flagEngineNoEnv    = C.MCPAUTH_ENGINE_NO_ENV
	flagEnginePrefetch = C.MCPAUTH_ENGINE_PREFETCH
	flagVerifyNonblock = C.MCPAUTH_VERIFY_NONBLOCK
	flagVerifyNoCache  = C.MCPAUTH_VERIFY_NO_CACHE
	flagRouteNonblock  = C.MCPAUTH_ROUTE_NONBLOCK
	flagRouteWithToken = C.MCPAUTH_ROUTE_WITH_TOKEN
)

// engineHandle owns one mcpauth_engine. Calls hold mu for reading; Close and the cleanup of a
// dropped Provider take it for writing, so an engine is never freed under a running call.
type engineHandle struct {
	mu  sync.RWMutex
	ptr *C.mcpauth_engine
}

func (h *engineHandle) free() {
	h.mu.Lock()
	if h.ptr != nil {
		C.mcpauth_engine_free(h.ptr)
		h.ptr = nil
	}
	h.mu.Unlock()
}

// callBuf is a reusable Go buffer the C helpers copy answers into (no C string per call on
// the Go side) together with the out parameters they write.
type callBuf struct {
	out C.mcpgo_out
	buf [16 << 10]byte
}

var callBufs = sync.Pool{New: func() any { return new(callBuf) }}

// answer returns the core's answer (valid until the buffer is reused) and frees what the C
// side handed over; detail is copied. After verify, cb.out.cut says the token was left out
// of the answer's leading "accessToken" member.
func (cb *callBuf) answer() (text []byte, has bool, detail string) {
	if cb.out.detail != nil {
		detail = C.GoString(cb.out.detail)
		C.mcpauth_free(unsafe.Pointer(cb.out.detail))
		cb.out.detail = nil
	}
	if cb.out.has == 0 {
		return nil, false, detail
	}
	if cb.out.big != nil {
		text = C.GoBytes(unsafe.Pointer(cb.out.big), C.int(cb.out.len))
		C.mcpauth_free(unsafe.Pointer(cb.out.big))
		cb.out.big = nil
		return text, true, detail
	}
	return cb.buf[:cb.out.len], true, detail
}

var emptyByte byte

// cstr points C at the bytes of s without copying them. The core does not keep input
// pointers past the call (its ABI passes lengths explicitly).
func cstr(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return (*C.char)(unsafe.Pointer(&emptyByte)), 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

func cbytes(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return (*C.char)(unsafe.Pointer(&emptyByte)), 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// takeString copies and frees a library string.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.mcpauth_free(unsafe.Pointer(p))
	return s
}

func newEngine(config []byte, flags uint) (*engineHandle, int, string) {
	var eng *C.mcpauth_engine
	var detail *C.char
	p, n := cbytes(config)
	rc := int(C.mcpauth_engine_new(p, n, C.uint(flags), &eng, &detail))
	runtime.KeepAlive(config)
	d := takeString(detail)
	if rc != 0 {
		return nil, rc, d
	}
	return &engineHandle{ptr: eng}, 0, d
}

// verify runs mcpauth_verify; the caller returns cb to the pool after reading the answer.
func (h *engineHandle) verify(token string, flags uint, cb *callBuf) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.ptr == nil {
		return codeClosed
	}
	p, n := cstr(token)
	rc := int(C.mcpgo_verify(h.ptr, p, n, C.uint(flags), (*C.char)(unsafe.Pointer(&cb.buf[0])),
		C.size_t(len(cb.buf)), &cb.out))
	runtime.KeepAlive(token)
	return rc
}

func (h *engineHandle) mapClaims(claims []byte, token string, cb *callBuf) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.ptr == nil {
		return codeClosed
	}
	cp, cn := cbytes(claims)
	tp, tn := cstr(token)
	rc := int(C.mcpgo_map_claims(h.ptr, cp, cn, tp, tn, (*C.char)(unsafe.Pointer(&cb.buf[0])),
		C.size_t(len(cb.buf)), &cb.out))
	runtime.KeepAlive(claims)
	runtime.KeepAlive(token)
	return rc
}

// route runs mcpauth_route, or mcpauth_route_complete when hostResult is not nil.
func (h *engineHandle) route(req, hostResult []byte, flags uint, cb *callBuf) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.ptr == nil {
		return codeClosed
	}
	rp, rn := cbytes(req)
	hp, hn := cbytes(hostResult)
	complete := C.int(0)
	if hostResult != nil {
		complete = 1
	}
	rc := int(C.mcpgo_route(h.ptr, rp, rn, hp, hn, complete, C.uint(flags),
		(*C.char)(unsafe.Pointer(&cb.buf[0])), C.size_t(len(cb.buf)), &cb.out))
	runtime.KeepAlive(req)
	runtime.KeepAlive(hostResult)
	return rc
}

// constants is mcpauth_constants: every public constant of the linked core, as JSON.
func constants() (string, int) {
	var out *C.char
	rc := int(C.mcpauth_constants(&out))
	return takeString(out), rc
}

func (h *engineHandle) jsonCall(fn func(e *C.mcpauth_engine, out **C.char) C.int) (string, int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.ptr == nil {
		return "", codeClosed
	}
	var out *C.char
	rc := int(fn(h.ptr, &out))
	return takeString(out), rc
}

func (h *engineHandle) config() (string, int) {
	return h.jsonCall(func(e *C.mcpauth_engine, out **C.char) C.int { return C.mcpauth_engine_config(e, out) })
}

func (h *engineHandle) protectedResourceMetadata() (string, int) {
	return h.jsonCall(func(e *C.mcpauth_engine, out **C.char) C.int {
		return C.mcpauth_protected_resource_metadata(e, out)
	})
}

func (h *engineHandle) authorizationServerMetadata(flags uint) (string, int) {
	return h.jsonCall(func(e *C.mcpauth_engine, out **C.char) C.int {
		return C.mcpauth_authorization_server_metadata(e, C.uint(flags), out)
	})
}

func (h *engineHandle) challenge(code int, scope, description *string) (string, int) {
	var sc, dc *C.char
	if scope != nil {
		sc = C.CString(*scope)
		defer C.free(unsafe.Pointer(sc))
	}
	if description != nil {
		dc = C.CString(*description)
		defer C.free(unsafe.Pointer(dc))
	}
	return h.jsonCall(func(e *C.mcpauth_engine, out **C.char) C.int {
		return C.mcpauth_challenge(e, C.int(code), sc, dc, out)
	})
}

func coreVersion() string { return C.GoString(C.mcpauth_version()) }

func codeName(code int) string { return C.GoString(C.mcpauth_code_name(C.int(code))) }

func codeText(code int) string { return C.GoString(C.mcpauth_strerror(C.int(code))) }

func codeOAuthError(code int) string {
	s := C.mcpauth_oauth_error(C.int(code))
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

func codeHTTPStatus(code int) int { return int(C.mcpauth_http_status(C.int(code))) }

func mint(request []byte) (string, int, string) {
	var tok, detail *C.char
	p, n := cbytes(request)
	rc := int(C.mcpauth_mint(p, n, &tok, &detail))
	runtime.KeepAlive(request)
	return takeString(tok), rc, takeString(detail)
}

func decodeUnverified(token string) (string, int, string) {
	var out, detail *C.char
	p, n := cstr(token)
	rc := int(C.mcpauth_decode_unverified(p, n, &out, &detail))
	runtime.KeepAlive(token)
	return takeString(out), rc, takeString(detail)
}
