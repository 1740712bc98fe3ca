#ifndef FAULTLINE_CLINUX_SHIM_H
#define FAULTLINE_CLINUX_SHIM_H
// Linux calls Glibc's Swift module does not bring: timerfd. Wrapped under names of our own, so
// nothing here shadows what Glibc already exports to Swift.
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

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
#endif
