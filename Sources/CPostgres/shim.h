#ifndef FAULTLINE_CPOSTGRES_SHIM_H
#define FAULTLINE_CPOSTGRES_SHIM_H
#include <postgresql/libpq-fe.h>
#include <dlfcn.h>
#include <stddef.h>

/* libpq is loaded on first use (dlopen), not at start: only the postgres workload needs it,
   and its dependency chain costs every process milliseconds to load. Every function faultline
   uses is reached through one of these wrappers. */

/* RTLD_LAZY: functions of the dependencies that are not linked "now" are bound on their
   first call, so loading skips resolving the thousands nobody calls.
   RTLD_DEEPBIND: the library's own dependencies are searched first for the symbols they need,
   before the executable and the libraries it links (libnl, libm, libgcc_s, libc).
   Safe here: the executable has no copy relocations and defines none of their symbols.
   The library handle, or NULL when it cannot be loaded (fl_pq_error says why). */
static inline void *fl_pq_lib(void) {
    static void *handle = NULL;
    if (!handle) handle = dlopen("libpq.so.5", RTLD_LAZY | RTLD_LOCAL | RTLD_DEEPBIND);
    return handle;
}
static inline const char *fl_pq_error(void) { const char *e = dlerror(); return e ? e : "unknown error"; }

#define FL_PQ_SYM(name) \
    static __typeof__(&name) f = NULL; \
    if (!f) f = (__typeof__(&name))dlsym(fl_pq_lib(), #name)

static inline PGconn *fl_PQconnectdb(const char *info) { FL_PQ_SYM(PQconnectdb); return f(info); }
static inline PGconn *fl_PQconnectStart(const char *info) { FL_PQ_SYM(PQconnectStart); return f(info); }
static inline PostgresPollingStatusType fl_PQconnectPoll(PGconn *c) { FL_PQ_SYM(PQconnectPoll); return f(c); }
static inline void fl_PQfinish(PGconn *c) { FL_PQ_SYM(PQfinish); f(c); }
static inline ConnStatusType fl_PQstatus(const PGconn *c) { FL_PQ_SYM(PQstatus); return f(c); }
static inline char *fl_PQerrorMessage(const PGconn *c) { FL_PQ_SYM(PQerrorMessage); return f(c); }
static inline char *fl_PQhost(const PGconn *c) { FL_PQ_SYM(PQhost); return f(c); }
static inline char *fl_PQport(const PGconn *c) { FL_PQ_SYM(PQport); return f(c); }
static inline int fl_PQsocket(const PGconn *c) { FL_PQ_SYM(PQsocket); return f(c); }
static inline int fl_PQsendQueryParams(PGconn *c, const char *q, int n, const Oid *types, const char *const *values,
                                       const int *lengths, const int *formats, int resultFormat) {
    FL_PQ_SYM(PQsendQueryParams);
    return f(c, q, n, types, values, lengths, formats, resultFormat);
}
static inline int fl_PQisBusy(PGconn *c) { FL_PQ_SYM(PQisBusy); return f(c); }
static inline int fl_PQconsumeInput(PGconn *c) { FL_PQ_SYM(PQconsumeInput); return f(c); }
static inline PGresult *fl_PQgetResult(PGconn *c) { FL_PQ_SYM(PQgetResult); return f(c); }
static inline void fl_PQclear(PGresult *r) { FL_PQ_SYM(PQclear); f(r); }
static inline ExecStatusType fl_PQresultStatus(const PGresult *r) { FL_PQ_SYM(PQresultStatus); return f(r); }
static inline int fl_PQntuples(const PGresult *r) { FL_PQ_SYM(PQntuples); return f(r); }
static inline char *fl_PQgetvalue(const PGresult *r, int row, int col) { FL_PQ_SYM(PQgetvalue); return f(r, row, col); }
static inline char *fl_PQresultErrorMessage(const PGresult *r) { FL_PQ_SYM(PQresultErrorMessage); return f(r); }
static inline char *fl_PQresultErrorField(const PGresult *r, int code) { FL_PQ_SYM(PQresultErrorField); return f(r, code); }
#endif
