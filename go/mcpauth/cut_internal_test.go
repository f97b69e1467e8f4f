package mcpauth

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// A verification's answer crosses from C without the token (mcpgo_verify), and the AuthInfo
// still carries it; two tokens with the same claims (the same answer without the token) each
// get their own AuthInfo.
func TestTokenCrossesOnce(t *testing.T) {
	secret := strings.Repeat("k", 32)
	jwk := map[string]any{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"alg": "HS256", "kid": "h"}
	p, err := JWKSVerifier(JWKSOptions{JWKS: map[string]any{"keys": []any{jwk}}, Issuer: "https://i.test",
		Common: Common{Resource: "https://r.test/mcp", Algorithms: []string{"HS256"}, NoEnv: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := map[string]any{"iss": "https://i.test", "aud": "https://r.test/mcp", "sub": "u-1",
		"exp": time.Now().Unix() + 600}
	var toks []string
	for _, n := range []int{1, 2} {
		tok, err := Mint(MintRequest{Alg: "HS256", Key: secret, Kid: "h", Claims: c, Header: map[string]any{"n": n}})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	cb := callBufs.Get().(*callBuf)
	rc := p.h.verify(toks[0], 0, cb)
	text, has, detail := cb.answer()
	if rc != 0 || !has || cb.out.cut != 1 || strings.Contains(string(text), toks[0]) ||
		!strings.HasPrefix(string(text), `{"accessToken":"",`) {
		t.Fatalf("rc %d (%s), cut %d: %s", rc, detail, cb.out.cut, text)
	}
	callBufs.Put(cb)
	// the tokens take turns: the memo of cut texts holds the other token's translation each
	// time, which must not be handed out
	for round := 0; round < 3; round++ {
		for _, tok := range toks {
			a, err := p.Verify(context.Background(), tok)
			if err != nil || a.AccessToken != tok || a.User.UserID != "u-1" {
				t.Fatalf("round %d: %v %+v", round, err, a)
			}
		}
	}
}
