/*
 * dkim_cli.h - clsmtpd's DKIM commands for the administrator:
 *   clsmtpd -dkim-keygen DOMAIN SELECTOR [-a rsa|ed25519] [-b BITS] [-d DIR]
 *   clsmtpd -dkim-records     (the TXT records of the configured keys)
 *   clsmtpd -dkim-sign        (a message on stdin, printed signed)
 * each with [-f config].
 */
#ifndef CLSMTPD_DKIM_CLI_H
#define CLSMTPD_DKIM_CLI_H

/* The exit status, or -1 when argv holds no DKIM command. */
int dkim_cli_main(int argc, char **argv);

#endif
