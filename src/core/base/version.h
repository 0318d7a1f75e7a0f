/* version.h - the version of clsmtpc and clsmtpd, shown by --version, in the
 * transcript prefix and in X-Mailer. */
#ifndef CLSMTP_VERSION_H
#define CLSMTP_VERSION_H
#define CLSMTP_VERSION "0.2.0"
#endif
