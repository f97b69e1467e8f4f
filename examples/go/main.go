// A Go MCP server (the official go-sdk, streamable HTTP) protected by libmcpauth in OAuth proxy
// mode: the Go twin of examples/python/server.py, driven by scripts/demo.sh with the same
// Python client.
//
// The identity provider behind it does not let MCP clients register themselves. The server
// holds one pre-registered confidential client there, and libmcpauth (go/mcpauth, with the C
// core compiled in) is the authorization server the MCP clients see: it answers the 401
// challenges and the discovery documents, registers clients (/register), shows the consent
// page (/authorize), takes the provider's answer (/oauth/callback), redeems codes (/token), and
// verifies the provider's JWTs on every /mcp request (JWKS, issuer, audience = this server's MCP
// resource, scope mcp:read). The go-sdk gets each request with its auth.TokenInfo: the tool
// reads the user from it, and sessions are bound to that user.
//
//	go run ./examples/go --port 8000 --idp-issuer http://127.0.0.1:4000 --client-id mcp-demo-proxy
//	    (OAUTH_CLIENT_SECRET and MCPAUTH_SEALING_SECRET in the environment)
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/libmcpauth/libmcpauth/go/mcpauth"
	"github.com/libmcpauth/libmcpauth/go/mcpauth/mcpsdk"
)

type profile struct {
	UserID string   `json:"userId"`
	Email  string   `json:"email,omitempty"`
	Name   string   `json:"name,omitempty"`
	Scopes []string `json:"scopes"`
}

func getProfile(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, profile, error) {
	a := mcpsdk.AuthInfo(req.Extra.TokenInfo) // set for this request by mcpsdk.Handler
	if a == nil {
		return nil, profile{}, errors.New("not authenticated")
	}
	return nil, profile{UserID: a.User.UserID, Email: a.User.Email, Name: a.User.Name, Scopes: a.Scopes}, nil
}

type idpConfig struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

func discover(issuer string) (*idpConfig, error) {
	url := strings.TrimRight(issuer, "/") + "/.well-known/openid-configuration"
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("%s: HTTP %d", url, res.StatusCode)
	}
	var doc idpConfig
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return nil, err
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("%s names issuer %q, expected %q", url, doc.Issuer, issuer)
	}
	return &doc, nil
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 8000, "listen port")
	baseURL := flag.String("base-url", os.Getenv("MCP_URL"), "public origin (default http://localhost:PORT)")
	issuer := flag.String("idp-issuer", os.Getenv("IDP_ISSUER"), "the identity provider's issuer")
	clientID := flag.String("client-id", os.Getenv("OAUTH_CLIENT_ID"), "the pre-registered client at the provider")
	flag.Parse()
	if *issuer == "" || *clientID == "" {
		log.Fatal("server: --idp-issuer and --client-id are required")
	}
	base := strings.TrimRight(*baseURL, "/")
	if base == "" {
		base = "http://localhost:" + strconv.Itoa(*port)
	}
	sealing := os.Getenv("MCPAUTH_SEALING_SECRET")
	if sealing == "" {
		b := make([]byte, 36)
		rand.Read(b)
		sealing = base64.RawURLEncoding.EncodeToString(b)
		log.Print("server: MCPAUTH_SEALING_SECRET is not set; using a random one")
	}
	idp, err := discover(*issuer)
	if err != nil {
		log.Fatalf("server: %v", err)
	}

	// the upstream tokens that come back through the proxy: JWTs signed with the provider's
	// keys, issued for this server's MCP resource (base + /mcp), carrying mcp:read
	verifier, err := mcpauth.JWKSVerifier(mcpauth.JWKSOptions{JWKSURL: idp.JWKSURI, Issuer: idp.Issuer,
		Common: mcpauth.Common{BaseURL: base, RequiredScopes: []string{"mcp:read"}}})
	if err != nil {
		log.Fatalf("server: %v", err)
	}
	defer verifier.Close()
	provider, err := mcpauth.OAuthProxy(mcpauth.ProxyOptions{
		AuthEndpoint: idp.AuthorizationEndpoint, TokenEndpoint: idp.TokenEndpoint, Issuer: idp.Issuer,
		ClientID: *clientID, ClientSecret: env("OAUTH_CLIENT_SECRET", ""),
		Scopes:        []string{"openid", "email", "profile", "mcp:read"},
		SealingSecret: sealing, ServerName: "libmcpauth demo server (Go)",
		Verifier: verifier, Common: mcpauth.Common{BaseURL: base},
	})
	if err != nil {
		log.Fatalf("server: %v", err)
	}
	defer provider.Close()

	server := mcp.NewServer(&mcp.Implementation{Name: "libmcpauth-demo-go", Version: "0.1.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "get-profile", Description: "The profile of the signed-in user"}, getProfile)
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)

	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		log.Fatalf("server: %v", err)
	}
	fmt.Fprintf(os.Stderr, "server: MCP endpoint %s/mcp (go-sdk), OAuth proxy for %s, libmcpauth %s (%s)\n",
		base, idp.Issuer, mcpauth.CoreVersion(), mcpauth.LinkedCore())
	srv := &http.Server{Handler: mcpsdk.Handler(provider, handler), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
