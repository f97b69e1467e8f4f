//go:build !cgo

package mcpauth

// This package is a cgo binding of the C library libmcpauth: it cannot be built with
// CGO_ENABLED=0. The identifier below does not exist, so the compiler stops here and its
// error message names the fix: build with CGO_ENABLED=1 and a C compiler (gcc or clang) on
// PATH, plus pkg-config and libjansson-dev libcurl4-openssl-dev libssl-dev libjwt-dev.
// (Go turns cgo off when cross-compiling and when CC is unset and no gcc/clang is found.)
var _ = mcpauth_requires_cgo__set_CGO_ENABLED_1_and_install_a_C_compiler_and_pkg_config
