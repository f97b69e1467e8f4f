package mcpauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/libmcpauth/libmcpauth/go/mcpauth"
)

// protectedServer starts a real HTTP server on 127.0.0.1 whose handler reports what it got.
func protectedServer(t *testing.T, mk func(base string) (*Provider, error)) (*httptest.Server, *Provider) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p, err := mk(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	srv.Config.Handler = p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out := map[string]any{"path": r.URL.Path, "bodyLen": len(body), "body": string(body)}
		if a := AuthFromContext(r.Context()); a != nil {
			out["user"] = a.User.UserID
			out["scopes"] = a.Scopes
			out["token"] = a.AccessToken != ""
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, p
}

type resp struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func do(t *testing.T, method, url, token, body string) resp {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, body: string(b)}
	json.Unmarshal(b, &r.json)
	return r
}

func jwksProvider(extra map[string]any) func(string) (*Provider, error) {
	return func(base string) (*Provider, error) {
		return JWKSVerifier(JWKSOptions{JWKS: jwksOf(rsaKey, ecKey), Issuer: testIssuer,
			Common: Common{BaseURL: base, NoEnv: true, Extra: extra}})
	}
}

func TestMiddlewareFollowsTheRouter(t *testing.T) {
	makeKeys(t)
	srv, _ := protectedServer(t, jwksProvider(map[string]any{
		"requiredScopes": []string{"mcp:read"},
		"routeScopes":    map[string]any{"tools/call": []string{"mcp:tools"}},
	}))
	res := srv.URL + "/mcp"
	tok := mintT(t, rsaKey, claims(map[string]any{"aud": res}))
	tools := mintT(t, ecKey, claims(map[string]any{"aud": res, "scope": "mcp:read mcp:tools"}))

	// metadata, answered by the core
	r := do(t, "GET", srv.URL+"/.well-known/oauth-protected-resource/mcp", "", "")
	if r.status != 200 || r.json["resource"] != res {
		t.Fatalf("metadata: %d %s", r.status, r.body)
	}
	// no credentials: 401 without error=, naming the metadata
	r = do(t, "POST", res, "", `{"jsonrpc":"2.0","id":1,"method":"initialize"}`)
	wa := r.header.Get("WWW-Authenticate")
	if r.status != 401 || !strings.Contains(wa, "resource_metadata=") || strings.Contains(wa, "error=") {
		t.Fatalf("no token: %d %q", r.status, wa)
	}
	// a bad token
	r = do(t, "POST", res, tok[:len(tok)-3]+"xyz", `{}`)
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	// a good token on a message that needs no method scope: the handler gets the whole body
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`
	r = do(t, "POST", res, tok, init)
	if r.status != 200 || r.json["user"] != "user-1" || r.json["body"] != init || r.json["token"] != true {
		t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	// tools/call needs mcp:tools: the core asks for the body (need_body) and answers 403
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`
	r = do(t, "POST", res, tok, call)
	if r.status != 403 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
		!strings.Contains(r.header.Get("WWW-Authenticate"), "mcp:tools") {
		t.Fatalf("tools/call without the scope: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	r = do(t, "POST", res, tools, call)
	if r.status != 200 || r.json["body"] != call {
		t.Fatalf("tools/call with the scope: %d %s", r.status, r.body)
	}
	// a body longer than the core reads: every method scope applies, and the handler still
	// gets all of it
	big := `{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"pad":"` + strings.Repeat("a", 2<<20) + `"}}`
	if r = do(t, "POST", res, tok, big); r.status != 403 {
		t.Fatalf("truncated body without method scopes: %d", r.status)
	}
	if r = do(t, "POST", res, tools, big); r.status != 200 || int(r.json["bodyLen"].(float64)) != len(big) {
		t.Fatalf("truncated body with the scopes: %d len %v", r.status, r.json["bodyLen"])
	}
	// GET (the SSE stream) carries no message: base scopes only
	if r = do(t, "GET", res, tok, ""); r.status != 200 || r.json["user"] != "user-1" {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	// a token in the query string is refused
	if r = do(t, "GET", res+"?access_token="+tok, "", ""); r.status != 400 {
		t.Fatalf("token in query: %d %s", r.status, r.body)
	}
	// an unprotected path passes without auth
	if r = do(t, "GET", srv.URL+"/health", "", ""); r.status != 200 || r.json["user"] != nil {
		t.Fatalf("unprotected: %d %s", r.status, r.body)
	}
	// a token for another resource
	other := mintT(t, rsaKey, claims(map[string]any{"aud": "https://other.example/mcp"}))
	if r = do(t, "POST", res, other, `{}`); r.status != 401 {
		t.Fatalf("other resource: %d", r.status)
	}
}

// A custom provider whose host verifies tokens: the core answers host_verify, the
// middleware runs VerifyToken and the core completes the decision.
func TestMiddlewareHostVerify(t *testing.T) {
	srv, _ := protectedServer(t, func(base string) (*Provider, error) {
		return CustomProvider(CustomOptions{
			Issuer: "https://idp.example.test", AuthEndpoint: "https://idp.example.test/a",
			TokenEndpoint: "https://idp.example.test/t",
			VerifyToken: func(ctx context.Context, token string) (map[string]any, error) {
				switch token {
				case "good":
					return map[string]any{"iss": "https://idp.example.test", "aud": base + "/mcp", "sub": "host-user", "scope": "mcp:read", "exp": time.Now().Unix() + 600}, nil
				case "expired":
					return map[string]any{"iss": "https://idp.example.test", "aud": base + "/mcp", "sub": "host-user", "scope": "mcp:read", "exp": time.Now().Unix() - 600}, nil
				case "lowscope":
					return map[string]any{"iss": "https://idp.example.test", "aud": base + "/mcp", "sub": "host-user", "scope": "x", "exp": time.Now().Unix() + 600}, nil
				}
				return nil, errors.New("unknown token")
			},
			Common: Common{BaseURL: base, NoEnv: true, RequiredScopes: []string{"mcp:read"}},
		})
	})
	res := srv.URL + "/mcp"
	if r := do(t, "POST", res, "good", `{}`); r.status != 200 || r.json["user"] != "host-user" {
		t.Fatalf("good: %d %s", r.status, r.body)
	}
	for tok, want := range map[string]int{"bad": 401, "expired": 401, "lowscope": 403} {
		if r := do(t, "POST", res, tok, `{}`); r.status != want {
			t.Fatalf("%s: %d, want %d (%s)", tok, r.status, want, r.header.Get("WWW-Authenticate"))
		}
	}
}

// Remote keys: the first request blocks on the fetch (after the non-blocking attempt).
func TestMiddlewareRemoteKeys(t *testing.T) {
	makeKeys(t)
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jwksOf(rsaKey))
	}))
	defer keys.Close()
	srv, _ := protectedServer(t, func(base string) (*Provider, error) {
		return JWKSVerifier(JWKSOptions{JWKSURL: keys.URL, Issuer: testIssuer, Common: Common{BaseURL: base, NoEnv: true}})
	})
	tok := mintT(t, rsaKey, claims(map[string]any{"aud": srv.URL + "/mcp"}))
	if r := do(t, "POST", srv.URL+"/mcp", tok, `{}`); r.status != 200 || r.json["user"] != "user-1" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
