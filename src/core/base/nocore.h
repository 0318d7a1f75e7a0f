/*
 * nocore.h - no core dump of a process that holds secrets (passwords,
 * SASL keys, DKIM keys): RLIMIT_CORE 0 and not dumpable (which also keeps
 * other processes of the same user from reading its memory through ptrace
 * or /proc). The kernel makes a process dumpable again when it changes
 * its user: call it again after dropping privileges.
 */
#ifndef CLSMTP_NOCORE_H
#define CLSMTP_NOCORE_H

/* 0, or -1 (errno) when the limit could not be set. */
int no_core_dumps(void);

#endif
