#ifndef FAULTLINE_CNETLINK_SHIM_H
#define FAULTLINE_CNETLINK_SHIM_H
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#endif
