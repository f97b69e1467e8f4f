// Package packaging proves how the Go package is consumed: `go get` from a module proxy (a
// file:// GOPROXY holding a module zip made here from the working tree), `go mod vendor` with
// -mod=vendor, -tags libmcpauth against an installed core, and the CGO_ENABLED=0 message.
// The tests compile the C core several times (minutes): they run when MCPAUTH_GO_PACKAGING=1
// (go/scripts/test.sh sets it).
package packaging

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

const (
	modPath = "github.com/libmcpauth/libmcpauth"
	version = "v0.1.0"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

func needPackaging(t *testing.T) {
	if os.Getenv("MCPAUTH_GO_PACKAGING") != "1" {
		t.Skip("set MCPAUTH_GO_PACKAGING=1 (go/scripts/test.sh does)")
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.String(), err
}

// zipFile is one file of the working tree for zip.Create.
type zipFile struct{ root, rel string }

func (f zipFile) Path() string { return f.rel }
func (f zipFile) Lstat() (fs.FileInfo, error) {
	return os.Lstat(filepath.Join(f.root, filepath.FromSlash(f.rel)))
}
func (f zipFile) Open() (io.ReadCloser, error) {
	return os.Open(filepath.Join(f.root, filepath.FromSlash(f.rel)))
}

// makeProxy writes a module proxy folder holding the working tree (tracked and untracked,
// not ignored files) as modPath@version and returns its file:// URL.
func makeProxy(t *testing.T, root, dir string) string {
	t.Helper()
	out := run(t, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	var files []zip.File
	for _, rel := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		if rel == "" {
			continue
		}
		st, err := os.Lstat(filepath.Join(root, rel))
		if err != nil || !st.Mode().IsRegular() { // deleted in the working tree, or a symlink
			continue
		}
		files = append(files, zipFile{root, rel})
	}
	vdir := filepath.Join(dir, filepath.FromSlash(modPath), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := zip.Create(zf, module.Version{Path: modPath, Version: version}, files); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		version + ".mod":  gomod,
		version + ".info": []byte(`{"Version":"` + version + `","Time":"2026-01-01T00:00:00Z"}`),
		"list":            []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return "file://" + filepath.ToSlash(dir)
}

const consumerMain = `package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/libmcpauth/libmcpauth/go/mcpauth"
)

func main() {
	secret := "consumer-test-secret-0123456789abcdef"
	p, err := mcpauth.JWKSVerifier(mcpauth.JWKSOptions{Secret: secret, Issuer: "https://idp.example.test",
		Common: mcpauth.Common{Resource: "https://mcp.example.test/mcp", NoEnv: true}})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer p.Close()
	tok, err := mcpauth.Mint(mcpauth.MintRequest{Alg: "HS256", Key: secret, Claims: map[string]any{
		"iss": "https://idp.example.test", "aud": "https://mcp.example.test/mcp", "sub": "consumer-user",
		"exp": time.Now().Unix() + 600}})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	a, err := p.Verify(context.Background(), tok)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("verified:", a.User.UserID, "core", mcpauth.CoreVersion(), mcpauth.LinkedCore())
}
`

func hostModCache(t *testing.T) string {
	out := strings.TrimSpace(run(t, ".", nil, "go", "env", "GOMODCACHE"))
	return out
}

func newConsumer(t *testing.T, root string) (dir string, env []string) {
	t.Helper()
	tmp := t.TempDir()
	proxy := makeProxy(t, root, filepath.Join(tmp, "proxy"))
	modcache := filepath.Join(tmp, "modcache")
	// our module from the file proxy; the modules our go.mod names from the host's download
	// cache (a proxy layout too), else the host's proxy
	hostProxy := strings.TrimSpace(run(t, ".", nil, "go", "env", "GOPROXY"))
	env = []string{
		"GOPROXY=" + proxy + ",file://" + filepath.ToSlash(filepath.Join(hostModCache(t), "cache", "download")) + "," + hostProxy,
		"GOMODCACHE=" + modcache, "GOSUMDB=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off",
	}
	t.Cleanup(func() { runErr(tmp, env, "go", "clean", "-modcache") })
	dir = filepath.Join(tmp, "consumer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/consumer\n\ngo 1.25.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o644)
	return dir, env
}

// go get from a module proxy, then build and run in a fresh module: the core compiles from
// the read-only module cache with no install step.
func TestGoGetFromModuleProxyAndVendor(t *testing.T) {
	needPackaging(t)
	root := repoRoot(t)
	dir, env := newConsumer(t, root)
	run(t, dir, env, "go", "get", modPath+"/go/mcpauth@"+version)
	out := run(t, dir, env, "go", "run", ".")
	if !strings.Contains(out, "verified: consumer-user") || !strings.Contains(out, "compiled from source") {
		t.Fatalf("consumer output: %s", out)
	}
	// the source it compiled is the module cache's, which is read-only
	modDir := strings.TrimSpace(run(t, dir, env, "go", "list", "-m", "-f", "{{.Dir}}", modPath))
	st, err := os.Stat(filepath.Join(modDir, "libmcpauth", "src", "util"))
	if err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Fatalf("module cache folder %s: %v %v", modDir, err, st.Mode())
	}
	t.Logf("go get + go run: %s", strings.TrimSpace(out))

	// go mod vendor: the C folders come along (keep.go), and -mod=vendor builds and runs
	run(t, dir, env, "go", "mod", "vendor")
	for _, f := range []string{"libmcpauth/include/mcpauth.h", "libmcpauth/src/util/common.c",
		"libmcpauth/src/engine/engine.c", "go/mcpauth/core_util_common.c"} {
		if _, err := os.Stat(filepath.Join(dir, "vendor", filepath.FromSlash(modPath), filepath.FromSlash(f))); err != nil {
			t.Fatalf("vendor lacks %s", f)
		}
	}
	venv := append(env[:len(env):len(env)], "GOFLAGS=-mod=vendor", "GOPROXY=off")
	out = run(t, dir, venv, "go", "build", "-o", "consumer", ".")
	out = run(t, dir, nil, filepath.Join(dir, "consumer"))
	if !strings.Contains(out, "verified: consumer-user") {
		t.Fatalf("vendored consumer output: %s", out)
	}
	t.Logf("go mod vendor + -mod=vendor: %s", strings.TrimSpace(out))
}

// -tags libmcpauth links the installed libmcpauth.so.1 (cmake --install into a temporary
// prefix) and runs the package's own tests against it.
func TestTagLibmcpauthAgainstInstalledCore(t *testing.T) {
	needPackaging(t)
	root := repoRoot(t)
	tmp := t.TempDir()
	build := os.Getenv("MCPAUTH_CMAKE_BUILD_DIR")
	if build == "" {
		build = filepath.Join(tmp, "build")
		run(t, root, nil, "cmake", "-S", root, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
			"-DMCPAUTH_BUILD_TESTS=OFF", "-DMCPAUTH_BUILD_CLI=OFF", "-DMCPAUTH_BUILD_BENCH=OFF")
		run(t, root, nil, "cmake", "--build", build, "-j2", "--target", "mcpauth", "mcpauth_static")
	}
	prefix := filepath.Join(tmp, "prefix")
	run(t, root, nil, "cmake", "--install", build, "--prefix", prefix)
	libdir := filepath.Join(prefix, "lib")
	if _, err := os.Stat(filepath.Join(libdir, "pkgconfig", "libmcpauth.pc")); err != nil {
		matches, _ := filepath.Glob(filepath.Join(prefix, "lib*", "*", "pkgconfig", "libmcpauth.pc"))
		if len(matches) == 0 {
			t.Fatalf("no libmcpauth.pc under %s", prefix)
		}
		libdir = filepath.Dir(filepath.Dir(matches[0]))
	}
	env := []string{"PKG_CONFIG_PATH=" + filepath.Join(libdir, "pkgconfig"), "LD_LIBRARY_PATH=" + libdir}
	bin := filepath.Join(tmp, "mcpauth.test")
	run(t, root, env, "go", "test", "-tags", "libmcpauth", "-c", "-o", bin, "./go/mcpauth")
	ldd := run(t, root, env, "ldd", bin)
	if !strings.Contains(ldd, filepath.Join(libdir, "libmcpauth.so.1")) {
		t.Fatalf("the test binary does not load the installed core:\n%s", ldd)
	}
	nm, _ := runErr(root, nil, "go", "tool", "nm", bin)
	if strings.Contains(nm, " T mcpauth_verify") {
		t.Fatal("the core is compiled into the binary despite -tags libmcpauth")
	}
	out := run(t, filepath.Join(root, "go", "mcpauth"), env, bin, "-test.count=1")
	if !strings.Contains(out, "PASS") {
		t.Fatalf("tests against the installed core: %s", out)
	}
	for _, l := range strings.Split(ldd, "\n") {
		if strings.Contains(l, "libmcpauth") {
			t.Logf("-tags libmcpauth: the tests passed against %s", strings.TrimSpace(l))
		}
	}
}

// CGO_ENABLED=0 stops at compile time with a message that says what to do.
func TestNoCgoMessage(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip()
	}
	root := repoRoot(t)
	out, err := runErr(root, []string{"CGO_ENABLED=0"}, "go", "build", "./go/mcpauth")
	if err == nil {
		t.Fatal("CGO_ENABLED=0 built")
	}
	if !strings.Contains(out, "mcpauth_requires_cgo__set_CGO_ENABLED_1_and_install_a_C_compiler_and_pkg_config") {
		t.Fatalf("unhelpful message: %s", out)
	}
	t.Logf("CGO_ENABLED=0: %s", strings.TrimSpace(out))
}
