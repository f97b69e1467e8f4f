package mcpauth_test

import (
	"context"
	"encoding/json"
	"errors"
	. "github.com/libmcpauth/libmcpauth/go/mcpauth"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifyRS256AndES256(t *testing.T) {
	makeKeys(t)
	p := newJWKS(t, nil, rsaKey, ecKey)
	for _, k := range []testKey{rsaKey, ecKey} {
		tok := mintT(t, k, claims(map[string]any{"scp": []any{"extra:1"}}))
		a, err := p.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("%s: %v", k.alg, err)
		}
		if a.User.UserID != "user-1" || a.User.Email != "ada@example.com" || a.User.Name != "Ada" {
			t.Fatalf("%s: user %+v", k.alg, a.User)
		}
		if !a.HasScope("mcp:read", "mcp:write", "extra:1") || a.HasScope("admin") {
			t.Fatalf("%s: scopes %v", k.alg, a.Scopes)
		}
		if a.ClientID != "client-1" || a.AccessToken != tok || a.Payload["sub"] != "user-1" {
			t.Fatalf("%s: %+v", k.alg, a)
		}
		if a.ExpiresAt.Unix() != int64(a.Payload["exp"].(float64)) {
			t.Fatalf("%s: expiresAt %v", k.alg, a.ExpiresAt)
		}
		// the same token again: the core's cache; the translation is reused
		b, err := p.Verify(context.Background(), tok)
		if err != nil || b != a {
			t.Fatalf("%s: repeated token: %v (same object: %v)", k.alg, err, b == a)
		}
	}
}

func TestVerifyErrors(t *testing.T) {
	makeKeys(t)
	p := newJWKS(t, map[string]any{"requiredScopes": []string{"mcp:read"}}, rsaKey)
	cases := []struct {
		name     string
		token    string
		code     Code
		sentinel error
		oauth    string
		status   int
	}{
		{"expired", mintT(t, rsaKey, claims(map[string]any{"exp": time.Now().Unix() - 3600})), CodeExpired, ErrInvalidToken, "invalid_token", 401},
		{"other issuer", mintT(t, rsaKey, claims(map[string]any{"iss": "https://evil.test"})), CodeIssuerMismatch, ErrInvalidToken, "invalid_token", 401},
		{"other resource", mintT(t, rsaKey, claims(map[string]any{"aud": "https://other.test/mcp"})), CodeAudienceMismatch, ErrInvalidToken, "invalid_token", 401},
		{"no scope", mintT(t, rsaKey, claims(map[string]any{"scope": "other"})), CodeInsufficientScope, ErrInsufficientScope, "insufficient_scope", 403},
		{"garbage", "not.a.jwt", CodeTokenMalformed, ErrInvalidToken, "invalid_token", 401},
		{"empty", "", CodeTokenMissing, ErrInvalidToken, "", 401}, // RFC 6750 3.1: no error code
	}
	tampered := mintT(t, rsaKey, claims(nil))
	cases = append(cases, struct {
		name     string
		token    string
		code     Code
		sentinel error
		oauth    string
		status   int
	}{"bad signature", tampered[:len(tampered)-4] + "AAAA", CodeBadSignature, ErrInvalidToken, "invalid_token", 401})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := p.Verify(context.Background(), c.token)
			if a != nil || err == nil {
				t.Fatalf("accepted: %+v", a)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %T %v", err, err)
			}
			if e.Code != c.code || !errors.Is(err, c.sentinel) || e.OAuthError != c.oauth || e.HTTPStatus != c.status {
				t.Fatalf("got %v (%s, %d, %q)", e.Code, e.OAuthError, e.HTTPStatus, e.Detail)
			}
			if strings.Contains(e.Error(), c.token) && c.token != "" {
				t.Fatal("the error message contains the token")
			}
		})
	}
}

func TestConfigErrorsNameOptionAndVariable(t *testing.T) {
	t.Setenv("MCP_USE_OAUTH_AUTH0_DOMAIN", "")
	t.Setenv("MCP_USE_OAUTH_AUTH0_AUDIENCE", "")
	_, err := Auth0Provider(Auth0Options{})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrConfig) || e.Code != CodeConfig {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(e.Detail, "domain") || !strings.Contains(e.Detail, "MCP_USE_OAUTH_AUTH0_DOMAIN") {
		t.Fatalf("detail %q does not name the option and its variable", e.Detail)
	}
	if _, err := New([]byte(`{"provider":"jwks","realm":"x"}`)); !errors.Is(err, ErrConfig) ||
		!strings.Contains(err.Error(), "realm") {
		t.Fatalf("unknown option: %v", err)
	}
	if _, err := New([]byte(`[1]`)); !errors.Is(err, ErrConfig) {
		t.Fatalf("not an object: %v", err)
	}
}

// Every seed provider, zero-config from its MCP_USE_OAUTH_* variables, then explicit options
// beating the environment.
func TestProvidersZeroConfigAndExplicit(t *testing.T) {
	t.Setenv("MCP_URL", "https://mcp.example.test")
	t.Setenv("MCP_USE_OAUTH_AUTH0_DOMAIN", "env.eu.auth0.com")
	t.Setenv("MCP_USE_OAUTH_AUTH0_AUDIENCE", "https://api.example.test")
	t.Setenv("MCP_USE_OAUTH_BETTER_AUTH_URL", "https://ba.example.test/api/auth")
	t.Setenv("MCP_USE_OAUTH_CLERK_FRONTEND_API_URL", "https://clerk.example.test")
	t.Setenv("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "happy-cat")
	t.Setenv("MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "abcd")
	t.Setenv("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL", "https://kc.example.test")
	t.Setenv("MCP_USE_OAUTH_KEYCLOAK_REALM", "demo")
	check := func(name string, p *Provider, err error, issuer string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer p.Close()
		c, err := p.Config()
		if err != nil {
			t.Fatal(err)
		}
		if c["issuer"] != issuer || c["resource"] != "https://mcp.example.test/mcp" {
			t.Fatalf("%s: issuer %v resource %v", name, c["issuer"], c["resource"])
		}
	}
	p, err := Auth0Provider(Auth0Options{})
	check("auth0", p, err, "https://env.eu.auth0.com/")
	p, err = Auth0Provider(Auth0Options{Domain: "explicit.auth0.com"})
	check("auth0 explicit", p, err, "https://explicit.auth0.com/")
	p, err = BetterAuthProvider(BetterAuthOptions{})
	check("betterauth", p, err, "https://ba.example.test/api/auth")
	p, err = ClerkProvider(ClerkOptions{})
	check("clerk", p, err, "https://clerk.example.test")
	p, err = WorkOSProvider(WorkOSOptions{})
	check("workos", p, err, "https://happy-cat.authkit.app")
	p, err = SupabaseProvider(SupabaseOptions{})
	check("supabase", p, err, "https://abcd.supabase.co/auth/v1")
	p, err = KeycloakProvider(KeycloakOptions{})
	check("keycloak", p, err, "https://kc.example.test/realms/demo")
	p, err = KeycloakProvider(KeycloakOptions{Realm: "other"})
	check("keycloak explicit realm", p, err, "https://kc.example.test/realms/other")
	p, err = CustomProvider(CustomOptions{Issuer: "https://idp.example.test", AuthEndpoint: "https://idp.example.test/a",
		TokenEndpoint: "https://idp.example.test/t", JWKSURL: "https://idp.example.test/jwks"})
	check("custom", p, err, "https://idp.example.test")
	// NoEnv: the variables are not read
	if _, err := Auth0Provider(Auth0Options{Common: Common{NoEnv: true}}); !errors.Is(err, ErrConfig) {
		t.Fatalf("NoEnv read the environment: %v", err)
	}
}

func TestCustomVerifyTokenAndGetUserInfo(t *testing.T) {
	var calls atomic.Int32
	p, err := CustomProvider(CustomOptions{
		Issuer: "https://idp.example.test", AuthEndpoint: "https://idp.example.test/a",
		TokenEndpoint: "https://idp.example.test/t",
		VerifyToken: func(ctx context.Context, token string) (map[string]any, error) {
			calls.Add(1)
			if token != "good" && token != "noscope" {
				return nil, errors.New("unknown token")
			}
			scope := "mcp:read"
			if token == "noscope" {
				scope = "other"
			}
			return map[string]any{"sub": "u-42", "mail": "x@example.test", "scope": scope,
				"exp": time.Now().Unix() + 600}, nil
		},
		Common: Common{NoEnv: true, RequiredScopes: []string{"mcp:read"}, BaseURL: "https://mcp.example.test",
			GetUserInfo: func(payload map[string]any) (*UserInfo, error) {
				return &UserInfo{UserID: payload["sub"].(string), Email: payload["mail"].(string)}, nil
			}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, err := p.Verify(context.Background(), "good")
	if err != nil {
		t.Fatal(err)
	}
	if a.User.UserID != "u-42" || a.User.Email != "x@example.test" || !a.HasScope("mcp:read") {
		t.Fatalf("%+v", a)
	}
	if _, err := p.Verify(context.Background(), "bad"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("bad: %v", err)
	}
	if _, err := p.Verify(context.Background(), "noscope"); !errors.Is(err, ErrInsufficientScope) {
		t.Fatalf("noscope: %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("VerifyToken ran %d times", calls.Load())
	}
}

// A remote JWKS: the first verification must fetch (blocking), later ones are non-blocking.
// A cancelled context returns at once.
func TestRemoteJWKSBlockingAndContext(t *testing.T) {
	makeKeys(t)
	var hits atomic.Int32
	release := make(chan struct{})
	var slow atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if slow.Load() {
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jwksOf(rsaKey, ecKey))
	}))
	defer srv.Close()
	defer close(release)
	mk := func() *Provider {
		p, err := JWKSVerifier(JWKSOptions{JWKSURL: srv.URL + "/jwks", Issuer: testIssuer,
			Common: Common{Resource: testResource, NoEnv: true}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	p := mk()
	tok := mintT(t, rsaKey, claims(nil))
	if _, err := p.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verify(context.Background(), mintT(t, ecKey, claims(nil))); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Fatalf("JWKS fetched %d times", hits.Load())
	}
	// a fresh provider whose fetch hangs: the context bounds the wait
	slow.Store(true)
	q := mk()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := q.Verify(ctx, tok)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 2*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(t0))
	}
}

func TestCloseAndConcurrency(t *testing.T) {
	makeKeys(t)
	p, err := JWKSVerifier(JWKSOptions{JWKS: jwksOf(rsaKey, ecKey), Issuer: testIssuer,
		Common: Common{Resource: testResource, NoEnv: true}})
	if err != nil {
		t.Fatal(err)
	}
	toks := []string{mintT(t, rsaKey, claims(nil)), mintT(t, ecKey, claims(nil)),
		mintT(t, rsaKey, claims(map[string]any{"exp": 1}))}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				tok := toks[(g+i)%3]
				a, err := p.Verify(context.Background(), tok)
				if (tok == toks[2]) != (err != nil) || (err == nil && a.User.UserID != "user-1") {
					bad.Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d wrong results", bad.Load())
	}
	// Close while goroutines verify: calls either finish or fail with ErrClosed
	var wg2 sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := 0; i < 500; i++ {
				if _, err := p.Verify(context.Background(), toks[0]); err != nil && !errors.Is(err, ErrClosed) {
					bad.Add(1)
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	p.Close()
	wg2.Wait()
	if _, err := p.Verify(context.Background(), toks[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if bad.Load() != 0 {
		t.Fatalf("%d unexpected errors", bad.Load())
	}
	p.Close() // idempotent
}

func TestErrorTexts(t *testing.T) {
	if CodeExpired.String() != "MCPAUTH_E_EXPIRED" || CodeInsufficientScope.HTTPStatus() != 403 ||
		CodeKeysUnavailable.OAuthError() != "temporarily_unavailable" {
		t.Fatal("code tables")
	}
	for c, want := range map[Code]error{CodeKeysUnavailable: ErrKeysUnavailable,
		CodeTokenInQuery: ErrInvalidRequest, CodeUpstream: ErrUpstream, CodeExpired: ErrInvalidToken,
		CodeConfig: ErrConfig, CodeInternal: ErrInternal, CodeInsufficientScope: ErrInsufficientScope,
		CodeTokenMissing: ErrInvalidToken, CodeMalformedHeader: ErrInvalidRequest, CodeWouldBlock: ErrKeysUnavailable,
		CodeNoMem: ErrInternal, CodeInvalidArgument: ErrInternal} {
		if !errors.Is(&Error{Code: c}, want) {
			t.Fatalf("%v does not wrap %v", c, want)
		}
	}
	if CoreVersion() == "" {
		t.Fatal("no core version")
	}
}
