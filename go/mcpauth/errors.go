//go:build cgo

package mcpauth

import "errors"

// Code is one of the core's stable numbered result codes (enum mcpauth_code in mcpauth.h).
// Codes are never renumbered nor reused.
type Code int

// The codes of mcpauth.h.
const (
	CodeOK              Code = 0
	CodeInvalidArgument Code = 1
	CodeNoMem           Code = 2
	CodeConfig          Code = 3
	CodeInternal        Code = 4

	CodeTokenMissing     Code = 10
	CodeTokenTooLarge    Code = 11
	CodeTokenMalformed   Code = 12
	CodeTokenHeader      Code = 13
	CodeAlgNotAllowed    Code = 14
	CodeKeyNotFound      Code = 15
	CodeBadSignature     Code = 16
	CodeExpired          Code = 17
	CodeNotYetValid      Code = 18
	CodeIssuerMismatch   Code = 19
	CodeAudienceMismatch Code = 20
	CodeClaimInvalid     Code = 21
	CodeTokenInactive    Code = 22
	CodeMalformedHeader  Code = 23

	CodeInsufficientScope Code = 30

	CodeWouldBlock      Code = 40
	CodeKeysUnavailable Code = 41
	CodeUpstream        Code = 42
	CodeTokenInQuery    Code = 43
)

// codeNames is this package's copy of the core's code table, checked against the linked core
// (mcpauth_constants) when the first Provider is created.
var codeNames = map[string]Code{
	"MCPAUTH_OK": CodeOK, "MCPAUTH_E_INVALID_ARGUMENT": CodeInvalidArgument, "MCPAUTH_E_NOMEM": CodeNoMem,
	"MCPAUTH_E_CONFIG": CodeConfig, "MCPAUTH_E_INTERNAL": CodeInternal, "MCPAUTH_E_TOKEN_MISSING": CodeTokenMissing,
	"MCPAUTH_E_TOKEN_TOO_LARGE": CodeTokenTooLarge, "MCPAUTH_E_TOKEN_MALFORMED": CodeTokenMalformed,
	"MCPAUTH_E_TOKEN_HEADER": CodeTokenHeader, "MCPAUTH_E_ALG_NOT_ALLOWED": CodeAlgNotAllowed,
	"MCPAUTH_E_KEY_NOT_FOUND": CodeKeyNotFound, "MCPAUTH_E_BAD_SIGNATURE": CodeBadSignature,
	"MCPAUTH_E_EXPIRED": CodeExpired, "MCPAUTH_E_NOT_YET_VALID": CodeNotYetValid,
	"MCPAUTH_E_ISSUER_MISMATCH": CodeIssuerMismatch, "MCPAUTH_E_AUDIENCE_MISMATCH": CodeAudienceMismatch,
	"MCPAUTH_E_CLAIM_INVALID": CodeClaimInvalid, "MCPAUTH_E_TOKEN_INACTIVE": CodeTokenInactive,
	"MCPAUTH_E_MALFORMED_HEADER": CodeMalformedHeader, "MCPAUTH_E_INSUFFICIENT_SCOPE": CodeInsufficientScope,
	"MCPAUTH_E_WOULD_BLOCK": CodeWouldBlock, "MCPAUTH_E_KEYS_UNAVAILABLE": CodeKeysUnavailable,
	"MCPAUTH_E_UPSTREAM": CodeUpstream, "MCPAUTH_E_TOKEN_IN_QUERY": CodeTokenInQuery,
}

// codeClosed is the binding's own result for a call on a closed Provider (never a core code).
const codeClosed = -1

// String returns the C name of the code, e.g. "MCPAUTH_E_EXPIRED".
func (c Code) String() string {
	if c == codeClosed {
		return "CLOSED"
	}
	return codeName(int(c))
}

// Text is the core's English description of the code.
func (c Code) Text() string { return codeText(int(c)) }

// OAuthError is the OAuth error a server answers with for the code ("invalid_token",
// "insufficient_scope", "invalid_request", "server_error", "temporarily_unavailable").
func (c Code) OAuthError() string { return codeOAuthError(int(c)) }

// HTTPStatus is the HTTP status a server answers with for the code.
func (c Code) HTTPStatus() int { return codeHTTPStatus(int(c)) }

// Sentinel errors. Every error of the package is an *Error that wraps one of them, so both
// errors.Is(err, mcpauth.ErrInvalidToken) and errors.As(err, &e) (e *mcpauth.Error) work.
var (
	// ErrInvalidToken: the token is missing, malformed, expired, badly signed, issued by
	// another issuer or for another audience/resource (OAuth invalid_token, HTTP 401).
	ErrInvalidToken = errors.New("mcpauth: invalid token")
	// ErrInsufficientScope: the token is valid but lacks a required scope (HTTP 403).
	ErrInsufficientScope = errors.New("mcpauth: insufficient scope")
	// ErrInvalidRequest: the request is malformed (an Authorization header that is not
	// "Bearer <token>", a token in the query string): OAuth invalid_request, HTTP 400.
	ErrInvalidRequest = errors.New("mcpauth: invalid request")
	// ErrKeysUnavailable: the signing keys could not be fetched and none are cached (503).
	ErrKeysUnavailable = errors.New("mcpauth: keys unavailable")
	// ErrUpstream: an upstream server (introspection, userinfo, the proxy's provider) failed.
	ErrUpstream = errors.New("mcpauth: upstream failure")
	// ErrConfig: the configuration is wrong; Detail names the option and its variable.
	ErrConfig = errors.New("mcpauth: configuration error")
	// ErrInternal: a bad argument, an allocation failure, or an OpenSSL failure.
	ErrInternal = errors.New("mcpauth: internal error")
	// ErrClosed: the Provider was closed.
	ErrClosed = errors.New("mcpauth: provider closed")
)

// Error is a failure reported by libmcpauth. Detail is for logs only (it never contains the
// token); clients should only ever see OAuthError.
type Error struct {
	Code       Code   // the core's code
	OAuthError string // "invalid_token", "insufficient_scope", ... ("" when none applies)
	HTTPStatus int    // the status a server answers with (401, 403, 503, ...)
	Detail     string // why, for logs
}

func (e *Error) Error() string {
	msg := "mcpauth: " + e.Code.String()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel of the error's class.
func (e *Error) Unwrap() error { return sentinel(e.Code) }

func sentinel(c Code) error {
	if c == codeClosed {
		return ErrClosed
	}
	// the core's class of the code (mcpauth_constants "classes"), read with the constants
	_ = checkConstants()
	switch codeClasses[c] {
	case "config":
		return ErrConfig
	case "token":
		return ErrInvalidToken
	case "scope":
		return ErrInsufficientScope
	case "request":
		return ErrInvalidRequest
	case "unavailable":
		return ErrKeysUnavailable
	case "upstream":
		return ErrUpstream
	}
	return ErrInternal
}

func newError(rc int, detail string) *Error {
	c := Code(rc)
	e := &Error{Code: c, Detail: detail}
	if c != codeClosed {
		e.OAuthError = c.OAuthError()
		e.HTTPStatus = c.HTTPStatus()
		if detail == "" {
			e.Detail = c.Text()
		}
	} else {
		e.HTTPStatus = 503
		e.OAuthError = "temporarily_unavailable"
		if detail == "" {
			e.Detail = "the provider was closed"
		}
	}
	return e
}
