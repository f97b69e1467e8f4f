/* serve_pool.c - the bounded worker pool of `mcpauth serve`.
 *
 * The event threads call the router without network I/O (MCPAUTH_ROUTE_NONBLOCK); when it
 * needs some (a JWKS or metadata fetch, an IdP call of the OAuth proxy) the request is
 * suspended and queued here. --workers threads make those calls, store the decision and
 * resume the connection. The queue is bounded by the number of client connections.
 */
#ifndef MCPAUTH_HAVE_MHD
typedef int mcpauth_serve_pool_unused; /* no translation unit is empty */
#else

#include "serve.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 64

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    route_job *head, *tail;
    int stop;
    pthread_t threads[MAX_WORKERS];
    unsigned n;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void run(route_job *j, int stopping) {
    j->decision = NULL;
    j->rc = stopping
                ? MCPAUTH_E_WOULD_BLOCK
                : mcpauth_handle_request(G.engine, j->request, strlen(j->request), 0, &j->decision);
    /* once resumed, the loop may finish the request and free j at any moment */
    struct MHD_Connection *conn = j->conn;
    serve_loop *loop = j->loop;
    atomic_store(&j->state, 2);
    MHD_resume_connection(conn);
    serve_loop_wake(loop);
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&P.mu);
        while (!P.head && !P.stop) pthread_cond_wait(&P.cv, &P.mu);
        route_job *j = P.head;
        if (j) {
            P.head = j->next;
            if (!P.head) P.tail = NULL;
        }
        int stop = P.stop;
        pthread_mutex_unlock(&P.mu);
        if (!j) return NULL; /* stopping and nothing left */
        run(j, stop);
    }
}

int serve_pool_start(unsigned workers) {
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    for (P.n = 0; P.n < workers; P.n++)
        if (pthread_create(&P.threads[P.n], NULL, worker, NULL) != 0) return -1;
    return 0;
}

int serve_pool_submit(route_job *j) {
    atomic_store(&j->state, 1);
    j->next = NULL;
    pthread_mutex_lock(&P.mu);
    if (P.stop) {
        pthread_mutex_unlock(&P.mu);
        atomic_store(&j->state, 0);
        return -1;
    }
    /* suspended before any worker can see the job (and resume the connection) */
    MHD_suspend_connection(j->conn);
    if (P.tail)
        P.tail->next = j;
    else
        P.head = j;
    P.tail = j;
    pthread_cond_signal(&P.cv);
    pthread_mutex_unlock(&P.mu);
    return 0;
}

/* Every queued job is answered (as failed) and every worker joined. */
void serve_pool_stop(void) {
    pthread_mutex_lock(&P.mu);
    P.stop = 1;
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);
    for (unsigned i = 0; i < P.n; i++) pthread_join(P.threads[i], NULL);
    P.n = 0;
}

#endif /* MCPAUTH_HAVE_MHD */
