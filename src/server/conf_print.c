/*
 * conf_print.c - "clsmtpd -t": the configuration clsmtpd would run with
 * (conf_print.h). What the file left out is printed with its default, so
 * the output is a complete clsmtpd.conf that loads again; what is not a
 * setting (the password itself, a passwordeval command) is a comment.
 */
#include "conf_print.h"

#include <string.h>

#include "netprefix.h"

static void conf_print_net(const struct net_prefix *n, struct buf *out)
{
	char a[NET_PREFIX_TEXT_MAX];

	net_prefix_format(n, 0, a, sizeof(a));
	buf_printf(out, " %s", a);
}

static const char *conf_print_binding(enum conf_binding b)
{
	return b == CONF_BIND_FREE ? "free" : b == CONF_BIND_OWN ? "own" : "rewrite";
}

/* HOST:PORT, an IPv6 address in brackets (as conf.c reads it). */
static void conf_print_hostport(const char *host, const char *port, struct buf *out)
{
	if (strchr(host, ':') != NULL)
		buf_printf(out, "[%s]:%s", host, port);
	else
		buf_printf(out, "%s:%s", host, port);
}

static void conf_print_reception(const struct conf *c, struct buf *out)
{
	static const char *const mode[] = {"plain", "starttls", "tls"};
	size_t i, k;

	buf_printf(out, "hostname %s\n", c->hostname);
	if (c->user != NULL)
		buf_printf(out, "user %s\n", c->user);
	else
		buf_adds(out, "# user: none (clsmtpd keeps the identity it was started with)\n");
	buf_printf(out, "spool %s\nusers %s\ncontrol_socket %s\n", c->spool, c->users,
	           c->ctl_socket);
	if (c->cert != NULL)
		buf_printf(out, "tls_cert %s\n", c->cert);
	if (c->key != NULL)
		buf_printf(out, "tls_key %s\n", c->key);
	for (i = 0; i < c->nlisten; i++) {
		const struct conf_listener *l = &c->listen[i];
		buf_adds(out, "listen ");
		conf_print_hostport(l->host, l->port, out);
		buf_printf(out, " %s %s\n", mode[l->mode], l->auth ? "auth" : "noauth");
	}
	if (c->ndomain > 0) {
		buf_adds(out, "domain");
		for (i = 0; i < c->ndomain; i++)
			buf_printf(out, " %s", c->domain[i]);
		buf_addc(out, '\n');
	}
	for (i = 0; i < c->nmailbox; i++)
		buf_printf(out, "mailbox %s %s\n", c->mailbox[i].key, c->mailbox[i].value);
	for (i = 0; i < c->nalias; i++)
		buf_printf(out, "alias %s %s\n", c->alias[i].key, c->alias[i].value);
	for (i = 0; i < c->ncatchall; i++)
		buf_printf(out, "catchall %s %s\n", c->catchall[i].key, c->catchall[i].value);
	if (c->ntrusted > 0) {
		buf_adds(out, "trusted");
		for (i = 0; i < c->ntrusted; i++)
			conf_print_net(&c->trusted[i], out);
		buf_addc(out, '\n');
	}
	for (i = 0; i < c->nsender; i++) {
		buf_printf(out, "sender %s %s", c->sender[i].user,
		           conf_print_binding(c->sender[i].mode));
		for (k = 0; k < c->sender[i].naddr; k++)
			buf_printf(out, " %s", c->sender[i].addr[k]);
		buf_addc(out, '\n');
	}
	buf_printf(out, "sender_default %s\n", conf_print_binding(c->sender_default));
	if (c->auth_mechs != NULL)
		buf_printf(out, "auth_mechanisms %s\n", c->auth_mechs);
	else
		buf_adds(out, "# auth_mechanisms: every mechanism the users file can serve\n");
	buf_printf(out, "auth_before_tls %s\n", c->auth_before_tls ? "yes" : "no");
	buf_printf(out, "bare_lf %s\nlog %s\n", c->lim.bare_lf_normalize ? "normalize" : "reject",
	           c->log_stderr ? "stderr" : "syslog");
	buf_printf(out,
	           "max_message_size %lld\nmax_line_length %zu\nmax_recipients %zu\n"
	           "max_errors %u\nmax_commands %u\nmax_sessions %u\n",
	           c->lim.size_max, c->lim.data_line_max, c->lim.rcpt_max, c->lim.errors_max,
	           c->lim.commands_max, c->max_sessions);
	if (c->greeting_delay >= 0)
		buf_printf(out, "greeting_delay %d\n", c->greeting_delay);
	else
		buf_adds(out, "# greeting_delay: 1 on plain listeners, 0 on the others\n");
	buf_printf(out, "idle_timeout %d\nsession_timeout %d\n", c->idle_timeout,
	           c->session_timeout);
}

static void conf_print_defence(const struct defence_conf *d, struct buf *out)
{
	size_t i;

	buf_printf(out,
	           "ban_auth_failures %u\nban_relay_attempts %u\nban_protocol_errors %u\n"
	           "ban_window %d\nban_time %d\nban_time_max %d\nban_memory %d\n"
	           "ban_ipv4_prefix %d\nban_ipv6_prefix %d\n",
	           d->ban_auth, d->ban_relay, d->ban_errors, d->ban_window, d->ban_time,
	           d->ban_time_max, d->ban_memory, d->ipv4_prefix, d->ipv6_prefix);
	buf_adds(out, "ban_exempt");
	for (i = 0; i < d->nexempt; i++) {
		conf_print_net(&d->exempt[i], out);
	}
	buf_adds(out, d->nexempt == 0 ? " none\n" : "\n");
	buf_printf(out,
	           "auth_failure_delay %d %d\nuser_failures %u\nuser_interval %d\n"
	           "max_sessions_per_client %u\nrequest_timeout %d\nmin_data_rate %u\n"
	           "defence_max_clients %u\n",
	           d->auth_delay, d->auth_delay_max, d->user_failures, d->user_interval,
	           d->per_client, d->request_timeout, d->min_data_rate, d->max_clients);
}

static void conf_print_relay(const struct relay_conf *r, struct buf *out)
{
	static const char *const tls[] = {NULL, "smtps", "starttls", "none"};
	static const char *const mxtls[] = {"may", "verify", "none"};
	char d[32];
	size_t i;

	buf_printf(out, "relay_mode %s\n", r->mode == RELAY_MODE_MX ? "mx" : "smarthost");
	if (r->host != NULL) {
		buf_adds(out, "smarthost ");
		conf_print_hostport(r->host, r->port, out);
		buf_addc(out, '\n');
	}
	if (tls[r->tls] != NULL)
		buf_printf(out, "smarthost_tls %s\n", tls[r->tls]);
	else
		buf_adds(out, "# smarthost_tls: by the port (465 smtps, otherwise starttls)\n");
	if (r->user != NULL)
		buf_printf(out, "smarthost_user %s\n", r->user);
	if (r->password_file != NULL)
		buf_printf(out, "smarthost_password_file %s\n", r->password_file);
	/* The command may hold the password itself (echo ...): never shown. */
	if (r->passwordeval != NULL)
		buf_adds(out, "# smarthost_passwordeval: set (the command is not shown)\n");
	if (r->user != NULL)
		buf_printf(out, "# smarthost password: %s\n",
		           r->password.len > 0 ? "read (hidden)" : "not read yet");
	if (r->auth != NULL)
		buf_printf(out, "smarthost_auth %s\n", r->auth);
	if (r->ca_file != NULL)
		buf_printf(out, "smarthost_ca %s\n", r->ca_file);
	if (r->fingerprint != NULL)
		buf_printf(out, "smarthost_fingerprint %s\n", r->fingerprint);
	buf_printf(out, "smarthost_certcheck %s\nmx_tls %s\n", r->certcheck ? "yes" : "no",
	           mxtls[r->mx_tls]);
	for (i = 0; i < r->nroute; i++) {
		buf_printf(out, "route %s ", r->route[i].domain);
		conf_print_hostport(r->route[i].host, r->route[i].port, out);
		buf_addc(out, '\n');
	}
	for (i = 0; i < r->nacct; i++) {
		const struct relay_account *ac = &r->acct[i];
		buf_printf(out, "sender_relay %s ", ac->pattern);
		conf_print_hostport(ac->host, ac->port, out);
		if (tls[ac->tls] != NULL)
			buf_printf(out, " tls=%s", tls[ac->tls]);
		if (ac->user != NULL)
			buf_printf(out, " user=%s password_file=%s", ac->user, ac->password_file);
		if (ac->auth != NULL)
			buf_printf(out, " auth=%s", ac->auth);
		if (ac->ca_file != NULL)
			buf_printf(out, " ca=%s", ac->ca_file);
		if (ac->rewrite != NULL)
			buf_printf(out, " rewrite=%s%s", ac->rewrite,
			           ac->rewrite_from ? " rewrite_from=yes" : "");
		buf_addc(out, '\n');
	}
	relay_conf_duration_str(r->retry_min, d, sizeof(d));
	buf_printf(out, "retry_min %s\n", d);
	relay_conf_duration_str(r->retry_max, d, sizeof(d));
	buf_printf(out, "retry_max %s\n", d);
	relay_conf_duration_str(r->lifetime, d, sizeof(d));
	buf_printf(out, "queue_lifetime %s\n", d);
	if (r->timeout > 0) {
		relay_conf_duration_str(r->timeout, d, sizeof(d));
		buf_printf(out, "relay_timeout %s\n", d);
	} else {
		buf_adds(out, "# relay_timeout: the RFC 5321 4.5.3.2 timeouts per command\n");
	}
}

void conf_print(const struct conf *c, struct buf *out)
{
	buf_printf(out, "# effective configuration of %s (defaults included, secrets hidden)\n",
	           c->file);
	conf_print_reception(c, out);
	conf_print_defence(&c->defence, out);
	conf_print_relay(&c->relay, out);
	dkim_conf_print(&c->dkim, out);
}
