/*
 * exitcode.c - map error classes to sysexits(3) codes, as sendmail and
 * msmtp do, but with the temporary/permanent line drawn cleanly: every 4xx,
 * timeout and refused connection is 75 so that a wrapper knows to retry.
 */
#include "exitcode.h"

#include <sysexits.h>

int exitcode_for(enum cl_errclass cls)
{
	switch (cls) {
	case CL_OK:
		return EX_OK;
	case CL_EUSAGE:
		return EX_USAGE;
	case CL_EDATA:
		return EX_DATAERR;
	case CL_ENOHOST:
		return EX_NOHOST;
	case CL_EUNAVAIL:
	case CL_ETLS:
		return EX_UNAVAILABLE;
	case CL_EIO:
		return EX_IOERR;
	case CL_ETEMP:
		return EX_TEMPFAIL;
	case CL_EPROTO:
		return EX_PROTOCOL;
	case CL_EAUTH:
		return EX_NOPERM;
	case CL_ECONFIG:
		return EX_CONFIG;
	case CL_ESOFTWARE:
		break;
	}
	return EX_SOFTWARE;
}
