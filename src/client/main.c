/*
 * main.c - clsmtpc's entry point: parse the command line, run the job it
 * names, and turn the error class into a sysexits code. The only place
 * that exits.
 */
#include <signal.h>
#include <stdio.h>

#include "accounts.h"
#include "doctor.h"
#include "exitcode.h"
#include "msmtprc.h"
#include "options.h"
#include "queue_cli.h"
#include "send.h"
#include "sendmail.h"
#include "base/nocore.h"
#include "base/version.h"

int main(int argc, char **argv)
{
	struct client_opts o;
	struct cl_err err;
	struct config cfg = {0};
	const struct config_account *acct;
	int r;

	err_clear(&err);
	/* The password and SASL keys: never in a core file. */
	no_core_dumps();
	/* A server that closes early must give an error, not kill us
	 * (OpenSSL writes with write(2), not send(MSG_NOSIGNAL)). */
	signal(SIGPIPE, SIG_IGN);
	/* Run as "sendmail" (a symlink) or with --sendmail first. */
	if (sendmail_wanted(argc, argv)) {
		if (sendmail_run(argc, argv, &err) < 0) {
			fprintf(stderr, "sendmail (clsmtpc): %s\n", err.msg);
			return exitcode_for(err.cls);
		}
		return 0;
	}
	if (options_parse(argc, argv, &o, &err) < 0) {
		fprintf(stderr, "clsmtpc: %s\n", err.msg);
		options_free(&o);
		return exitcode_for(err.cls);
	}
	if (o.show_help) {
		options_usage(stdout);
		options_free(&o);
		return 0;
	}
	if (o.show_version) {
		printf("clsmtpc %s\n", CLSMTP_VERSION);
		options_free(&o);
		return 0;
	}
	if (o.doctor)
		r = doctor_run(&o, &err);
	else if (queue_cli_wanted(&o))
		r = queue_cli_run(&o, &err);
	else if (o.import_msmtprc)
		r = msmtprc_import(o.import_file ? o.import_file : o.body_arg, stdout, &err);
	else if ((r = accounts_resolve(&o, NULL, &cfg, &acct, &err)) == 0)
		r = send_run(&o, &err);
	options_free(&o);
	config_free(&cfg);
	if (r < 0) {
		fprintf(stderr, "clsmtpc: %s\n", err.msg);
		return exitcode_for(err.cls);
	}
	return 0;
}
