package mcpauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	. "github.com/libmcpauth/libmcpauth/go/mcpauth"
	"math/big"
	"sync"
	"testing"
	"time"
)

const (
	testIssuer   = "https://issuer.example.test"
	testResource = "https://mcp.example.test/mcp"
)

type testKey struct {
	alg, kid string
	pem      string
	jwk      map[string]any
}

var (
	keysOnce sync.Once
	rsaKey   testKey
	ecKey    testKey
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pad(b []byte, n int) []byte {
	out := make([]byte, n)
	copy(out[n-len(b):], b)
	return out
}

func makeKeys(t testing.TB) {
	keysOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(rk)
		rsaKey = testKey{alg: "RS256", kid: "rs-1",
			pem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			jwk: map[string]any{"kty": "RSA", "kid": "rs-1", "alg": "RS256", "use": "sig",
				"n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())}}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ = x509.MarshalPKCS8PrivateKey(ek)
		ecKey = testKey{alg: "ES256", kid: "es-1",
			pem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			jwk: map[string]any{"kty": "EC", "kid": "es-1", "alg": "ES256", "use": "sig", "crv": "P-256",
				"x": b64(pad(ek.X.Bytes(), 32)), "y": b64(pad(ek.Y.Bytes(), 32))}}
	})
}

func jwksOf(keys ...testKey) map[string]any {
	arr := make([]any, 0, len(keys))
	for _, k := range keys {
		arr = append(arr, k.jwk)
	}
	return map[string]any{"keys": arr}
}

func claims(over map[string]any) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{"iss": testIssuer, "aud": testResource, "sub": "user-1",
		"email": "ada@example.com", "name": "Ada", "scope": "mcp:read mcp:write",
		"client_id": "client-1", "iat": now, "exp": now + 3600}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func mintT(t testing.TB, k testKey, c map[string]any) string {
	t.Helper()
	tok, err := Mint(MintRequest{Alg: k.alg, Key: k.pem, Kid: k.kid, Claims: c})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newJWKS(t testing.TB, extra map[string]any, keys ...testKey) *Provider {
	t.Helper()
	makeKeys(t)
	p, err := JWKSVerifier(JWKSOptions{JWKS: jwksOf(keys...), Issuer: testIssuer,
		Common: Common{Resource: testResource, NoEnv: true, Extra: extra}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
