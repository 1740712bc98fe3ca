#ifndef FAULTLINE_CCURL_SHIM_H
#define FAULTLINE_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>

/* libcurl is loaded on first use (dlopen), not at start: its dependency chain (OpenSSL,
   Kerberos, LDAP, …) costs every process about 4 ms to load, and most faultline processes
   (agents, validate, plan, lab) never make an HTTP request. Every function faultline uses is
   reached through one of these wrappers; the address is looked up once per call site file. */

/* RTLD_LAZY: functions of the dependencies that are not linked "now" are bound on their
   first call, so loading skips resolving the thousands nobody calls (0.7 ms less for libcurl).
   RTLD_DEEPBIND: the library's own dependencies are searched first for the symbols they need,
   before the executable and the libraries it links (libnl, libm, libgcc_s, libc) (0.6 ms less for libcurl).
   Safe here: the executable has no copy relocations and defines none of their symbols.
   The library handle, or NULL when it cannot be loaded (fl_curl_error says why). */
static inline void *fl_curl_lib(void) {
    static void *handle = NULL;
    if (!handle) handle = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL | RTLD_DEEPBIND);
    return handle;
}
static inline const char *fl_curl_error(void) { const char *e = dlerror(); return e ? e : "unknown error"; }

#define FL_CURL_SYM(name) \
    static __typeof__(&name) f = NULL; \
    if (!f) f = (__typeof__(&name))dlsym(fl_curl_lib(), #name)

static inline CURLcode fl_curl_global_init(long flags) { FL_CURL_SYM(curl_global_init); return f(flags); }
static inline CURL *fl_curl_easy_init(void) { FL_CURL_SYM(curl_easy_init); return f(); }
static inline void fl_curl_easy_cleanup(CURL *h) { FL_CURL_SYM(curl_easy_cleanup); f(h); }
static inline CURLcode fl_curl_easy_perform(CURL *h) { FL_CURL_SYM(curl_easy_perform); return f(h); }
static inline const char *fl_curl_easy_strerror(CURLcode c) { FL_CURL_SYM(curl_easy_strerror); return f(c); }
static inline struct curl_slist *fl_curl_slist_append(struct curl_slist *l, const char *s) {
    FL_CURL_SYM(curl_slist_append);
    return f(l, s);
}
static inline void fl_curl_slist_free_all(struct curl_slist *l) { FL_CURL_SYM(curl_slist_free_all); f(l); }

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call:
   these typed wrappers forward one argument of a known type. */
static inline CURLcode fl_curl_setopt_long(CURL *h, CURLoption o, long v) { FL_CURL_SYM(curl_easy_setopt); return f(h, o, v); }
static inline CURLcode fl_curl_setopt_string(CURL *h, CURLoption o, const char *v) { FL_CURL_SYM(curl_easy_setopt); return f(h, o, v); }
static inline CURLcode fl_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { FL_CURL_SYM(curl_easy_setopt); return f(h, o, v); }
typedef size_t (*fl_curl_write_fn)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode fl_curl_setopt_writefn(CURL *h, fl_curl_write_fn fn) {
    FL_CURL_SYM(curl_easy_setopt);
    return f(h, CURLOPT_WRITEFUNCTION, fn);
}
static inline CURLcode fl_curl_setopt_headerfn(CURL *h, fl_curl_write_fn fn) {
    FL_CURL_SYM(curl_easy_setopt);
    return f(h, CURLOPT_HEADERFUNCTION, fn);
}
static inline CURLcode fl_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { FL_CURL_SYM(curl_easy_getinfo); return f(h, i, v); }
#endif
