package mcpauth_test

import (
	"context"
	"encoding/json"
	"errors"
	. "github.com/libmcpauth/libmcpauth/go/mcpauth"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The binding conformance vectors (bindings/conformance/vectors.json): the same outcomes as
// the C API (tests/c/check_conformance.c) and the Python binding.
func TestConformanceVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "bindings", "conformance", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Configs map[string]json.RawMessage `json:"configs"`
		Cases   []struct {
			Name   string `json:"name"`
			Config string `json:"config"`
			Token  string `json:"token"`
			Expect struct {
				Valid     bool           `json:"valid"`
				User      map[string]any `json:"user"`
				Scopes    []string       `json:"scopes"`
				ClientID  *string        `json:"clientId"`
				ExpiresAt *int64         `json:"expiresAt"`
				Code      string         `json:"code"`
				Error     string         `json:"error"`
			} `json:"expect"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) < 10 {
		t.Fatalf("only %d cases", len(v.Cases))
	}
	providers := map[string]*Provider{}
	for name, cfg := range v.Configs {
		p, err := New(cfg, WithoutEnv())
		if err != nil {
			t.Fatalf("config %s: %v", name, err)
		}
		defer p.Close()
		providers[name] = p
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			a, err := providers[c.Config].Verify(context.Background(), c.Token)
			if c.Expect.Valid {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				um := a.User.Map()
				for k, want := range c.Expect.User {
					g, _ := json.Marshal(um[k])
					w, _ := json.Marshal(want)
					if string(g) != string(w) {
						t.Errorf("user.%s = %s, want %s", k, g, w)
					}
				}
				if c.Expect.Scopes != nil {
					got := slices.Clone(a.Scopes)
					want := slices.Clone(c.Expect.Scopes)
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("scopes %v, want %v", got, want)
					}
				}
				if c.Expect.ClientID != nil && a.ClientID != *c.Expect.ClientID {
					t.Errorf("clientId %q, want %q", a.ClientID, *c.Expect.ClientID)
				}
				if c.Expect.ExpiresAt != nil && a.ExpiresAt.Unix() != *c.Expect.ExpiresAt {
					t.Errorf("expiresAt %d, want %d", a.ExpiresAt.Unix(), *c.Expect.ExpiresAt)
				}
				return
			}
			var e *Error
			if a != nil || !errors.As(err, &e) {
				t.Fatalf("accepted or not an *Error: %v %v", a, err)
			}
			if e.Code.String() != c.Expect.Code || e.OAuthError != c.Expect.Error {
				t.Fatalf("got %v/%s, want %s/%s", e.Code, e.OAuthError, c.Expect.Code, c.Expect.Error)
			}
		})
	}
}
