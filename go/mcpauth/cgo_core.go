//go:build cgo && !libmcpauth

package mcpauth

// The default build compiles the C core from source: the core_*.c wrappers in this folder
// #include the files of libmcpauth/src (generated from libmcpauth/sources.txt by gen.go).
// A consumer needs a C compiler, pkg-config and the Debian -dev packages of the core's
// dependencies: libjansson-dev libcurl4-openssl-dev libssl-dev libjwt-dev.

/*
#cgo CFLAGS: -I${SRCDIR}/../../libmcpauth/include -I${SRCDIR}/../../libmcpauth/src
#cgo CFLAGS: -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -fvisibility=hidden
#cgo pkg-config: jansson libcurl libcrypto libjwt
#cgo LDFLAGS: -lpthread
*/
import "C"

const linkedCore = "compiled from source"
