//go:build cgo

package mcpauth

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// UserInfo is the authenticated user (the seed's ctx.auth.user). Provider-specific fields
// (WorkOS organization_id, Supabase aal, Keycloak groups, fields of a claim map ...) are in
// Extra.
type UserInfo struct {
	UserID      string         `json:"userId"`
	Email       string         `json:"email,omitempty"`
	Name        string         `json:"name,omitempty"`
	Username    string         `json:"username,omitempty"`
	Nickname    string         `json:"nickname,omitempty"`
	Picture     string         `json:"picture,omitempty"`
	Roles       []string       `json:"roles,omitempty"`
	Permissions []string       `json:"permissions,omitempty"`
	Extra       map[string]any `json:"-"`
}

// AuthInfo is the auth context of a request (the seed's ctx.auth): the user, the bearer
// token, the granted scopes, the permissions, the verified claims and the RFC 8707 resource.
//
// The Provider hands the same *AuthInfo to every request that presents the same token (the
// core answers it from its verified-token cache, and its translation is reused): treat it,
// its slices and its maps as read-only.
type AuthInfo struct {
	User        UserInfo
	AccessToken string         // the raw bearer token (never logged by the package)
	Scopes      []string       // from the scope / scp claims
	Permissions []string       // from the permissions claim
	Payload     map[string]any // every claim of the token
	ClientID    string         // client_id / azp, "" when absent
	ExpiresAt   time.Time      // exp; zero when the token has none
	Resource    string         // the resource the token is bound to, "" when unbound
}

// HasScope reports whether every one of scopes is granted (as a scope or a permission).
func (a *AuthInfo) HasScope(scopes ...string) bool {
	for _, s := range scopes {
		if !slices.Contains(a.Scopes, s) && !slices.Contains(a.Permissions, s) {
			return false
		}
	}
	return true
}

// parseAuth translates the core's auth result; token, when it is the result's accessToken, is
// reused instead of copied.
func parseAuth(text []byte, token string) (*AuthInfo, error) {
	return decodeAuth(string(text), token, false)
}

// decodeAuth reads the core's auth result (mcpauth.h: user, accessToken, scopes, permissions,
// payload, clientId, expiresAt, resource) straight into an AuthInfo. A member of another type
// than documented reads as the zero value, as a type assertion on the generic value would;
// unknown members are skipped. Strings are substrings of src (one allocation for the whole
// result, shared by the strings it holds). cut: src is an answer whose first member,
// "accessToken", crossed empty instead of token (mcpgo_verify).
func decodeAuth(src, token string, cut bool) (*AuthInfo, error) {
	r := jsonReader{s: src, reuse: token}
	if r.peek() != '{' {
		return nil, errJSON
	}
	r.i++
	r.d++
	a := &AuthInfo{}
	hasUser := false
	for n := 0; ; n++ {
		k, more, err := r.member(n)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		switch k {
		case "user":
			if r.peek() != '{' {
				if err := r.skip(); err != nil {
					return nil, err
				}
				hasUser = false
				continue
			}
			if a.User, err = r.user(); err != nil {
				return nil, err
			}
			hasUser = true
		case "accessToken":
			a.AccessToken, err = r.strOr()
			if cut && n == 0 && err == nil && a.AccessToken == "" {
				a.AccessToken = token
			}
		case "scopes":
			a.Scopes, err = r.strList()
		case "permissions":
			a.Permissions, err = r.strList()
		case "payload":
			a.Payload = nil
			if r.peek() == '{' {
				a.Payload, err = r.objectSized(16) // claims: usually more than 8
			} else {
				err = r.skip()
			}
		case "clientId":
			a.ClientID, err = r.strOr()
		case "resource":
			a.Resource, err = r.strOr()
		case "expiresAt":
			a.ExpiresAt = time.Time{}
			if c := r.peek(); c == '-' || (c >= '0' && c <= '9') {
				var exp float64
				if exp, err = r.num(); err == nil {
					a.ExpiresAt = time.Unix(int64(exp), 0)
				}
			} else {
				err = r.skip()
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	if !hasUser {
		return nil, fmt.Errorf("mcpauth: the core's auth result has no user")
	}
	if a.Scopes == nil {
		a.Scopes = []string{}
	}
	if a.Permissions == nil {
		a.Permissions = []string{}
	}
	if a.Payload == nil {
		a.Payload = map[string]any{}
	}
	return a, nil
}

// user reads the core's user object (camelCase keys) into a UserInfo; other keys become Extra.
func (r *jsonReader) user() (UserInfo, error) {
	var u UserInfo
	if r.d++; r.d > maxJSONDepth {
		return u, errJSON
	}
	r.i++ // {
	for n := 0; ; n++ {
		k, more, err := r.member(n)
		if err != nil {
			return u, err
		}
		if !more {
			break
		}
		switch k {
		case "userId":
			u.UserID, err = r.strOr()
		case "email":
			u.Email, err = r.strOr()
		case "name":
			u.Name, err = r.strOr()
		case "username":
			u.Username, err = r.strOr()
		case "nickname":
			u.Nickname, err = r.strOr()
		case "picture":
			u.Picture, err = r.strOr()
		case "roles":
			u.Roles, err = r.strList()
		case "permissions":
			u.Permissions, err = r.strList()
		default:
			var v any
			if v, err = r.value(); err == nil {
				if u.Extra == nil {
					u.Extra = make(map[string]any, 4)
				}
				u.Extra[k] = v
			}
		}
		if err != nil {
			return u, err
		}
	}
	r.d--
	if u.Roles == nil {
		u.Roles = []string{}
	}
	if u.Permissions == nil {
		u.Permissions = []string{}
	}
	return u, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// userFromMap builds a UserInfo from the core's user object (camelCase keys); other keys
// become Extra.
func userFromMap(m map[string]any) UserInfo {
	u := UserInfo{}
	for k, v := range m {
		switch k {
		case "userId":
			u.UserID = str(v)
		case "email":
			u.Email = str(v)
		case "name":
			u.Name = str(v)
		case "username":
			u.Username = str(v)
		case "nickname":
			u.Nickname = str(v)
		case "picture":
			u.Picture = str(v)
		case "roles":
			u.Roles = strList(v)
		case "permissions":
			u.Permissions = strList(v)
		default:
			if u.Extra == nil {
				u.Extra = make(map[string]any, len(m))
			}
			u.Extra[k] = v
		}
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	if u.Permissions == nil {
		u.Permissions = []string{}
	}
	return u
}

// Map returns the user as the seed's JSON object (camelCase keys, extras merged).
func (u *UserInfo) Map() map[string]any {
	m := make(map[string]any, 8+len(u.Extra))
	for k, v := range u.Extra {
		m[k] = v
	}
	m["userId"] = u.UserID
	for k, v := range map[string]string{"email": u.Email, "name": u.Name, "username": u.Username,
		"nickname": u.Nickname, "picture": u.Picture} {
		if v != "" {
			m[k] = v
		}
	}
	m["roles"] = nonNil(u.Roles)
	m["permissions"] = nonNil(u.Permissions)
	return m
}

// MarshalJSON writes the user in the seed's shape.
func (u UserInfo) MarshalJSON() ([]byte, error) { return json.Marshal(u.Map()) }

// UnmarshalJSON reads the seed's shape (camelCase keys; others become Extra).
func (u *UserInfo) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*u = userFromMap(m)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MarshalJSON writes the seed's ctx.auth shape, without the bearer token.
func (a *AuthInfo) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"user":        a.User.Map(),
		"scopes":      nonNil(a.Scopes),
		"permissions": nonNil(a.Permissions),
		"payload":     a.Payload,
	}
	if a.ClientID != "" {
		m["clientId"] = a.ClientID
	}
	if !a.ExpiresAt.IsZero() {
		m["expiresAt"] = a.ExpiresAt.Unix()
	}
	if a.Resource != "" {
		m["resource"] = a.Resource
	}
	return json.Marshal(m)
}
