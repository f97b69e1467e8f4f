/* cmd_serve.c - `mcpauth serve`: an authenticating reverse proxy in front of an MCP server.
 *
 *   mcpauth serve --config FILE --upstream URL [options]      (see usage() for the options)
 *
 * Every request goes through the library's router. "respond" decisions (metadata,
 * challenges, the OAuth proxy's routes) are answered here; "pass" decisions are forwarded to
 * the upstream: method, raw path and query, headers minus hop-by-hop and reserved ones, and
 * the (bounded) body. The upstream response is streamed back as it arrives (Server-Sent
 * Events work). For requests that passed authentication the upstream receives
 *   X-MCPAuth-User: the userId (bytes outside printable ASCII and '%' percent-encoded)
 *   X-MCPAuth-Auth: base64url (no padding) of the auth result JSON, without the access
 *                   token unless --forward-authorization
 * and the client's Authorization header is dropped (--forward-authorization keeps it).
 * Client headers named X-MCPAuth-* in any spelling (case, '_' for '-') never reach it.
 *
 * The server is event driven (serve.h says how): slow clients, stuck upstreams and slow
 * identity providers hold no thread, every wait is bounded, and upstream connections are
 * kept alive and reused.
 *
 * When ready it prints one JSON line on stdout: {"listening":"http://HOST:PORT"} (useful with
 * port 0). SIGINT / SIGTERM stop it cleanly.
 *
 * Uses only the public libmcpauth API, libmicrohttpd, libcurl and jansson.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcpauth.h>

#ifndef MCPAUTH_HAVE_MHD

int mcpauth_cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mcpauth serve: this build has no libmicrohttpd support\n");
    return 2;
}

#else

#include "serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

serve_opts G;
atomic_int g_stopping;

static void usage(void) {
    fprintf(stderr,
            "usage: mcpauth serve --config FILE --upstream URL [options]\n"
            "  --listen HOST:PORT            address to listen on (127.0.0.1:8080; port 0: any)\n"
            "  --max-body BYTES              largest request body (4194304)\n"
            "  --upstream-timeout SECS       wait for the upstream's response headers, then 504 "
            "(30)\n"
            "  --connect-timeout SECS        connecting to the upstream, then 502 (5)\n"
            "  --header-timeout SECS         a client's request line and headers, then the "
            "connection is closed (10)\n"
            "  --body-timeout SECS           a client's request body, from the end of its headers, "
            "then "
            "the connection is closed (60)\n"
            "  --idle-timeout SECS           a client connection without traffic is closed (60)\n"
            "  --max-connections N           client connections in all (1024)\n"
            "  --max-connections-per-ip N    client connections from one address (32)\n"
            "  --threads N                   event threads (the number of CPUs)\n"
            "  --workers N                   threads for router calls that need the network (4)\n"
            "  --upstream-connections N      idle keep-alive connections kept to the upstream "
            "(64)\n"
            "  --forward-authorization       hand the client's Authorization header and the "
            "access token on\n"
            "  --verbose, -v                 one line per request on stderr (never tokens or "
            "query strings)\n");
}

static int parse_listen(const char *s, struct sockaddr_in *addr) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return -1;
    char host[64];
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host) return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    unsigned long long port;
    if (serve_parse_number(colon + 1, 0, 65535, &port) != 0) return -1;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

typedef struct num_flag {
    const char *name;
    unsigned long long min, max;
    size_t *size_out;
    unsigned *uint_out;
} num_flag;

static int num_flag_set(const num_flag *f, const char *value) {
    unsigned long long v;
    if (serve_parse_number(value, f->min, f->max, &v) != 0) {
        fprintf(stderr,
                "mcpauth serve: %s must be a whole number from %llu to %llu (digits only), "
                "not '%s'\n",
                f->name, f->min, f->max, value);
        return -1;
    }
    if (f->size_out) *f->size_out = (size_t)v;
    if (f->uint_out) *f->uint_out = (unsigned)v;
    return 0;
}

int mcpauth_cmd_serve(int argc, char **argv) {
    const char *config = NULL, *upstream = NULL, *listen = "127.0.0.1:8080";
    memset(&G, 0, sizeof G);
    G.max_body = (size_t)4 << 20;
    G.upstream_timeout_s = 30;
    G.connect_timeout_s = 5;
    G.header_timeout_s = 10;
    G.body_timeout_s = 60;
    G.idle_timeout_s = 60;
    G.max_connections = 1024;
    G.max_per_ip = 32;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    G.threads = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (unsigned)ncpu;
    G.workers = 4;
    G.upstream_conns = 64;
    const num_flag nums[] = {
        {"--max-body", 1, (unsigned long long)1 << 30, &G.max_body, NULL},
        {"--upstream-timeout", 1, 86400, NULL, &G.upstream_timeout_s},
        {"--connect-timeout", 1, 600, NULL, &G.connect_timeout_s},
        {"--header-timeout", 1, 3600, NULL, &G.header_timeout_s},
        {"--body-timeout", 1, 86400, NULL, &G.body_timeout_s},
        {"--idle-timeout", 1, 86400, NULL, &G.idle_timeout_s},
        {"--max-connections", 1, 65536, NULL, &G.max_connections},
        {"--max-connections-per-ip", 1, 65536, NULL, &G.max_per_ip},
        {"--threads", 1, 64, NULL, &G.threads},
        {"--workers", 1, 64, NULL, &G.workers},
        {"--upstream-connections", 1, 4096, NULL, &G.upstream_conns},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const num_flag *nf = NULL;
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            if (strcmp(a, nums[k].name) == 0) nf = &nums[k];
        if (nf && i + 1 < argc) {
            if (num_flag_set(nf, argv[++i]) != 0) return 2;
        } else if (strcmp(a, "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(a, "--upstream") == 0 && i + 1 < argc)
            upstream = argv[++i];
        else if (strcmp(a, "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(a, "--forward-authorization") == 0)
            G.forward_authorization = 1;
        else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            G.verbose = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "mcpauth serve: unknown or incomplete option '%s'\n", a);
            usage();
            return 2;
        }
    }
    if (!config || !upstream) {
        usage();
        return 2;
    }
    if (strncmp(upstream, "http://", 7) != 0 && strncmp(upstream, "https://", 8) != 0) {
        fprintf(stderr, "mcpauth serve: --upstream must be an http(s) URL\n");
        return 2;
    }
    if (G.connect_timeout_s > G.upstream_timeout_s) G.connect_timeout_s = G.upstream_timeout_s;
    struct sockaddr_in addr;
    if (parse_listen(listen, &addr) != 0) {
        fprintf(stderr, "mcpauth serve: --listen must be IPv4HOST:PORT\n");
        return 2;
    }
    size_t clen = 0;
    char *cjson = mcpauth_cli_read_file(config, &clen);
    if (!cjson) return 1;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cjson, clen, 0, &G.engine, &detail);
    free(cjson);
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth serve: %s: %s\n", mcpauth_code_name(rc),
                detail ? detail : mcpauth_strerror(rc));
        mcpauth_free(detail);
        return 1;
    }
    G.upstream = strdup(upstream);
    if (!G.upstream) return 1;
    size_t ul = strlen(G.upstream);
    while (ul > 0 && G.upstream[ul - 1] == '/') G.upstream[--ul] = '\0';

    /* Signals are handled by sigwait() here; every thread started from now on blocks them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    int status = 1;
    int lfd = serve_http_listen((const struct sockaddr *)&addr, sizeof addr);
    if (lfd < 0) {
        fprintf(stderr, "mcpauth serve: cannot listen on %s\n", listen);
        goto out;
    }
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (getsockname(lfd, (struct sockaddr *)&bound, &blen) != 0) bound.sin_port = 0;
    if (serve_pool_start(G.workers) != 0) {
        close(lfd);
        fprintf(stderr, "mcpauth serve: cannot start threads\n");
        goto out;
    }
    if (serve_loops_start(lfd) != 0) {
        fprintf(stderr, "mcpauth serve: cannot start threads\n");
        goto out;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);
    printf("{\"listening\":\"http://%s:%u\"}\n", ip, (unsigned)ntohs(bound.sin_port));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    if (G.verbose) fprintf(stderr, "mcpauth serve: signal %d, stopping\n", sig);
    status = 0;
out:
    atomic_store(&g_stopping, 1);
    /* order: the pool resumes every connection it holds (answered by the loops), then the
     * loops end their transfers and close every connection */
    serve_pool_stop();
    serve_loops_stop();
    mcpauth_engine_free(G.engine);
    free(G.upstream);
    curl_global_cleanup();
    return status;
}

#endif /* MCPAUTH_HAVE_MHD */
