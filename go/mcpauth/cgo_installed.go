//go:build cgo && libmcpauth

package mcpauth

// With -tags libmcpauth the package links the installed libmcpauth.so.1 (found through
// pkg-config libmcpauth, e.g. PKG_CONFIG_PATH=<prefix>/lib/pkgconfig) instead of compiling the
// core's sources. Use it when the program also loads libmcpauth for another reason: two copies
// of the core in one process would interpose each other's symbols.

/*
#cgo pkg-config: libmcpauth
*/
import "C"

const linkedCore = "libmcpauth.so (pkg-config libmcpauth)"
