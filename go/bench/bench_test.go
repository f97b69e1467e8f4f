// Package bench compares the Go binding with the pure-Go JWT libraries most Go servers use:
// github.com/golang-jwt/jwt/v5 with the key preloaded, and with github.com/MicahParks/keyfunc/v3
// over the same JWK set. Same tokens, same claims checks (signature, iss, aud, exp), one core:
//
//	go test -run '^$' -bench . -benchmem ./go/bench        (go/scripts/bench.sh prints ratios)
//
// HS256 shows the cost of the binding itself (the HMAC is nearly free in both).
// "miss": tokens the verifier has not seen (the core's verified-token cache is off, and with it
// the binding's memo of translated results); "repeat": the same token again (the core's cache).
package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/libmcpauth/libmcpauth/go/mcpauth"
)

const (
	issuer   = "https://issuer.bench.test"
	resource = "https://mcp.bench.test/mcp"
	poolSize = 64
)

type algCase struct {
	alg    string
	method jwt.SigningMethod
	priv   crypto.Signer
	hmac   []byte
	pub    crypto.PublicKey
	jwk    map[string]any
	tokens []string
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pad(b []byte, n int) []byte {
	out := make([]byte, n)
	copy(out[n-len(b):], b)
	return out
}

func newCase(alg string) *algCase {
	c := &algCase{alg: alg}
	switch alg {
	case "RS256":
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		c.priv, c.pub, c.method = k, &k.PublicKey, jwt.SigningMethodRS256
		c.jwk = map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case "ES256":
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		c.priv, c.pub, c.method = k, &k.PublicKey, jwt.SigningMethodES256
		c.jwk = map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pad(k.X.Bytes(), 32)), "y": b64(pad(k.Y.Bytes(), 32))}
	case "HS256":
		secret := make([]byte, 32)
		rand.Read(secret)
		c.hmac, c.method = secret, jwt.SigningMethodHS256
		c.jwk = map[string]any{"kty": "oct", "k": b64(secret)}
	case "EdDSA":
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		c.priv, c.pub, c.method = priv, pub, jwt.SigningMethodEdDSA
		c.jwk = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}
	}
	c.jwk["kid"], c.jwk["alg"], c.jwk["use"] = "k-"+alg, alg, "sig"
	now := time.Now().Unix()
	for i := 0; i < poolSize; i++ {
		t := jwt.NewWithClaims(c.method, jwt.MapClaims{"iss": issuer, "aud": resource,
			"sub": fmt.Sprintf("user-%d", i), "email": "ada@example.com", "name": "Ada Lovelace",
			"scope": "mcp:read mcp:write", "client_id": "client-1", "iat": now, "exp": now + 3600,
			"jti": fmt.Sprintf("jti-%d", i)})
		t.Header["kid"] = "k-" + alg
		var key any = c.priv
		if c.hmac != nil {
			key = c.hmac
		}
		s, err := t.SignedString(key)
		if err != nil {
			panic(err)
		}
		c.tokens = append(c.tokens, s)
	}
	return c
}

func (c *algCase) jwks() map[string]any { return map[string]any{"keys": []any{c.jwk}} }

func (c *algCase) provider(b *testing.B, cache bool) *mcpauth.Provider {
	extra := map[string]any{}
	if !cache {
		extra["tokenCacheSize"] = 0
	}
	p, err := mcpauth.JWKSVerifier(mcpauth.JWKSOptions{JWKS: c.jwks(), Issuer: issuer,
		Common: mcpauth.Common{Resource: resource, Algorithms: []string{c.alg}, NoEnv: true, Extra: extra}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func (c *algCase) parser() *jwt.Parser {
	return jwt.NewParser(jwt.WithValidMethods([]string{c.alg}), jwt.WithIssuer(issuer),
		jwt.WithAudience(resource), jwt.WithExpirationRequired(), jwt.WithLeeway(60*time.Second))
}

func benchAlg(b *testing.B, c *algCase) {
	ctx := context.Background()
	b.Run("mcpauth-miss", func(b *testing.B) {
		p := c.provider(b, false)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			a, err := p.Verify(ctx, c.tokens[i%poolSize])
			if err != nil || a.User.UserID == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		p := c.parser()
		var key any = c.pub
		if c.hmac != nil {
			key = c.hmac
		}
		kf := func(*jwt.Token) (any, error) { return key, nil }
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t, err := p.Parse(c.tokens[i%poolSize], kf)
			if err != nil || !t.Valid {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt-keyfunc", func(b *testing.B) {
		raw, _ := json.Marshal(c.jwks())
		k, err := keyfunc.NewJWKSetJSON(raw)
		if err != nil {
			b.Fatal(err)
		}
		p := c.parser()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t, err := p.Parse(c.tokens[i%poolSize], k.Keyfunc)
			if err != nil || !t.Valid {
				b.Fatal(err)
			}
		}
	})
	b.Run("mcpauth-repeat", func(b *testing.B) {
		p := c.provider(b, true)
		tok := c.tokens[0]
		if _, err := p.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			a, err := p.Verify(ctx, tok)
			if err != nil || a.User.UserID == "" {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA", "HS256"} {
		c := newCase(alg)
		b.Run(alg, func(b *testing.B) { benchAlg(b, c) })
	}
}
