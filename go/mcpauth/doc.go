// Package mcpauth protects MCP servers with OAuth 2.1 bearer tokens: it is the Go binding of
// libmcpauth, a C core that verifies JWTs against JWKS (or through introspection), maps the
// claims to a user, answers the OAuth discovery documents and the exact 401/403 challenges,
// and can act as an OAuth proxy in front of providers without dynamic client registration.
//
// Create a Provider with one of the constructors (Auth0Provider, KeycloakProvider, ...,
// JWKSVerifier, OAuthProxy, or New with the core's JSON configuration). Then:
//
//   - (*Provider).Verify(ctx, token) returns the AuthInfo of a bearer token, or an *Error that
//     wraps a sentinel (ErrInvalidToken, ErrInsufficientScope, ErrKeysUnavailable, ...);
//   - (*Provider).Middleware(next) puts the core's request router in front of any
//     http.Handler; handlers read the user with AuthFromContext;
//   - the package go/mcpauth/mcpsdk plugs a Provider into the official go-sdk.
//
// The package compiles the C core from source through cgo (see cgo_core.go); build with
// -tags libmcpauth to link an installed libmcpauth.so.1 instead. It imports only the standard
// library.
package mcpauth

//go:generate go run gen.go
