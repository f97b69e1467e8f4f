// Package mcpsdk plugs a libmcpauth Provider into the official MCP Go SDK
// (github.com/modelcontextprotocol/go-sdk).
//
// The recommended setup puts the Provider's router in front of the SDK's streamable handler:
//
//	provider, _ := mcpauth.Auth0Provider(mcpauth.Auth0Options{...})
//	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
//	http.ListenAndServe(addr, mcpsdk.Handler(provider, handler))
//
// libmcpauth then answers the metadata documents, the exact 401/403 challenges and the OAuth
// proxy routes, and the SDK receives each authenticated request with its auth.TokenInfo, so
// tools read the user from req.Extra.TokenInfo (or mcpsdk.AuthInfo(req.Extra.TokenInfo)) and
// the SDK binds every session to the user that opened it.
//
// TokenVerifier gives the SDK's own auth.RequireBearerToken a libmcpauth verifier instead.
package mcpsdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/libmcpauth/libmcpauth/go/mcpauth"
)

// ExtraKey is the key of the *mcpauth.AuthInfo in auth.TokenInfo.Extra.
const ExtraKey = "mcpauth"

// TokenInfo converts an AuthInfo to the SDK's TokenInfo: the granted scopes, the expiry, the
// user id (the token's subject: the SDK binds sessions to it) and the AuthInfo in Extra.
func TokenInfo(a *mcpauth.AuthInfo) *auth.TokenInfo {
	return &auth.TokenInfo{
		Scopes:     a.Scopes,
		Expiration: a.ExpiresAt,
		UserID:     a.User.UserID,
		Extra:      map[string]any{ExtraKey: a},
	}
}

// AuthInfo returns the *mcpauth.AuthInfo of a TokenInfo made by this package, or nil.
func AuthInfo(ti *auth.TokenInfo) *mcpauth.AuthInfo {
	if ti == nil {
		return nil
	}
	a, _ := ti.Extra[ExtraKey].(*mcpauth.AuthInfo)
	return a
}

// TokenVerifier is an auth.TokenVerifier backed by the Provider, for
// auth.RequireBearerToken. A refused token is an error wrapping auth.ErrInvalidToken (401);
// keys that cannot be fetched give a plain error (500). Set RequireBearerTokenOptions.Scopes
// and ResourceMetadataURL yourself; Handler gives the core's exact challenges instead.
func TokenVerifier(p *mcpauth.Provider) auth.TokenVerifier {
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		a, err := p.Verify(ctx, token)
		if err != nil {
			if errors.Is(err, mcpauth.ErrInvalidToken) || errors.Is(err, mcpauth.ErrInsufficientScope) ||
				errors.Is(err, mcpauth.ErrInvalidRequest) {
				return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
			}
			return nil, err
		}
		return TokenInfo(a), nil
	}
}

// Handler protects h (typically mcp.NewStreamableHTTPHandler) with the Provider's router
// (mcpauth.(*Provider).Middleware) and hands every authenticated request to h with its
// auth.TokenInfo, through the SDK's own auth.RequireBearerToken: the only way a TokenInfo
// reaches the SDK's sessions and tools. Requests the router passes without auth (paths it
// does not protect) reach h as they are.
func Handler(p *mcpauth.Provider, h http.Handler) http.Handler {
	fromRouter := func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		a := mcpauth.AuthFromContext(ctx)
		if a == nil {
			return nil, auth.ErrInvalidToken
		}
		return TokenInfo(a), nil
	}
	// the core already checked expiry (with its leeway) and scopes: the SDK's own checks must
	// not refuse what the core passed
	withInfo := auth.RequireBearerToken(fromRouter, &auth.RequireBearerTokenOptions{
		AllowMissingExpiration: true, ClockSkew: 15 * time.Minute})(h)
	return p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mcpauth.AuthFromContext(r.Context()) == nil {
			h.ServeHTTP(w, r)
			return
		}
		withInfo.ServeHTTP(w, r)
	}))
}
