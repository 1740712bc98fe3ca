#ifndef FAULTLINE_CLINUX_SHIM_H
#define FAULTLINE_CLINUX_SHIM_H
// Linux calls Glibc's Swift module does not bring: timerfd, memmem. Wrapped under names of our own, so
// nothing here shadows what Glibc already exports to Swift.
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/// glibc's memmem (a GNU extension, declared here since Glibc's module is built without
/// _GNU_SOURCE): linear in the text, two-way for long needles.
void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
static inline const void *faultline_memmem(const void *text, size_t n, const void *needle, size_t m) {
    return memmem(text, n, needle, m);
}

/// A non-blocking, close-on-exec timerfd on CLOCK_MONOTONIC (timerfd_create).
static inline int faultline_timerfd(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

/// Arms `fd` to fire once at the absolute monotonic instant `ns` (timerfd_settime, TFD_TIMER_ABSTIME).
static inline int faultline_timerfd_at(int fd, long long ns) {
    struct itimerspec spec = {{0, 0}, {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)}};
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, 0);
}

/// Moves the calling thread into the namespace `fd` refers to (setns(2), by syscall number).
static inline int faultline_setns(int fd, int nstype) { return (int)syscall(SYS_setns, fd, nstype); }

/// A close-on-exec pidfd for `pid` (pidfd_open(2), Linux 5.3, by syscall number): readable once
/// the process has exited.
static inline int faultline_pidfd_open(int pid) { return (int)syscall(434 /* SYS_pidfd_open */, pid, 0); }

/// A close-on-exec epoll instance.
static inline int faultline_epoll(void) { return epoll_create1(EPOLL_CLOEXEC); }

/// epoll_ctl with the event's fields passed apart (struct epoll_event is packed on x86-64, which
/// Swift does not lay out as C does).
static inline int faultline_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event e;
    e.events = events;
    e.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &e);
}

/// epoll_wait into two arrays: each ready descriptor's data and its events.
static inline int faultline_epoll_wait(int epfd, uint64_t *data, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event ready[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, ready, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        data[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return n;
}

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC, by syscall number (its prototype needs _GNU_SOURCE,
/// which would make these headers disagree with Glibc's module; <sys/socket.h> here would take
/// the socket constants from Glibc's module for the whole target).
static inline int faultline_accept(int fd) { return (int)syscall(SYS_accept4, fd, 0, 0, 04000 | 02000000); /* SOCK_NONBLOCK | SOCK_CLOEXEC */ }

/// A non-blocking, close-on-exec eventfd (to wake an epoll loop from another thread).
static inline int faultline_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// glibc ≥ 2.34 declares this only under _GNU_SOURCE, which Glibc's Swift module is not built with.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *, int);

/// A spawn action closing every descriptor from `from` up, after the ones wired before it: a
/// child gets its stdio (and what was named for it), never a descriptor a concurrent thread
/// opened without close-on-exec.
static inline int faultline_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

/// glibc declares this only under _GNU_SOURCE as well.
extern int pthread_setname_np(pthread_t, const char *);

/// Names the calling thread (15 bytes kept) for `ps -L`, `top -H` and debuggers.
static inline void faultline_name_thread(const char *name) { (void)pthread_setname_np(pthread_self(), name); }
#endif
