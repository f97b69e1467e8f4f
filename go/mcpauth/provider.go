//go:build cgo

package mcpauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// VerifyTokenFunc verifies a token in the host (the seed's custom verifyToken): it returns
// the token's verified claims, or an error to refuse it (an *Error keeps its code; any other
// error becomes invalid_token). The core's claim mapping, time checks and scopes still apply.
type VerifyTokenFunc func(ctx context.Context, token string) (claims map[string]any, err error)

// GetUserInfoFunc maps the verified claims to the user (the seed's getUserInfo).
type GetUserInfoFunc func(payload map[string]any) (*UserInfo, error)

// Option adjusts New.
type Option func(*settings)

type settings struct {
	noEnv       bool
	prefetch    bool
	verifyToken VerifyTokenFunc
	getUserInfo GetUserInfoFunc
}

// WithoutEnv makes the core ignore MCP_URL, MCP_USE_OAUTH_* and MCPAUTH_SEALING_SECRET.
func WithoutEnv() Option { return func(s *settings) { s.noEnv = true } }

// WithPrefetch fetches remote JWKS while the Provider is created (errors are ignored).
func WithPrefetch() Option { return func(s *settings) { s.prefetch = true } }

// WithVerifyToken makes the host verify tokens (see VerifyTokenFunc).
func WithVerifyToken(fn VerifyTokenFunc) Option { return func(s *settings) { s.verifyToken = fn } }

// WithGetUserInfo maps the claims to the user in Go instead of the provider's mapping.
func WithGetUserInfo(fn GetUserInfoFunc) Option { return func(s *settings) { s.getUserInfo = fn } }

// Provider is one configured libmcpauth engine: an immutable verifier and HTTP router, safe
// for use by any number of goroutines. Close frees it; a Provider that is dropped without
// Close is freed by a cleanup after it becomes unreachable.
type Provider struct {
	h           *engineHandle
	cleanup     runtime.Cleanup
	options     map[string]any // the configuration given to the core
	verifyToken VerifyTokenFunc
	getUserInfo GetUserInfoFunc

	noMemo  bool // the core's verified-token cache is off: translate every result anew
	memoMu  sync.RWMutex
	memo    map[string]*AuthInfo // auth result text -> its translation (see authFromText)
	memoCut map[string]*AuthInfo // the same for texts that crossed without their token

	resolvedOnce sync.Once
	resolved     map[string]any
	resolvedErr  error
}

// memoMax bounds the memo of translated results (it is emptied when full).
const memoMax = 4096

// New creates a Provider from the core's JSON configuration (docs/config.md). Values left out
// are read by the core from the provider's MCP_USE_OAUTH_* variables (and MCP_URL), unless
// WithoutEnv is given; explicit configuration always wins. A wrong or missing option gives an
// *Error wrapping ErrConfig whose Detail names the option and its variable.
func New(configJSON []byte, opts ...Option) (*Provider, error) {
	var m map[string]any
	if err := json.Unmarshal(configJSON, &m); err != nil || m == nil {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		return nil, &Error{Code: CodeConfig, HTTPStatus: 500, OAuthError: "server_error",
			Detail: "the configuration is not a JSON object: " + err.Error()}
	}
	var s settings
	for _, o := range opts {
		o(&s)
	}
	return newProvider(configJSON, m, s)
}

var (
	constantsOnce sync.Once
	constantsErr  error
	// codeClasses is each code's class as the core publishes it (mcpauth_constants), set once
	// by checkConstants; sentinel maps classes to the Err* values.
	codeClasses map[Code]string
)

// checkConstants compares the codes and flags of this package with the linked core's
// (mcpauth_constants): a mismatch (an incompatible libmcpauth.so with -tags libmcpauth) fails
// every constructor instead of misreading results.
func checkConstants() error {
	constantsOnce.Do(func() {
		text, rc := constants()
		var c struct {
			Codes   map[string]int    `json:"codes"`
			Classes map[string]string `json:"classes"`
			Flags   map[string]uint   `json:"flags"`
		}
		if rc != 0 || json.Unmarshal([]byte(text), &c) != nil {
			constantsErr = &Error{Code: CodeInternal, HTTPStatus: 500, OAuthError: "server_error",
				Detail: "mcpauth_constants failed"}
			return
		}
		bad := []string{}
		classes := make(map[Code]string, len(codeNames))
		for name, v := range codeNames {
			if got, ok := c.Codes[name]; !ok || got != int(v) {
				bad = append(bad, name)
			}
			if classes[v] = c.Classes[name]; classes[v] == "" {
				bad = append(bad, name+" (no class)")
			}
		}
		codeClasses = classes
		for name, v := range map[string]uint{"MCPAUTH_ENGINE_NO_ENV": flagEngineNoEnv,
			"MCPAUTH_ENGINE_PREFETCH": flagEnginePrefetch, "MCPAUTH_VERIFY_NONBLOCK": flagVerifyNonblock,
			"MCPAUTH_ROUTE_NONBLOCK": flagRouteNonblock, "MCPAUTH_ROUTE_WITH_TOKEN": flagRouteWithToken} {
			if got, ok := c.Flags[name]; !ok || got != v {
				bad = append(bad, name)
			}
		}
		if len(bad) > 0 {
			constantsErr = &Error{Code: CodeInternal, HTTPStatus: 500, OAuthError: "server_error",
				Detail: fmt.Sprintf("the linked libmcpauth %s disagrees with this package on %v", coreVersion(), bad)}
		}
	})
	return constantsErr
}

func newProvider(configJSON []byte, m map[string]any, s settings) (*Provider, error) {
	if err := checkConstants(); err != nil {
		return nil, err
	}
	var flags uint
	if s.noEnv {
		flags |= flagEngineNoEnv
	}
	if s.prefetch {
		flags |= flagEnginePrefetch
	}
	h, rc, detail := newEngine(configJSON, flags)
	if rc != 0 {
		return nil, newError(rc, detail)
	}
	p := &Provider{h: h, options: m, verifyToken: s.verifyToken, getUserInfo: s.getUserInfo,
		memo: make(map[string]*AuthInfo), memoCut: make(map[string]*AuthInfo), noMemo: isZero(m["tokenCacheSize"]) || isZero(m["tokenCacheMaxSeconds"])}
	p.cleanup = runtime.AddCleanup(p, func(h *engineHandle) { h.free() }, h)
	return p, nil
}

// Close frees the engine. It waits for calls in progress; later calls fail with ErrClosed.
func (p *Provider) Close() error {
	p.cleanup.Stop()
	p.h.free()
	return nil
}

// Options returns a copy of the configuration given to the core (camelCase keys).
func (p *Provider) Options() map[string]any {
	out := make(map[string]any, len(p.options))
	for k, v := range p.options {
		out[k] = v
	}
	return out
}

// Config returns the resolved configuration (after presets and environment), without secrets.
func (p *Provider) Config() (map[string]any, error) {
	p.resolvedOnce.Do(func() {
		text, rc := p.h.config()
		if rc != 0 {
			p.resolvedErr = newError(rc, "")
			return
		}
		p.resolvedErr = json.Unmarshal([]byte(text), &p.resolved)
	})
	if p.resolvedErr != nil {
		return nil, p.resolvedErr
	}
	out := make(map[string]any, len(p.resolved))
	for k, v := range p.resolved {
		out[k] = v
	}
	return out, nil
}

// Name is the provider preset: "auth0", "keycloak", "jwks", "custom", ...
func (p *Provider) Name() string {
	if c, err := p.Config(); err == nil {
		if s, ok := c["provider"].(string); ok {
			return s
		}
	}
	s, _ := p.options["provider"].(string)
	return s
}

// Verify verifies a bearer token (without the "Bearer " prefix) and returns its AuthInfo, or
// an *Error wrapping ErrInvalidToken, ErrInsufficientScope, ErrKeysUnavailable, ...
//
// The core is asked without network I/O first (a cached key, or a token it has verified
// before): that runs on the calling goroutine. Only when keys must be fetched does the call
// block, on another goroutine, and Verify returns ctx.Err() if ctx ends first (the fetch then
// completes in the background and fills the key cache).
func (p *Provider) Verify(ctx context.Context, token string) (*AuthInfo, error) {
	if p.verifyToken != nil {
		return p.verifyInHost(ctx, token)
	}
	return p.verifyCore(ctx, token, 0)
}

func (p *Provider) verifyCore(ctx context.Context, token string, extraFlags uint) (*AuthInfo, error) {
	cb := callBufs.Get().(*callBuf)
	rc := p.h.verify(token, flagVerifyNonblock|extraFlags, cb)
	if rc == int(CodeWouldBlock) {
		cb.answer() // frees anything handed over
		callBufs.Put(cb)
		return p.verifyBlocking(ctx, token, extraFlags)
	}
	info, err := p.finish(rc, cb, token)
	callBufs.Put(cb)
	return info, err
}

type verifyResult struct {
	info *AuthInfo
	err  error
}

func (p *Provider) verifyBlocking(ctx context.Context, token string, extraFlags uint) (*AuthInfo, error) {
	run := func() (*AuthInfo, error) {
		cb := callBufs.Get().(*callBuf)
		defer callBufs.Put(cb)
		return p.finish(p.h.verify(token, extraFlags, cb), cb, token)
	}
	if ctx.Done() == nil {
		return run()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan verifyResult, 1)
	go func() {
		info, err := run()
		ch <- verifyResult{info, err}
	}()
	select {
	case r := <-ch:
		return r.info, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// finish turns the core's answer in cb into the result.
func (p *Provider) finish(rc int, cb *callBuf, token string) (*AuthInfo, error) {
	text, has, detail := cb.answer()
	if rc != 0 {
		return nil, newError(rc, detail)
	}
	if !has {
		return nil, newError(int(CodeInternal), "the core returned no auth result")
	}
	return p.authFromText(text, token, cb.out.cut != 0)
}

// authFromText translates the core's auth result. A repeated token is answered by the core's
// verified-token cache (which re-checks the time on every call) with the same text; its
// translation, most of the cost of a cached verification, is reused from a memo keyed by that
// text. The decision is always the core's: this runs only after the core accepted the token
// on this call. Nothing is reused when a GetUserInfo hook maps the user, nor when the
// configuration turns the core's cache off (tokenCacheSize or tokenCacheMaxSeconds 0).
//
// cut: the text crossed without the token (mcpgo_verify). Such texts have their own memo,
// and a translation is reused only for the very token it was made for (two tokens with the
// same claims give the same cut text).
func (p *Provider) authFromText(text []byte, token string, cut bool) (*AuthInfo, error) {
	if p.memoOn() {
		memo := p.memo
		if cut {
			memo = p.memoCut
		}
		p.memoMu.RLock()
		hit := memo[string(text)] // no allocation for the lookup
		p.memoMu.RUnlock()
		if hit != nil && (!cut || hit.AccessToken == token) {
			return hit, nil
		}
	}
	return p.translate(string(text), token, cut)
}

// authFromString is authFromText for a result that is a string already (in a decision).
func (p *Provider) authFromString(text, token string) (*AuthInfo, error) {
	if p.memoOn() {
		p.memoMu.RLock()
		hit := p.memo[text]
		p.memoMu.RUnlock()
		if hit != nil {
			return hit, nil
		}
	}
	return p.translate(text, token, false)
}

func (p *Provider) memoOn() bool { return p.getUserInfo == nil && !p.noMemo }

// translate decodes an auth result that is not in the memo, and adds it there. The memo's key
// is text itself, whose substrings the AuthInfo's strings are: no second copy.
func (p *Provider) translate(text, token string, cut bool) (*AuthInfo, error) {
	info, err := decodeAuth(text, token, cut)
	if err != nil {
		return nil, err
	}
	if p.getUserInfo != nil {
		if err := p.applyUserInfo(info); err != nil {
			return nil, err
		}
	}
	if !p.memoOn() {
		return info, nil
	}
	memo := p.memo
	if cut {
		memo = p.memoCut
	}
	p.memoMu.Lock()
	if len(memo) >= memoMax {
		clear(memo)
	}
	memo[text] = info
	p.memoMu.Unlock()
	return info, nil
}

func (p *Provider) applyUserInfo(info *AuthInfo) error {
	u, err := p.getUserInfo(info.Payload)
	if err != nil {
		return newError(int(CodeClaimInvalid), fmt.Sprintf("GetUserInfo refused the claims: %v", err))
	}
	if u == nil || u.UserID == "" {
		return newError(int(CodeClaimInvalid), "GetUserInfo returned no user (a UserID is required)")
	}
	info.User = *u
	if info.User.Roles == nil {
		info.User.Roles = []string{}
	}
	if info.User.Permissions == nil {
		info.User.Permissions = []string{}
	}
	return nil
}

func isZero(v any) bool {
	switch n := v.(type) {
	case float64:
		return n == 0
	case int:
		return n == 0
	case json.Number:
		return n.String() == "0"
	}
	return false
}

// verifyInHost runs the host's VerifyTokenFunc, then the core's claim mapping and checks
// (mcpauth_map_claims).
func (p *Provider) verifyInHost(ctx context.Context, token string) (*AuthInfo, error) {
	claims, err := p.verifyToken(ctx, token)
	if err != nil {
		return nil, hostRejection(err)
	}
	data, err := json.Marshal(claims)
	if err != nil {
		return nil, newError(int(CodeClaimInvalid), "VerifyToken returned claims that are not JSON: "+err.Error())
	}
	cb := callBufs.Get().(*callBuf)
	defer callBufs.Put(cb)
	rc := p.h.mapClaims(data, token, cb)
	text, has, detail := cb.answer()
	if rc != 0 {
		return nil, newError(rc, detail)
	}
	if !has {
		return nil, newError(int(CodeInternal), "the core returned no auth result")
	}
	info, err := parseAuth(text, token)
	if err != nil {
		return nil, err
	}
	if p.getUserInfo != nil {
		if err := p.applyUserInfo(info); err != nil {
			return nil, err
		}
	}
	return info, nil
}

func hostRejection(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return newError(int(CodeBadSignature), fmt.Sprintf("VerifyToken refused the token: %v", err))
}

// ProtectedResourceMetadata is the RFC 9728 document of the MCP resource (JSON).
func (p *Provider) ProtectedResourceMetadata() ([]byte, error) {
	text, rc := p.h.protectedResourceMetadata()
	if rc != 0 {
		return nil, newError(rc, "")
	}
	return []byte(text), nil
}

// AuthorizationServerMetadata is the RFC 8414 document (mirrored from upstream or synthesized).
func (p *Provider) AuthorizationServerMetadata(ctx context.Context) ([]byte, error) {
	text, rc := p.h.authorizationServerMetadata(flagVerifyNonblock)
	if rc == int(CodeWouldBlock) {
		text, rc = p.h.authorizationServerMetadata(0)
	}
	if rc != 0 {
		return nil, newError(rc, "")
	}
	return []byte(text), nil
}

// Challenge is the WWW-Authenticate value for a failure code (CodeTokenMissing gives the
// challenge without error=). scope "" means the configured scopes.
func (p *Provider) Challenge(code Code, scope string) (string, error) {
	var sc *string
	if scope != "" {
		sc = &scope
	}
	text, rc := p.h.challenge(int(code), sc, nil)
	if rc != 0 {
		return "", newError(rc, "")
	}
	return text, nil
}

// CoreVersion is the version of the linked C core ("0.1.0").
func CoreVersion() string { return coreVersion() }

// CoreSourceHash is the SHA-256 of the core's sources compiled into the package ("" when it
// links the installed library); see gen.go.
func CoreSourceHash() string {
	if linkedCore != "compiled from source" {
		return ""
	}
	return coreSourceHash
}

// LinkedCore says how the core was linked: compiled from source, or the installed library.
func LinkedCore() string { return linkedCore }
