/*
 * defence_srv.c - the process-wide anvil of clsmtpd (defence_srv.h): its
 * creation from the configuration with a random hash seed, the log sink,
 * the trusted/exempt test, and the rate-limited saving of SPOOL/bans.
 */
#include "defence_srv.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "banlist.h"
#include "log.h"
#include "base/timeout.h"

static struct defence *defence_srv_d;
static const struct conf *defence_srv_conf;
static struct buf defence_srv_file = BUF_INIT(4096);
static int64_t defence_srv_saved_at;

static void defence_srv_log(void *arg, const char *line)
{
	(void)arg;
	log_msg(LOG_NOTICE, "%s", line);
}

static int64_t defence_srv_wall_offset(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - timeout_now_ms();
}

int defence_srv_init(const struct conf *conf, struct cl_err *err)
{
	uint32_t seed = 0;
	unsigned skipped = 0;
	int64_t now = timeout_now_ms();

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint32_t)now ^ (uint32_t)(uintptr_t)&seed;
	defence_srv_conf = conf;
	defence_srv_d = defence_new(&conf->defence, seed);
	if (defence_srv_d == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	defence_set_wall_offset(defence_srv_d, defence_srv_wall_offset());
	defence_set_log(defence_srv_d, defence_srv_log, NULL);
	banlist_path(conf->spool, &defence_srv_file);
	if (banlist_load(defence_srv_d, buf_cstr(&defence_srv_file), now, &skipped, err) < 0) {
		/* A damaged ban list must not keep the mail server down. */
		log_msg(LOG_ERR, "defence: %s; starting without bans", err->msg);
		err_clear(err);
	}
	if (skipped > 0)
		log_msg(LOG_WARNING, "defence: %s: %u unreadable lines skipped",
		        buf_cstr(&defence_srv_file), skipped);
	return 0;
}

struct defence *defence_srv(void)
{
	return defence_srv_d;
}

const struct conf *defence_srv_config(void)
{
	return defence_srv_conf;
}

static int defence_srv_in_trusted(const struct conf *c, const struct net_prefix *net,
                                  int either_way)
{
	size_t i;

	if (c == NULL)
		return 0;
	for (i = 0; i < c->ntrusted; i++)
		if (net_prefix_contains(&c->trusted[i], net) ||
		    (either_way && net_prefix_contains(net, &c->trusted[i])))
			return 1;
	for (i = 0; i < c->defence.nexempt; i++)
		if (net_prefix_contains(&c->defence.exempt[i], net) ||
		    (either_way && net_prefix_contains(net, &c->defence.exempt[i])))
			return 1;
	return 0;
}

int defence_srv_exempt(const struct sockaddr *sa)
{
	struct net_prefix host;

	if (net_prefix_from_sa(sa, &host) < 0)
		return 1;
	return defence_srv_in_trusted(defence_srv_conf, &host, 0);
}

int defence_srv_protected(const struct conf *conf, const struct net_prefix *net)
{
	return defence_srv_in_trusted(conf, net, 1);
}

static void defence_srv_save(int64_t now)
{
	struct cl_err err;

	err_clear(&err);
	defence_srv_saved_at = now;
	if (banlist_save(defence_srv_d, buf_cstr(&defence_srv_file), now, &err) < 0)
		log_msg(LOG_ERR, "defence: cannot save the ban list: %s", err.msg);
}

int64_t defence_srv_tick(int64_t now)
{
	if (defence_srv_d == NULL || !defence_dirty(defence_srv_d))
		return 0;
	if (defence_srv_saved_at == 0 || now - defence_srv_saved_at >= DEFENCE_SRV_SAVE_MS) {
		defence_srv_save(now);
		return defence_dirty(defence_srv_d) ? now + DEFENCE_SRV_SAVE_MS : 0;
	}
	return defence_srv_saved_at + DEFENCE_SRV_SAVE_MS;
}

void defence_srv_note_sessions(unsigned sessions)
{
	if (defence_srv_d != NULL && sessions > defence_stats(defence_srv_d)->peak_sessions)
		defence_stats(defence_srv_d)->peak_sessions = sessions;
}

void defence_srv_log_stats(unsigned sessions, int64_t now)
{
	struct buf b = BUF_INIT(2048);

	if (defence_srv_d == NULL)
		return;
	defence_stats_text(defence_srv_d, sessions, now, &b);
	log_msg(LOG_INFO, "%s", buf_cstr(&b));
	buf_free(&b);
}

void defence_srv_shutdown(int64_t now)
{
	if (defence_srv_d == NULL)
		return;
	if (defence_dirty(defence_srv_d))
		defence_srv_save(now);
	defence_free(defence_srv_d);
	defence_srv_d = NULL;
	buf_free(&defence_srv_file);
}
