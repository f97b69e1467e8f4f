//go:build cgo

package mcpauth

import (
	"encoding/json"
	"time"
)

// Common holds the options every provider constructor accepts (the core's generic options).
// Zero values mean "not set": the core then uses the provider's environment variable or its
// default.
type Common struct {
	BaseURL         string            // public origin (MCP_URL); the resource is BaseURL + MCPPath
	MCPPath         string            // path of the MCP endpoint (default "/mcp")
	Resource        string            // the RFC 8707 resource when it is not BaseURL + MCPPath
	Audience        []string          // accepted aud values
	RequiredScopes  []string          // scopes every request needs (else 403 insufficient_scope)
	ScopesSupported []string          // scopes advertised in the metadata
	Algorithms      []string          // allowed signing algorithms
	Leeway          time.Duration     // clock skew allowed on exp/nbf/iat (0: the core's 60 s)
	Claims          map[string]string // claim map, e.g. {"email": "mail"}
	VerifyJWT       *bool             // false: development mode, tokens are only decoded
	GetUserInfo     GetUserInfoFunc   // maps the claims to the user in Go
	// Extra holds any other key of the core's configuration, in camelCase (routeScopes,
	// protectedPaths, jwks, tokenCacheSize, ...; docs/config.md). It is applied last.
	Extra    map[string]any
	NoEnv    bool // ignore MCP_URL, MCP_USE_OAUTH_* and MCPAUTH_SEALING_SECRET
	Prefetch bool // fetch remote JWKS while the Provider is created
}

type config map[string]any

func (c config) str(k, v string) {
	if v != "" {
		c[k] = v
	}
}

func (c config) list(k string, v []string) {
	if v != nil {
		c[k] = v
	}
}

func (c config) common(o *Common) {
	c.str("baseUrl", o.BaseURL)
	c.str("mcpPath", o.MCPPath)
	c.str("resource", o.Resource)
	c.list("audience", o.Audience)
	c.list("requiredScopes", o.RequiredScopes)
	c.list("scopesSupported", o.ScopesSupported)
	c.list("algorithms", o.Algorithms)
	if o.Leeway > 0 {
		c["leewaySeconds"] = int(o.Leeway / time.Second)
	}
	if o.Claims != nil {
		c["claims"] = o.Claims
	}
	if o.VerifyJWT != nil {
		c["verifyJwt"] = *o.VerifyJWT
	}
}

func (c config) extra(o *Common) {
	for k, v := range o.Extra {
		c[k] = v
	}
}

func build(c config, o *Common, verify VerifyTokenFunc) (*Provider, error) {
	c.extra(o)
	data, err := json.Marshal(map[string]any(c))
	if err != nil {
		return nil, &Error{Code: CodeConfig, OAuthError: "server_error", HTTPStatus: 500,
			Detail: "the options are not JSON: " + err.Error()}
	}
	return newProvider(data, c, settings{noEnv: o.NoEnv, prefetch: o.Prefetch, verifyToken: verify,
		getUserInfo: o.GetUserInfo})
}

// Auth0Options configures Auth0Provider (env: MCP_USE_OAUTH_AUTH0_DOMAIN,
// MCP_USE_OAUTH_AUTH0_AUDIENCE). Audience is in Common.
type Auth0Options struct {
	Domain string // e.g. dev-abc.us.auth0.com
	Common
}

// Auth0Provider verifies Auth0 access tokens.
func Auth0Provider(o Auth0Options) (*Provider, error) {
	c := config{"provider": "auth0"}
	c.str("domain", o.Domain)
	c.common(&o.Common)
	return build(c, &o.Common, nil)
}

// BetterAuthOptions configures BetterAuthProvider (env: MCP_USE_OAUTH_BETTER_AUTH_URL).
type BetterAuthOptions struct {
	AuthURL string // e.g. https://app.example.com/api/auth
	Common
}

// BetterAuthProvider verifies Better Auth tokens.
func BetterAuthProvider(o BetterAuthOptions) (*Provider, error) {
	c := config{"provider": "betterauth"}
	c.str("authURL", o.AuthURL)
	c.common(&o.Common)
	return build(c, &o.Common, nil)
}

// ClerkOptions configures ClerkProvider (env: MCP_USE_OAUTH_CLERK_FRONTEND_API_URL).
type ClerkOptions struct {
	FrontendAPIURL string // e.g. https://clerk.example.com
	Common
}

// ClerkProvider verifies Clerk tokens.
func ClerkProvider(o ClerkOptions) (*Provider, error) {
	c := config{"provider": "clerk"}
	c.str("frontendApiUrl", o.FrontendAPIURL)
	c.common(&o.Common)
	return build(c, &o.Common, nil)
}

// WorkOSOptions configures WorkOSProvider (env: MCP_USE_OAUTH_WORKOS_SUBDOMAIN).
type WorkOSOptions struct {
	Subdomain string // e.g. happy-cat-12.authkit.app, or the label happy-cat-12
	Common
}

// WorkOSProvider verifies WorkOS AuthKit tokens.
func WorkOSProvider(o WorkOSOptions) (*Provider, error) {
	c := config{"provider": "workos"}
	c.str("subdomain", o.Subdomain)
	c.common(&o.Common)
	return build(c, &o.Common, nil)
}

// SupabaseOptions configures SupabaseProvider (env: MCP_USE_OAUTH_SUPABASE_PROJECT_ID,
// MCP_USE_OAUTH_SUPABASE_URL, MCP_USE_OAUTH_SUPABASE_JWT_SECRET).
type SupabaseOptions struct {
	ProjectID   string
	SupabaseURL string
	JWTSecret   string // legacy HS256 projects
	Common
}

// SupabaseProvider verifies Supabase tokens.
func SupabaseProvider(o SupabaseOptions) (*Provider, error) {
	c := config{"provider": "supabase"}
	c.str("projectId", o.ProjectID)
	c.str("supabaseUrl", o.SupabaseURL)
	c.str("jwtSecret", o.JWTSecret)
	c.common(&o.Common)
	return build(c, &o.Common, nil)
}

// KeycloakOptions configures KeycloakProvider (env: MCP_USE_OAUTH_KEYCLOAK_SERVER_URL,
// MCP_USE_OAUTH_KEYCLOAK_REALM, MCP_USE_OAUTH_KEYCLOAK_AUDIENCE).
type KeycloakOptions struct {
	ServerURL string
	Realm     string
	Common
}

// KeycloakProvider verifies Keycloak tokens.
func KeycloakProvider(o KeycloakOptions) (*Provider, error) {
	c := config{"provider": "keycloak"}
	c.str("serverUrl", o.ServerURL)
	c.str("realm", o.Realm)
	c.common(&o.Common)
	return build(c, &o.Common, nil)
}

// CustomOptions configures CustomProvider: any authorization server with dynamic client
// registration. There is no zero-config mode: every endpoint is explicit.
type CustomOptions struct {
	Issuer           string
	AuthEndpoint     string
	TokenEndpoint    string
	JWKSURL          string // the core verifies JWTs against it; or use VerifyToken
	UserInfoEndpoint string
	GrantTypes       []string
	// VerifyToken verifies tokens in Go (the seed's verifyToken). Without JWKSURL (or a key in
	// Extra) the core is created with hostVerifies: it holds no keys, and every token goes
	// through VerifyToken; the core still maps the claims and checks time and scopes.
	VerifyToken VerifyTokenFunc
	Common
}

// CustomProvider is the seed's oauthCustomProvider.
func CustomProvider(o CustomOptions) (*Provider, error) {
	c := config{"provider": "custom"}
	c.str("issuer", o.Issuer)
	c.str("authEndpoint", o.AuthEndpoint)
	c.str("tokenEndpoint", o.TokenEndpoint)
	c.str("jwksUrl", o.JWKSURL)
	c.str("userInfoEndpoint", o.UserInfoEndpoint)
	c.list("grantTypes", o.GrantTypes)
	c.common(&o.Common)
	if o.VerifyToken != nil && !hasKeySource(c, o.Extra) {
		c["hostVerifies"] = true
	}
	return build(c, &o.Common, o.VerifyToken)
}

var keySources = []string{"jwksUrl", "jwks", "publicKey", "secret", "introspection", "userinfo"}

func hasKeySource(c config, extra map[string]any) bool {
	for _, k := range keySources {
		if _, ok := c[k]; ok {
			return true
		}
		if _, ok := extra[k]; ok {
			return true
		}
	}
	_, ok := extra["hostVerifies"]
	return ok
}

// JWKSOptions configures JWKSVerifier: a plain JWT verifier with one key source.
type JWKSOptions struct {
	JWKSURL   string // a remote JWK set
	JWKS      any    // or an inline JWK set ({"keys":[...]}, as a map, struct or json.RawMessage)
	PublicKey string // or a PEM public key
	Secret    string // or an HMAC secret
	Issuer    string // the token's iss must equal it
	Common
}

// JWKSVerifier is the seed's jwksVerifier. Use it alone, or as the Verifier of OAuthProxy.
func JWKSVerifier(o JWKSOptions) (*Provider, error) {
	c := config{"provider": "jwks"}
	c.str("jwksUrl", o.JWKSURL)
	if o.JWKS != nil {
		c["jwks"] = o.JWKS
	}
	c.str("publicKey", o.PublicKey)
	c.str("secret", o.Secret)
	c.str("issuer", o.Issuer)
	c.common(&o.Common)
	return build(c, &o.Common, nil)
}

// ProxyOptions configures OAuthProxy: the server holds a pre-registered client of a provider
// without dynamic registration (Google, GitHub, Okta, Entra ID ...) and is the authorization
// server MCP clients see. The core serves /register, /authorize (with a consent page),
// /oauth/callback and /token at the root of BaseURL; register <BaseURL>/oauth/callback as the
// redirect URI of the app at the provider. docs/proxy.md lists every option.
type ProxyOptions struct {
	ClientID                string
	ClientSecret            string
	AuthEndpoint            string
	TokenEndpoint           string
	Issuer                  string
	Scopes                  []string // sent upstream when a client asks for none
	GrantTypes              []string
	ExtraAuthorizeParams    map[string]string
	SealingSecret           string // 32+ bytes, the same on every replica (else MCPAUTH_SEALING_SECRET)
	PreviousSecrets         []string
	TokenEndpointAuthMethod string // client_secret_post (default) or client_secret_basic
	Preset                  string // google, github, okta (+ Domain), azure (+ Tenant)
	Domain                  string
	Tenant                  string
	AllowedRedirectURIs     []string
	Consent                 *bool
	ServerName              string
	ForwardResource         *bool
	ProxyExtra              map[string]any // any other key of the core's "proxy" object

	// Verifier checks the upstream's tokens: a JWKSVerifier, whose configuration becomes the
	// rest of the engine's (the seed's oauthProxy + jwksVerifier). Or set VerifyToken.
	Verifier    *Provider
	VerifyToken VerifyTokenFunc
	Common
}

// OAuthProxy is the seed's oauthProxy.
func OAuthProxy(o ProxyOptions) (*Provider, error) {
	px := config{}
	px.str("preset", o.Preset)
	px.str("domain", o.Domain)
	px.str("tenant", o.Tenant)
	px.str("authEndpoint", o.AuthEndpoint)
	px.str("tokenEndpoint", o.TokenEndpoint)
	px.str("issuer", o.Issuer)
	px.str("clientId", o.ClientID)
	px.str("clientSecret", o.ClientSecret)
	px.str("tokenEndpointAuthMethod", o.TokenEndpointAuthMethod)
	px.list("scopes", o.Scopes)
	px.list("grantTypes", o.GrantTypes)
	if o.ExtraAuthorizeParams != nil {
		px["extraAuthorizeParams"] = o.ExtraAuthorizeParams
	}
	px.str("sealingSecret", o.SealingSecret)
	px.list("previousSecrets", o.PreviousSecrets)
	px.list("allowedRedirectUris", o.AllowedRedirectURIs)
	if o.Consent != nil {
		px["consent"] = *o.Consent
	}
	px.str("serverName", o.ServerName)
	if o.ForwardResource != nil {
		px["forwardResource"] = *o.ForwardResource
	}
	for k, v := range o.ProxyExtra {
		px[k] = v
	}

	c := config{}
	verify := o.VerifyToken
	if o.Verifier != nil {
		for k, v := range o.Verifier.options {
			c[k] = v
		}
		if verify == nil {
			verify = o.Verifier.verifyToken
		}
		if o.GetUserInfo == nil {
			o.GetUserInfo = o.Verifier.getUserInfo
		}
	} else {
		c["provider"] = "custom"
		c.str("issuer", o.Issuer)
		c.str("authEndpoint", o.AuthEndpoint)
		c.str("tokenEndpoint", o.TokenEndpoint)
	}
	c.common(&o.Common)
	c["proxy"] = map[string]any(px)
	if o.Verifier == nil && verify != nil && !hasKeySource(c, o.Extra) {
		c["hostVerifies"] = true
	}
	return build(c, &o.Common, verify)
}

// MintRequest asks the core to sign a token (tests and development only).
type MintRequest struct {
	Alg    string         `json:"alg"`              // RS256, ES256, HS256, ...
	Key    string         `json:"key"`              // PEM private key or HMAC secret
	Kid    string         `json:"kid,omitempty"`    // key id header
	Claims map[string]any `json:"claims"`           // the payload
	Header map[string]any `json:"header,omitempty"` // extra header members
}

// Mint signs a token through the core (libjwt). For tests and development.
func Mint(r MintRequest) (string, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	tok, rc, detail := mint(data)
	if rc != 0 {
		return "", newError(rc, detail)
	}
	return tok, nil
}

// DecodeUnverified decodes a token WITHOUT verifying it: {"verified":false,"header","payload"}.
// For development and logs only.
func DecodeUnverified(token string) (map[string]any, error) {
	text, rc, detail := decodeUnverified(token)
	if rc != 0 {
		return nil, newError(rc, detail)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, err
	}
	return m, nil
}
