/*
 * main.c - clsmtpc's entry point: parse the command line, run the job it
 * names, and turn the error class into a sysexits code. The only place
 * that exits.
 */
#include <signal.h>
#include <stdio.h>

#include "exitcode.h"
#include "options.h"
#include "send.h"
#include "version.h"

int main(int argc, char **argv)
{
	struct client_opts o;
	struct cl_err err;
	int r;

	err_clear(&err);
	/* A server that closes early must give an error, not kill us
	 * (OpenSSL writes with write(2), not send(MSG_NOSIGNAL)). */
	signal(SIGPIPE, SIG_IGN);
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
	r = send_run(&o, &err);
	options_free(&o);
	if (r < 0) {
		fprintf(stderr, "clsmtpc: %s\n", err.msg);
		return exitcode_for(err.cls);
	}
	return 0;
}
