/*
 * defence_conf.c - defaults and parsing of the defence directives of
 * clsmtpd.conf (defence_conf.h). Each value is range-checked here, so the
 * defence itself never sees a nonsensical limit.
 */
#include "defence_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void defence_conf_default(struct defence_conf *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->ban_auth = DEFENCE_DEFAULT_BAN_AUTH;
	dc->ban_relay = DEFENCE_DEFAULT_BAN_RELAY;
	dc->ban_errors = DEFENCE_DEFAULT_BAN_ERRORS;
	dc->ban_window = DEFENCE_DEFAULT_BAN_WINDOW;
	dc->ban_time = DEFENCE_DEFAULT_BAN_TIME;
	dc->ban_time_max = DEFENCE_DEFAULT_BAN_TIME_MAX;
	dc->ban_memory = DEFENCE_DEFAULT_BAN_MEMORY;
	dc->ipv4_prefix = DEFENCE_DEFAULT_IPV4_PREFIX;
	dc->ipv6_prefix = DEFENCE_DEFAULT_IPV6_PREFIX;
	/* The addresses local programs use: fail2ban's ignoreip default is
	 * 127.0.0.1/8 ::1; the rest of 127/8 stays judged, so a local
	 * container or test can still be told apart. */
	net_prefix_parse("127.0.0.1", &dc->exempt[0]);
	net_prefix_parse("::1", &dc->exempt[1]);
	dc->nexempt = 2;
	dc->auth_delay = DEFENCE_DEFAULT_AUTH_DELAY;
	dc->auth_delay_max = DEFENCE_DEFAULT_AUTH_DELAY_MAX;
	dc->user_failures = DEFENCE_DEFAULT_USER_FAILURES;
	dc->user_interval = DEFENCE_DEFAULT_USER_INTERVAL;
	dc->per_client = DEFENCE_DEFAULT_PER_CLIENT;
	dc->request_timeout = DEFENCE_DEFAULT_REQUEST_TIMEOUT;
	dc->min_data_rate = DEFENCE_DEFAULT_MIN_DATA_RATE;
	dc->max_clients = DEFENCE_DEFAULT_MAX_CLIENTS;
}

static int defence_conf_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

struct defence_conf_int {
	const char *name;
	long min, max;
	const char *msg;
	size_t off;
	int is_unsigned;
};

#define DCI(n, lo, hi, m, field, u)                                                                \
	{                                                                                          \
		n, lo, hi, m, offsetof(struct defence_conf, field), u                              \
	}
static const struct defence_conf_int defence_conf_ints[] = {
    DCI("ban_auth_failures", 0, DEFENCE_THRESHOLD_MAX, "expects a count from 0 (never) to 100",
        ban_auth, 1),
    DCI("ban_relay_attempts", 0, DEFENCE_THRESHOLD_MAX, "expects a count from 0 (never) to 100",
        ban_relay, 1),
    DCI("ban_protocol_errors", 0, DEFENCE_THRESHOLD_MAX, "expects a count from 0 (never) to 100",
        ban_errors, 1),
    DCI("ban_window", 1, 7 * 86400, "expects seconds, from 1 to 604800", ban_window, 0),
    DCI("ban_time", 1, 365 * 86400, "expects seconds, from 1 to 31536000", ban_time, 0),
    DCI("ban_time_max", 1, 365 * 86400, "expects seconds, from 1 to 31536000", ban_time_max, 0),
    DCI("ban_memory", 0, 365 * 86400, "expects seconds, from 0 to 31536000", ban_memory, 0),
    DCI("ban_ipv4_prefix", 8, 32, "expects a prefix length from 8 to 32", ipv4_prefix, 0),
    DCI("ban_ipv6_prefix", 16, 128, "expects a prefix length from 16 to 128", ipv6_prefix, 0),
    DCI("user_failures", 0, DEFENCE_THRESHOLD_MAX, "expects a count from 0 (off) to 100",
        user_failures, 1),
    DCI("user_interval", 1, 3600, "expects seconds, from 1 to 3600", user_interval, 0),
    DCI("max_sessions_per_client", 0, 1000000, "expects a number from 0 (no limit) to 1000000",
        per_client, 1),
    DCI("request_timeout", 1, 86400, "expects seconds, from 1 to 86400", request_timeout, 0),
    DCI("min_data_rate", 0, 1 << 30, "expects bytes per second (0: no minimum)", min_data_rate, 1),
    DCI("defence_max_clients", 64, 1 << 24, "expects a number from 64 to 16777216", max_clients, 1),
};

int defence_conf_directive(struct defence_conf *dc, char **w, size_t n, const char **msg)
{
	size_t i;
	long v;

	*msg = NULL;
	for (i = 0; i < sizeof(defence_conf_ints) / sizeof(defence_conf_ints[0]); i++) {
		const struct defence_conf_int *d = &defence_conf_ints[i];
		if (strcmp(w[0], d->name) != 0)
			continue;
		if (n != 2 || defence_conf_num(w[1], d->min, d->max, &v) < 0) {
			*msg = n != 2 ? "expects exactly one value" : d->msg;
			return -1;
		}
		if (d->is_unsigned)
			*(unsigned *)(void *)((char *)dc + d->off) = (unsigned)v;
		else
			*(int *)(void *)((char *)dc + d->off) = (int)v;
		return 1;
	}
	if (strcmp(w[0], "auth_failure_delay") == 0) {
		long a, b;
		if (n != 3 || defence_conf_num(w[1], 0, 300, &a) < 0 ||
		    defence_conf_num(w[2], 0, 300, &b) < 0 || b < a) {
			*msg = "usage: auth_failure_delay FIRST-SECONDS MAX-SECONDS (0 to 300)";
			return -1;
		}
		dc->auth_delay = (int)a;
		dc->auth_delay_max = (int)b;
		return 1;
	}
	if (strcmp(w[0], "ban_exempt") == 0) {
		if (n < 2) {
			*msg = "expects networks (ADDRESS or ADDRESS/BITS) or none";
			return -1;
		}
		/* The first ban_exempt line replaces the default list. */
		if (!dc->exempt_given)
			dc->nexempt = 0;
		dc->exempt_given = 1;
		if (n == 2 && strcmp(w[1], "none") == 0)
			return 1;
		for (i = 1; i < n; i++) {
			if (dc->nexempt >= DEFENCE_EXEMPT_MAX) {
				*msg = "too many networks (at most 32)";
				return -1;
			}
			if (net_prefix_parse(w[i], &dc->exempt[dc->nexempt]) < 0) {
				*msg = "bad network: use ADDRESS or ADDRESS/BITS";
				return -1;
			}
			dc->nexempt++;
		}
		return 1;
	}
	return 0;
}

int defence_conf_exempt(const struct defence_conf *dc, const struct net_prefix *host)
{
	size_t i;

	for (i = 0; i < dc->nexempt; i++)
		if (net_prefix_contains(&dc->exempt[i], host))
			return 1;
	return 0;
}
