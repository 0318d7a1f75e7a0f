/*
 * subst.h - msmtp's substitution patterns in "from", "domain" and
 * "maildomain": %U (the user's login name), %H (this host's name), %C (its
 * canonical name), %M (/etc/mailname); any other '%' stays, as in msmtp. The expansion is
 * pure over a table of values (unit-tested); subst_values fills the table.
 */
#ifndef CLSMTPC_SUBST_H
#define CLSMTPC_SUBST_H

#include "base/buf.h"
#include "base/err.h"

struct subst_values {
	const char *user;     /* %U: $USER, $LOGNAME, or the passwd entry */
	const char *host;     /* %H: $HOSTNAME, or gethostname */
	const char *canon;    /* %C: the canonical name of %H */
	const char *mailname; /* %M: first line of /etc/mailname */
};

/* 1 if s holds a pattern ("%U", "%H", "%C", "%M"). */
int subst_has_pattern(const char *s);

/* Expand in into out. A value a pattern needs and that is NULL or empty,
 * is CL_ECONFIG naming it; what names the key. */
int subst_expand(const char *in, const struct subst_values *v, const char *what, struct buf *out,
                 struct cl_err *err);

/* The values of this process and machine. Strings live in the caller's
 * buffers (each at most 256 bytes); mailname_path NULL: /etc/mailname. */
void subst_values(struct subst_values *v, struct buf *user, struct buf *host, struct buf *canon,
                  struct buf *mailname, const char *mailname_path);

/* subst_expand with subst_values, computed once per process. */
int subst_expand_here(const char *in, const char *what, struct buf *out, struct cl_err *err);

#endif
