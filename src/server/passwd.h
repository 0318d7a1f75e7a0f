/*
 * passwd.h - clsmtpd-passwd: add, change, remove and list the accounts of
 * the users file (users.h). Reached as "clsmtpd passwd ..." or through a
 * link named clsmtpd-passwd.
 */
#ifndef CLSMTPD_PASSWD_H
#define CLSMTPD_PASSWD_H

int passwd_main(int argc, char **argv);

#endif
