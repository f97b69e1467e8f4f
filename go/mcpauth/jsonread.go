package mcpauth

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader for the core's answers (the auth result, decisions): the same values as
// encoding/json's generic decoding (map[string]any, []any, string, float64, bool, nil) in one
// pass without reflection. It is the larger part of the cost of a verification on the Go side,
// so it matters (go/bench). Malformed input is an error, never a guess.

var errJSON = errors.New("mcpauth: malformed JSON from the core")

type jsonReader struct {
	b     []byte
	i     int
	d     int    // nesting depth
	reuse string // a string the caller holds already (the token): returned instead of a copy
}

const maxJSONDepth = 128

func readJSON(b []byte, reuse string) (any, error) {
	r := jsonReader{b: b, reuse: reuse}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	r.ws()
	if r.i != len(r.b) {
		return nil, errJSON
	}
	return v, nil
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) value() (any, error) {
	r.ws()
	if r.i >= len(r.b) {
		return nil, errJSON
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		return r.str()
	case c == 't':
		return true, r.lit("true")
	case c == 'f':
		return false, r.lit("false")
	case c == 'n':
		return nil, r.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return r.num()
	}
	return nil, errJSON
}

func (r *jsonReader) lit(s string) error {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return errJSON
	}
	r.i += len(s)
	return nil
}

func (r *jsonReader) object() (map[string]any, error) {
	if r.d++; r.d > maxJSONDepth {
		return nil, errJSON
	}
	r.i++ // {
	m := make(map[string]any, 8)
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		r.d--
		return m, nil
	}
	for {
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return nil, errJSON
		}
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return nil, errJSON
		}
		r.i++
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		r.ws()
		if r.i >= len(r.b) {
			return nil, errJSON
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			r.d--
			return m, nil
		default:
			return nil, errJSON
		}
	}
}

func (r *jsonReader) array() ([]any, error) {
	if r.d++; r.d > maxJSONDepth {
		return nil, errJSON
	}
	r.i++ // [
	a := make([]any, 0, 4)
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		r.d--
		return a, nil
	}
	for {
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		r.ws()
		if r.i >= len(r.b) {
			return nil, errJSON
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			r.d--
			return a, nil
		default:
			return nil, errJSON
		}
	}
}

func (r *jsonReader) num() (float64, error) {
	start := r.i
	if r.b[r.i] == '-' {
		r.i++
	}
	digits := func() int {
		n := 0
		for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	intStart := r.i
	if digits() == 0 || (r.b[intStart] == '0' && r.i-intStart > 1) {
		return 0, errJSON
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return 0, errJSON
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return 0, errJSON
		}
	}
	f, err := strconv.ParseFloat(string(r.b[start:r.i]), 64)
	if err != nil {
		return 0, errJSON
	}
	return f, nil
}

func (r *jsonReader) str() (string, error) {
	r.i++ // "
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			raw := r.b[start:r.i]
			r.i++
			if len(raw) == len(r.reuse) && string(raw) == r.reuse {
				return r.reuse, nil
			}
			if k, ok := common[string(raw)]; ok { // no allocation for the lookup
				return k, nil
			}
			if !utf8.Valid(raw) {
				return "", errJSON
			}
			return string(raw), nil
		case c == '\\':
			return r.strSlow(start)
		case c < 0x20:
			return "", errJSON
		}
		r.i++
	}
	return "", errJSON
}

// strSlow decodes a string with escapes, from start (after the opening quote).
func (r *jsonReader) strSlow(start int) (string, error) {
	out := make([]byte, 0, r.i-start+16)
	out = append(out, r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(out) {
				return "", errJSON
			}
			return string(out), nil
		case c < 0x20:
			return "", errJSON
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.b) {
			return "", errJSON
		}
		e := r.b[r.i+1]
		r.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			u, ok := r.hex4()
			if !ok {
				return "", errJSON
			}
			ru := rune(u)
			if utf16.IsSurrogate(ru) {
				ru = utf8.RuneError
				if r.i+1 < len(r.b) && r.b[r.i] == '\\' && r.b[r.i+1] == 'u' {
					save := r.i
					r.i += 2
					if u2, ok := r.hex4(); ok {
						if d := utf16.DecodeRune(rune(u), rune(u2)); d != utf8.RuneError {
							ru = d
						} else {
							r.i = save
						}
					} else {
						return "", errJSON
					}
				}
			}
			out = utf8.AppendRune(out, ru)
		default:
			return "", errJSON
		}
	}
	return "", errJSON
}

// common holds the keys and values every auth result repeats, so that they are not allocated
// again for every result.
var common = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"user", "userId", "email", "name", "username", "nickname", "picture",
		"roles", "permissions", "accessToken", "scopes", "payload", "clientId", "expiresAt", "resource",
		"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "scope", "scp", "client_id", "azp", "sid",
		"email_verified", "updated_at", "org_id", "org_role", "org_slug", "org_permissions",
		"preferred_username", "realm_access", "resource_access", "typ", "auth_time", "acr", "amr",
		"session_state", "given_name", "family_name", "locale", "role", "aal", "is_anonymous",
		"action", "status", "headers", "body", "code", "auth", "maxBytes", "token", "pass", "respond",
		"need_body", "host_verify", "mcp:read", "mcp:write", "openid", "profile", "offline_access"} {
		m[k] = k
	}
	return m
}()

func (r *jsonReader) hex4() (uint32, bool) {
	if r.i+4 > len(r.b) {
		return 0, false
	}
	var u uint32
	for _, c := range r.b[r.i : r.i+4] {
		switch {
		case c >= '0' && c <= '9':
			u = u<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			u = u<<4 | uint32(c-'a'+10)
		case c >= 'A' && c <= 'F':
			u = u<<4 | uint32(c-'A'+10)
		default:
			return 0, false
		}
	}
	r.i += 4
	return u, true
}
