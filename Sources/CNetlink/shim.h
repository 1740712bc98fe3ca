#ifndef FAULTLINE_CNETLINK_SHIM_H
#define FAULTLINE_CNETLINK_SHIM_H
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/action.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/act/mirred.h>
#endif
