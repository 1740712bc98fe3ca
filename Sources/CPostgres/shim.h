#ifndef FAULTLINE_CPOSTGRES_SHIM_H
#define FAULTLINE_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
