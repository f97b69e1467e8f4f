package mcpauth_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/libmcpauth/libmcpauth/go/mcpauth"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// coreHashOf must match coreHash in gen.go.
func coreHashOf(core string) (string, error) {
	files := []string{"sources.txt"}
	for _, sub := range []string{"src", "include"} {
		err := filepath.WalkDir(filepath.Join(core, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".c") || strings.HasSuffix(p, ".h")) {
				rel, _ := filepath.Rel(core, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(core, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cgo rebuilds the package only when a file of this folder changes, not when the core's
// sources in ../../libmcpauth do. zcore_hash.go carries the hash of the sources it was
// generated from; this fails when the core changed without `go generate ./go/mcpauth`, which
// would otherwise test a stale core.
func TestCoreIsCurrent(t *testing.T) {
	if mcpauth.LinkedCore() != "compiled from source" {
		t.Skip("linked against the installed libmcpauth")
	}
	sum, err := coreHashOf(filepath.Join("..", "..", "libmcpauth"))
	if err != nil {
		t.Fatal(err)
	}
	if sum != mcpauth.CoreSourceHash() {
		t.Fatalf("the compiled-in core (%s) is not the current source (%s): run `go generate ./go/mcpauth`",
			mcpauth.CoreSourceHash()[:12], sum[:12])
	}
}

// One wrapper per line of libmcpauth/sources.txt, each including exactly that file, and no
// other wrapper.
func TestWrappersMatchSourcesTxt(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "libmcpauth", "sources.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := "core_" + strings.ReplaceAll(strings.TrimSuffix(line, ".c"), "/", "_") + ".c"
		want[name] = "#include \"../../libmcpauth/src/" + line + "\""
	}
	have, _ := filepath.Glob("core_*.c")
	if len(have) != len(want) {
		t.Errorf("%d wrappers for %d sources", len(have), len(want))
	}
	for _, h := range have {
		inc, ok := want[h]
		if !ok {
			t.Errorf("%s is not in sources.txt", h)
			continue
		}
		b, _ := os.ReadFile(h)
		var incs []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "#include") {
				incs = append(incs, l)
			}
		}
		if len(incs) != 1 || incs[0] != inc || !strings.Contains(string(b), "//go:build !libmcpauth\n") {
			t.Errorf("%s: includes %q, want %q (and the !libmcpauth constraint)", h, incs, inc)
		}
	}
	for w := range want {
		if _, err := os.Stat(w); err != nil {
			t.Errorf("no wrapper %s for sources.txt", w)
		}
	}
}
