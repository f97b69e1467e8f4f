/* cidr.h - IP addresses and CIDR ranges (trustedProxies). */
#ifndef MCP_CIDR_H
#define MCP_CIDR_H

#include <stddef.h>

typedef struct mcp_cidr {
    int family;             /* 4 or 6 */
    unsigned char addr[16]; /* network address (4 bytes used for IPv4) */
    unsigned bits;          /* prefix length */
} mcp_cidr;

/* Parses "192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "::1". The address must be the
 * network's (no host bits set past the prefix). 0 ok, -1 invalid. */
int mcp_cidr_parse(const char *s, mcp_cidr *out);

/* 1 when the textual address `ip` (IPv4, IPv6, or IPv4-mapped IPv6) lies in c. */
int mcp_cidr_contains(const mcp_cidr *c, const char *ip);

#endif
