package mcpsdk_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/libmcpauth/libmcpauth/go/mcpauth"
	"github.com/libmcpauth/libmcpauth/go/mcpauth/mcpsdk"
)

// The MCP TypeScript SDK's OAuth client (tests/proxy/go-flow.mjs) against a go-sdk server
// behind mcpsdk.Handler in OAuth proxy mode, with oidc-provider (tests/idp/idp.mjs) upstream:
// registration, consent, sign-in, token, a tool call that sees the user, and the go-sdk's
// session-user binding refusing a second user's token on the first user's session.
// Needs node and the npm packages of tests/proxy: go/scripts/test.sh installs them and sets
// MCPAUTH_GO_NODE=1, which makes a missing piece a failure instead of a skip.
func TestTypeScriptOAuthClientThroughTheProxy(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", "..", ".."))
	mods := filepath.Join(root, "tests", "proxy", "node_modules")
	_, errNode := exec.LookPath("node")
	_, errSDK := os.Stat(filepath.Join(mods, "@modelcontextprotocol", "sdk"))
	_, errIdP := os.Stat(filepath.Join(mods, "oidc-provider"))
	if errNode != nil || errSDK != nil || errIdP != nil {
		if os.Getenv("MCPAUTH_GO_NODE") == "1" {
			t.Fatalf("node or the npm packages of tests/proxy are missing: %v %v %v", errNode, errSDK, errIdP)
		}
		t.Skip("needs node and `npm ci` in tests/proxy (go/scripts/test.sh does both)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")

	// the upstream identity provider: registration disabled, one pre-registered client
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idp := exec.CommandContext(ctx, "node", filepath.Join(root, "tests", "idp", "idp.mjs"), "--port", "0",
		"--mcp-url", base+"/mcp", "--redirect-uri", base+"/oauth/callback", "--client-id", "go-e2e",
		"--account", "test-user")
	idp.Env = append(os.Environ(), "IDP_CLIENT_SECRET=go-e2e-secret", "IDP_NODE_MODULES="+mods)
	idp.Stderr = os.Stderr
	out, _ := idp.StdoutPipe()
	if err := idp.Start(); err != nil {
		t.Fatal(err)
	}
	defer idp.Wait()
	defer cancel()
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	var doc struct {
		Issuer                string `json:"issuer"`
		JWKSURI               string `json:"jwks_uri"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	select {
	case l := <-line:
		if err := json.Unmarshal([]byte(l), &doc); err != nil || doc.Issuer == "" {
			t.Fatalf("idp: %q %v", l, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the identity provider did not start")
	}

	// a second user: a token signed with a key of this test, for the same issuer and resource,
	// accepted through the verifier's inline key next to the provider's JWKS
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ek)
	b64 := func(b []byte) string {
		p := make([]byte, 32)
		copy(p[32-len(b):], b)
		return base64.RawURLEncoding.EncodeToString(p)
	}
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "kid": "second-user", "alg": "ES256", "use": "sig",
		"x": b64(ek.X.Bytes()), "y": b64(ek.Y.Bytes())}
	other, err := mcpauth.Mint(mcpauth.MintRequest{Alg: "ES256", Kid: "second-user",
		Key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		Claims: map[string]any{"iss": doc.Issuer, "aud": base + "/mcp", "sub": "second-user",
			"scope": "mcp:read", "iat": time.Now().Unix(), "exp": time.Now().Unix() + 600}})
	if err != nil {
		t.Fatal(err)
	}

	verifier, err := mcpauth.JWKSVerifier(mcpauth.JWKSOptions{JWKSURL: doc.JWKSURI, Issuer: doc.Issuer,
		JWKS:   map[string]any{"keys": []any{jwk}},
		Common: mcpauth.Common{BaseURL: base, RequiredScopes: []string{"mcp:read"}, NoEnv: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer verifier.Close()
	p, err := mcpauth.OAuthProxy(mcpauth.ProxyOptions{
		AuthEndpoint: doc.AuthorizationEndpoint, TokenEndpoint: doc.TokenEndpoint, Issuer: doc.Issuer,
		ClientID: "go-e2e", ClientSecret: "go-e2e-secret", Scopes: []string{"openid", "mcp:read"},
		SealingSecret: "go-e2e-sealing-secret-0123456789abcdef-0123456789",
		Verifier:      verifier, Common: mcpauth.Common{BaseURL: base, NoEnv: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	server := newServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	srv := &http.Server{Handler: mcpsdk.Handler(p, h)}
	go srv.Serve(ln)
	defer srv.Close()

	flow := exec.Command("node", filepath.Join(root, "tests", "proxy", "go-flow.mjs"))
	flow.Env = append(os.Environ(), "M="+base, "ISS="+doc.Issuer, "USER_ID=test-user", "OTHER="+other)
	res, err := flow.CombinedOutput()
	t.Logf("go-flow.mjs:\n%s", res)
	if err != nil || strings.Contains(string(res), "not ok") || strings.Count(string(res), "ok - ") < 7 {
		t.Fatalf("the TypeScript client flow failed: %v", err)
	}
}
