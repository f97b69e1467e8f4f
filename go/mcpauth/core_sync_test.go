package mcpauth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libmcpauth/libmcpauth/go/internal/coresrc"
	"github.com/libmcpauth/libmcpauth/go/mcpauth"
)

// cgo rebuilds the package only when a file of this folder changes, not when the core's
// sources in ../../libmcpauth do. zcore_hash.go carries the hash of the sources it was
// generated from; this fails when the core changed without `go generate ./go/mcpauth`, which
// would otherwise test a stale core.
func TestCoreIsCurrent(t *testing.T) {
	if mcpauth.LinkedCore() != "compiled from source" {
		t.Skip("linked against the installed libmcpauth")
	}
	sum, err := coresrc.Hash(filepath.Join("..", "..", "libmcpauth"))
	if err != nil {
		t.Fatal(err)
	}
	if sum != mcpauth.CoreSourceHash() {
		t.Fatalf("the compiled-in core (%s) is not the current source (%s): run `go generate ./go/mcpauth`",
			mcpauth.CoreSourceHash()[:12], sum[:12])
	}
}

// One wrapper per line of libmcpauth/sources.txt, with the text gen.go writes, and no other
// wrapper.
func TestWrappersMatchSourcesTxt(t *testing.T) {
	sources, err := coresrc.ReadSources(filepath.Join("..", "..", "libmcpauth", "sources.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, src := range sources {
		want[coresrc.WrapperName(src)] = src
	}
	have, _ := filepath.Glob("core_*.c")
	if len(have) != len(want) {
		t.Errorf("%d wrappers for %d sources", len(have), len(want))
	}
	for _, h := range have {
		src, ok := want[h]
		if !ok {
			t.Errorf("%s is not in sources.txt", h)
			continue
		}
		b, err := os.ReadFile(h)
		if err != nil || string(b) != string(coresrc.Wrapper(src)) {
			t.Errorf("%s is not the wrapper of %s that gen.go writes (%v)", h, src, err)
		}
		if !strings.Contains(string(b), "#include \"../../libmcpauth/src/"+src+"\"\n") ||
			!strings.Contains(string(b), "//go:build !libmcpauth\n") {
			t.Errorf("%s does not include %s under !libmcpauth", h, src)
		}
	}
	for w := range want {
		if _, err := os.Stat(w); err != nil {
			t.Errorf("no wrapper %s for sources.txt", w)
		}
	}
}
