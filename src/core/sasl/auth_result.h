/*
 * auth_result.h - the outcome of one server-side AUTH step, shared by the
 * SASL server (sasl_server.h) and the server protocol machine that asks
 * for it (smtp_server.h), so that neither includes the other.
 */
#ifndef CLSMTP_AUTH_RESULT_H
#define CLSMTP_AUTH_RESULT_H

enum smtp_auth_result { SMTP_AUTH_CONTINUE, SMTP_AUTH_OK, SMTP_AUTH_FAIL, SMTP_AUTH_TEMPFAIL };

#endif
