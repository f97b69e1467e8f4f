package mcpsdk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/libmcpauth/libmcpauth/go/mcpauth"
	"github.com/libmcpauth/libmcpauth/go/mcpauth/mcpsdk"
)

const (
	secret = "mcpsdk-test-secret-0123456789abcdef!"
	issuer = "https://idp.example.test"
)

type profile struct {
	UserID string   `json:"userId"`
	Email  string   `json:"email"`
	Scopes []string `json:"scopes"`
}

func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcpsdk-test", Version: "0.1.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "get-profile", Description: "the authenticated user"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, profile, error) {
			a := mcpsdk.AuthInfo(req.Extra.TokenInfo)
			if a == nil {
				return nil, profile{}, errors.New("no auth")
			}
			if req.Extra.TokenInfo.UserID != a.User.UserID {
				return nil, profile{}, errors.New("TokenInfo.UserID is not the user")
			}
			return nil, profile{UserID: a.User.UserID, Email: a.User.Email, Scopes: req.Extra.TokenInfo.Scopes}, nil
		})
	return s
}

// start serves the go-sdk streamable handler behind mcpsdk.Handler on 127.0.0.1.
func start(t *testing.T, extra map[string]any) (*httptest.Server, *mcpauth.Provider) {
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p, err := mcpauth.JWKSVerifier(mcpauth.JWKSOptions{Secret: secret, Issuer: issuer,
		Common: mcpauth.Common{BaseURL: base, NoEnv: true, RequiredScopes: []string{"mcp:read"}, Extra: extra}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	server := newServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	srv.Config.Handler = mcpsdk.Handler(p, h)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, p
}

func token(t *testing.T, aud, sub, scope string) string {
	tok, err := mcpauth.Mint(mcpauth.MintRequest{Alg: "HS256", Key: secret, Claims: map[string]any{
		"iss": issuer, "aud": aud, "sub": sub, "email": sub + "@example.test", "scope": scope,
		"iat": time.Now().Unix(), "exp": time.Now().Unix() + 600}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type bearer struct {
	tok string
	rt  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return b.rt.RoundTrip(r)
}

func connect(t *testing.T, url, tok string) *mcp.ClientSession {
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "0.1.0"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearer{tok, http.DefaultTransport}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func post(t *testing.T, url, tok, session, body string) (int, string, http.Header) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// The go-sdk's own client through mcpsdk.Handler: tools see the user, sessions are bound to it.
func TestGoSDKEndToEnd(t *testing.T) {
	srv, _ := start(t, nil)
	url := srv.URL + "/mcp"
	alice := token(t, url, "alice", "mcp:read")
	bob := token(t, url, "bob", "mcp:read")

	cs := connect(t, url, alice)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get-profile", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("get-profile: %v %+v", err, res)
	}
	got, _ := res.StructuredContent.(map[string]any)
	if got["userId"] != "alice" || got["email"] != "alice@example.test" {
		t.Fatalf("profile %v", res.StructuredContent)
	}

	// the SDK binds the session to alice: bob's token on it is refused, alice's is not
	call := `{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"get-profile","arguments":{}}}`
	if st, body, _ := post(t, url, bob, cs.ID(), call); st != http.StatusForbidden {
		t.Fatalf("bob on alice's session: %d %s", st, body)
	}
	if st, body, _ := post(t, url, alice, cs.ID(), call); st != http.StatusOK || !strings.Contains(body, "alice") {
		t.Fatalf("alice on her session: %d %s", st, body)
	}

	// the core's challenges, not the SDK's
	st, _, h := post(t, url, "", "", call)
	if st != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `resource_metadata="`+srv.URL+"/.well-known/oauth-protected-resource/mcp") {
		t.Fatalf("no token: %d %q", st, h.Get("WWW-Authenticate"))
	}
	low := token(t, url, "carol", "other")
	if st, _, h := post(t, url, low, "", call); st != 403 || !strings.Contains(h.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Fatalf("no scope: %d %q", st, h.Get("WWW-Authenticate"))
	}
	wrongAud := token(t, "https://elsewhere.example/mcp", "alice", "mcp:read")
	if st, _, _ := post(t, url, wrongAud, "", call); st != 401 {
		t.Fatalf("token for another resource: %d", st)
	}
}

// The SDK's own auth.RequireBearerToken with the libmcpauth TokenVerifier.
func TestTokenVerifierWithRequireBearerToken(t *testing.T) {
	p, err := mcpauth.JWKSVerifier(mcpauth.JWKSOptions{Secret: secret, Issuer: issuer,
		Common: mcpauth.Common{Resource: "https://mcp.example.test/mcp", NoEnv: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	server := newServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	srv := httptest.NewServer(auth.RequireBearerToken(mcpsdk.TokenVerifier(p),
		&auth.RequireBearerTokenOptions{Scopes: []string{"mcp:read"}})(h))
	t.Cleanup(srv.Close) // after the client sessions' cleanups (their SSE streams)
	good := token(t, "https://mcp.example.test/mcp", "dave", "mcp:read")
	cs := connect(t, srv.URL, good)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get-profile", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("get-profile: %v %+v", err, res)
	}
	if got, _ := res.StructuredContent.(map[string]any); got["userId"] != "dave" {
		t.Fatalf("profile %v", res.StructuredContent)
	}
	call := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`
	if st, _, _ := post(t, srv.URL, "garbage", "", call); st != 401 {
		t.Fatalf("garbage: %d", st)
	}
	if st, _, _ := post(t, srv.URL, token(t, "https://mcp.example.test/mcp", "dave", "x"), "", call); st != 403 {
		t.Fatalf("scope: %d", st)
	}
	ti, err := mcpsdk.TokenVerifier(p)(context.Background(), good, nil)
	if err != nil || ti.UserID != "dave" || ti.Expiration.IsZero() || mcpsdk.AuthInfo(ti).User.Email != "dave@example.test" {
		t.Fatalf("TokenInfo %+v %v", ti, err)
	}
	if _, err := mcpsdk.TokenVerifier(p)(context.Background(), "x.y.z", nil); !errors.Is(err, auth.ErrInvalidToken) ||
		!errors.Is(err, mcpauth.ErrInvalidToken) {
		t.Fatalf("bad token error: %v", err)
	}
}
