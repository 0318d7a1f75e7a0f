/* exitcode.h - the one place where error classes become sysexits codes. */
#ifndef CLSMTPC_EXITCODE_H
#define CLSMTPC_EXITCODE_H

#include "base/err.h"

int exitcode_for(enum cl_errclass cls);

#endif
