module github.com/libmcpauth/libmcpauth

go 1.25.0
