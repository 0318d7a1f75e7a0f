/*
 * defence.c - the anvil of clsmtpd (defence.h): clients and accounts in hash
 * tables with LRU lists, bounded (the oldest record without connections or
 * an active ban makes room). Each keeps the times of its last N events of a
 * kind (N = the kind's threshold), so "N within the window" is exact.
 */
#include "defence.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lru.h"

/* Accounts tracked at once (only existing accounts are reported). */
#define DEFENCE_USERS_MAX 4096
/* How far from the LRU tail we look for a record to evict. */
#define DEFENCE_EVICT_SCAN 32
/* Repeated refusals of one client are logged at most this often. */
#define DEFENCE_REFUSE_LOG_MS 60000

static const char *const defence_reasons[] = {"auth-failures", "relay-attempts", "protocol-errors",
                                              "manual"};
#define DEFENCE_REASON_MANUAL 3

struct defence_rec {
	struct net_prefix key;
	struct defence_rec *hnext;
	struct lru_node lru;
	int64_t ban_until;      /* monotonic ms; 0: no active ban */
	long long ban_end_wall; /* seconds: end of the last ban (0: permanent) */
	unsigned offences;
	unsigned nconn;
	uint8_t reason, has_ban;
	uint16_t n[DEFENCE_KINDS], pos[DEFENCE_KINDS];
	int64_t *times; /* the three rings, one allocation */
	int64_t greet_ok_until;
	unsigned long long refused, refused_logged;
	int64_t refused_log_at;
};

struct defence_user {
	char *name;
	struct defence_user *hnext;
	struct lru_node lru;
	int64_t *times;
	uint16_t n, pos;
	int64_t next_try;
	struct net_prefix known[DEFENCE_KNOWN_NETS];
	int64_t known_at[DEFENCE_KNOWN_NETS];
};

struct defence {
	struct defence_conf c;
	uint32_t seed;
	struct defence_rec **tab;
	size_t nb, nrec;
	unsigned active; /* records with nconn > 0 */
	struct lru clients; /* of struct defence_rec */
	struct defence_user **utab;
	size_t unb, nuser;
	struct lru users; /* of struct defence_user */
	unsigned banlen[2][129]; /* records with ban_until != 0, by family and length */
	unsigned cap[DEFENCE_KINDS];
	unsigned gen;
	int dirty;
	int64_t wall_offset;
	defence_log_fn log;
	void *log_arg;
	struct defence_stats st;
};

static size_t defence_pow2(size_t n)
{
	size_t p = 64;

	while (p < n)
		p <<= 1;
	return p;
}

struct defence *defence_new(const struct defence_conf *dc, uint32_t seed)
{
	struct defence *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->c = *dc;
	d->seed = seed;
	d->nb = defence_pow2(dc->max_clients);
	d->unb = 1024;
	/* Arrays of pointers: sizeof(*tab) is the pointer's size, as meant. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	d->tab = calloc(d->nb, sizeof(*d->tab));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	d->utab = calloc(d->unb, sizeof(*d->utab));
	if (d->tab == NULL || d->utab == NULL) {
		free(d->tab);
		free(d->utab);
		free(d);
		return NULL;
	}
	/* The AUTH ring also feeds the delay schedule, which needs a few. */
	d->cap[DEFENCE_AUTH] = dc->ban_auth > 8 ? dc->ban_auth : 8;
	d->cap[DEFENCE_RELAY] = dc->ban_relay;
	d->cap[DEFENCE_ERROR] = dc->ban_errors;
	return d;
}

void defence_free(struct defence *d)
{
	struct defence_rec *r;
	struct defence_user *u;

	if (d == NULL)
		return;
	while (d->clients.newest != NULL) {
		r = LRU_ENTRY(d->clients.newest, struct defence_rec, lru);
		lru_unlink(&d->clients, &r->lru);
		free(r->times);
		free(r);
	}
	while (d->users.newest != NULL) {
		u = LRU_ENTRY(d->users.newest, struct defence_user, lru);
		lru_unlink(&d->users, &u->lru);
		free(u->times);
		free(u->name);
		free(u);
	}
	free(d->tab);
	free(d->utab);
	free(d);
}

const struct defence_conf *defence_conf(const struct defence *d)
{
	return &d->c;
}

void defence_set_log(struct defence *d, defence_log_fn fn, void *arg)
{
	d->log = fn;
	d->log_arg = arg;
}

void defence_set_wall_offset(struct defence *d, int64_t offset_ms)
{
	d->wall_offset = offset_ms;
}

static long long defence_wall(const struct defence *d, int64_t now)
{
	return (long long)((now + d->wall_offset) / 1000);
}

struct defence_stats *defence_stats(struct defence *d)
{
	return &d->st;
}

unsigned defence_generation(const struct defence *d)
{
	return d->gen;
}

int defence_dirty(const struct defence *d)
{
	return d->dirty;
}

void defence_mark_saved(struct defence *d)
{
	d->dirty = 0;
}

size_t defence_clients(const struct defence *d)
{
	return d->nrec;
}

static void defence_logf(struct defence *d, const char *fmt, ...) BUF_PRINTF(2, 3);
static void defence_logf(struct defence *d, const char *fmt, ...)
{
	struct buf b = BUF_INIT(1024);
	va_list ap;

	if (d->log == NULL)
		return;
	va_start(ap, fmt);
	buf_adds(&b, "defence: ");
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	d->log(d->log_arg, buf_cstr(&b));
	buf_free(&b);
}

void defence_log_word(const char *in, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < 64 && in[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)in[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("._@+-", ch) != NULL) {
			buf_addc(out, (char)ch);
		} else {
			buf_addc(out, '%');
			buf_addc(out, hex[ch >> 4]);
			buf_addc(out, hex[ch & 15]);
		}
	}
	if (in[i] != '\0')
		buf_adds(out, "...");
	if (i == 0)
		buf_adds(out, "-");
}

void defence_client_key(const struct defence *d, const struct net_prefix *host,
                        struct net_prefix *key)
{
	*key = *host;
	net_prefix_mask(key, host->family == AF_INET ? d->c.ipv4_prefix : d->c.ipv6_prefix);
}

/* ---- the client table ------------------------------------------------ */

static int defence_fam(const struct net_prefix *n)
{
	return n->family == AF_INET ? 0 : 1;
}

static struct defence_rec *defence_find(struct defence *d, const struct net_prefix *key)
{
	struct defence_rec *r = d->tab[net_prefix_hash(key, d->seed) & (d->nb - 1)];

	while (r != NULL && !net_prefix_equal(&r->key, key))
		r = r->hnext;
	return r;
}

static void defence_remove(struct defence *d, struct defence_rec *r)
{
	struct defence_rec **pp = &d->tab[net_prefix_hash(&r->key, d->seed) & (d->nb - 1)];

	while (*pp != r)
		pp = &(*pp)->hnext;
	*pp = r->hnext;
	lru_unlink(&d->clients, &r->lru);
	if (r->ban_until != 0)
		d->banlen[defence_fam(&r->key)][r->key.bits]--;
	free(r->times);
	free(r);
	d->nrec--;
}

/* Make room: the oldest record nobody needs (no connection, no active
 * ban), preferring one without ban history. */
static int defence_evict(struct defence *d, int64_t now)
{
	struct defence_rec *r, *fallback = NULL;
	struct lru_node *n;
	int i;

	for (n = d->clients.oldest, i = 0; n != NULL && i < DEFENCE_EVICT_SCAN; n = n->newer, i++) {
		r = LRU_ENTRY(n, struct defence_rec, lru);
		if (r->nconn > 0 || (r->ban_until != 0 && r->ban_until > now))
			continue;
		if (!r->has_ban) {
			defence_remove(d, r);
			return 0;
		}
		if (fallback == NULL)
			fallback = r;
	}
	if (fallback == NULL)
		return -1;
	defence_remove(d, fallback);
	return 0;
}

static struct defence_rec *defence_get(struct defence *d, const struct net_prefix *key,
                                       int64_t now)
{
	struct defence_rec *r = defence_find(d, key);
	size_t h;

	if (r != NULL) {
		lru_touch(&d->clients, &r->lru);
		return r;
	}
	if (d->nrec >= d->c.max_clients && defence_evict(d, now) < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->key = *key;
	h = net_prefix_hash(key, d->seed) & (d->nb - 1);
	r->hnext = d->tab[h];
	d->tab[h] = r;
	lru_front(&d->clients, &r->lru);
	d->nrec++;
	return r;
}

/* The ban covering host now, if any (expired ones are noticed here). */
static struct defence_rec *defence_find_ban(struct defence *d, const struct net_prefix *host,
                                            int64_t now)
{
	int f = defence_fam(host), bits;

	for (bits = host->bits; bits >= 0; bits--) {
		struct net_prefix k;
		struct defence_rec *r;
		if (d->banlen[f][bits] == 0)
			continue;
		k = *host;
		net_prefix_mask(&k, bits);
		r = defence_find(d, &k);
		if (r == NULL || r->ban_until == 0)
			continue;
		if (r->ban_until > now)
			return r;
		r->ban_until = 0;
		d->banlen[f][bits]--;
	}
	return NULL;
}

int defence_banned(struct defence *d, const struct net_prefix *host, int64_t now)
{
	return defence_find_ban(d, host, now) != NULL;
}

static void defence_refused_log(struct defence *d, struct defence_rec *r,
                                const struct net_prefix *host, const char *reason, int64_t now)
{
	char a[NET_PREFIX_TEXT_MAX], n[NET_PREFIX_TEXT_MAX];

	r->refused++;
	if (r->refused_log_at != 0 && now - r->refused_log_at < DEFENCE_REFUSE_LOG_MS)
		return;
	net_prefix_format(host, 1, a, sizeof(a));
	net_prefix_format(&r->key, 0, n, sizeof(n));
	defence_logf(d, "action=refuse client=%s net=%s reason=%s refused=%llu", a, n, reason,
	             r->refused - r->refused_logged);
	r->refused_logged = r->refused;
	r->refused_log_at = now;
}

enum defence_verdict defence_connect(struct defence *d, const struct net_prefix *host, int64_t now)
{
	struct defence_rec *r = defence_find_ban(d, host, now);
	struct net_prefix key;

	if (r != NULL) {
		d->st.refused_banned++;
		defence_refused_log(d, r, host, "banned", now);
		return DEFENCE_BANNED;
	}
	defence_client_key(d, host, &key);
	r = defence_get(d, &key, now);
	if (r == NULL) {
		/* Table full of busy clients: serve, uncounted. */
		d->st.accepted++;
		return DEFENCE_OK;
	}
	if (d->c.per_client > 0 && r->nconn >= d->c.per_client) {
		d->st.refused_client++;
		defence_refused_log(d, r, host, "client-limit", now);
		return DEFENCE_CLIENT_LIMIT;
	}
	if (r->nconn++ == 0)
		d->active++;
	d->st.accepted++;
	return DEFENCE_OK;
}

void defence_disconnect(struct defence *d, const struct net_prefix *host)
{
	struct net_prefix key;
	struct defence_rec *r;

	defence_client_key(d, host, &key);
	r = defence_find(d, &key);
	if (r != NULL && r->nconn > 0 && --r->nconn == 0)
		d->active--;
}

unsigned defence_client_conns(struct defence *d, const struct net_prefix *host)
{
	struct net_prefix key;
	struct defence_rec *r;

	defence_client_key(d, host, &key);
	r = defence_find(d, &key);
	return r != NULL ? r->nconn : 0;
}

unsigned defence_active_clients(const struct defence *d)
{
	return d->active;
}

/* ---- windows and bans ------------------------------------------------ */

static int64_t *defence_ring(struct defence *d, struct defence_rec *r, int k)
{
	size_t off = 0;
	int i;

	if (r->times == NULL) {
		r->times = calloc(d->cap[0] + d->cap[1] + d->cap[2], sizeof(int64_t));
		if (r->times == NULL)
			return NULL;
	}
	for (i = 0; i < k; i++)
		off += d->cap[i];
	return r->times + off;
}

/* Record an event at now; return how many of the kept ones are in the window. */
static unsigned defence_push(struct defence *d, struct defence_rec *r, int k, int64_t now)
{
	int64_t *t = defence_ring(d, r, k), since = now - (int64_t)d->c.ban_window * 1000;
	unsigned cap = d->cap[k], i, n = 0;

	if (t == NULL || cap == 0)
		return 0;
	t[r->pos[k]] = now;
	r->pos[k] = (uint16_t)((r->pos[k] + 1) % cap);
	if (r->n[k] < cap)
		r->n[k]++;
	for (i = 0; i < r->n[k]; i++)
		if (t[i] > since)
			n++;
	return n;
}

static void defence_forget_events(struct defence_rec *r)
{
	memset(r->n, 0, sizeof(r->n));
	memset(r->pos, 0, sizeof(r->pos));
}

/* Put a ban on r: seconds < 0 means automatic (escalating) length. */
static void defence_put_ban(struct defence *d, struct defence_rec *r, int reason, long seconds,
                            int64_t now)
{
	long long wall = defence_wall(d, now), len;

	if (r->ban_until != 0 && r->ban_until <= now) {
		r->ban_until = 0;
		d->banlen[defence_fam(&r->key)][r->key.bits]--;
	}
	/* A ban that ended more than ban_memory ago is forgiven. */
	if (r->has_ban && r->ban_until == 0 && r->ban_end_wall != 0 &&
	    r->ban_end_wall + d->c.ban_memory < wall)
		r->offences = 0;
	if (r->offences < UINT_MAX)
		r->offences++;
	if (seconds < 0) {
		unsigned i;
		len = d->c.ban_time;
		for (i = 1; i < r->offences && len < d->c.ban_time_max; i++)
			len *= 2;
		if (len > d->c.ban_time_max)
			len = d->c.ban_time_max;
	} else {
		len = seconds;
	}
	if (r->ban_until == 0)
		d->banlen[defence_fam(&r->key)][r->key.bits]++;
	r->ban_until = len > 0 ? now + len * 1000 : DEFENCE_FOREVER;
	r->ban_end_wall = len > 0 ? wall + len : 0;
	r->has_ban = 1;
	r->reason = (uint8_t)reason;
	defence_forget_events(r);
	d->gen++;
	d->dirty = 1;
	d->st.bans++;
}

long defence_event(struct defence *d, const struct net_prefix *host, enum defence_kind k,
                   int64_t now)
{
	static const char *const kind_names[] = {"auth-failure", "relay-attempt", "protocol-error"};
	struct net_prefix key;
	struct defence_rec *r;
	unsigned n, thr = k == DEFENCE_AUTH    ? d->c.ban_auth
	                  : k == DEFENCE_RELAY ? d->c.ban_relay
	                                       : d->c.ban_errors;
	char a[NET_PREFIX_TEXT_MAX];
	long delay = 0;

	if (k == DEFENCE_AUTH)
		d->st.auth_failures++;
	else if (k == DEFENCE_RELAY)
		d->st.relay_attempts++;
	else
		d->st.errors++;
	defence_client_key(d, host, &key);
	r = defence_get(d, &key, now);
	if (r == NULL)
		return 0;
	n = defence_push(d, r, k, now);
	net_prefix_format(host, 1, a, sizeof(a));
	if (thr > 0 && n >= thr) {
		char net[NET_PREFIX_TEXT_MAX];
		defence_put_ban(d, r, (int)k, -1, now);
		net_prefix_format(&r->key, 0, net, sizeof(net));
		defence_logf(d,
		             "action=ban client=%s net=%s reason=%s count=%u/%u window=%ds "
		             "duration=%llds offence=%u",
		             a, net, defence_reasons[k], n, thr, d->c.ban_window,
		             (long long)((r->ban_until - now) / 1000), r->offences);
		return -1;
	}
	if (k == DEFENCE_AUTH && d->c.auth_delay > 0 && n > 0) {
		long long ms = (long long)d->c.auth_delay * 1000;
		unsigned i;
		for (i = 1; i < n && ms < (long long)d->c.auth_delay_max * 1000; i++)
			ms *= 2;
		if (ms > (long long)d->c.auth_delay_max * 1000)
			ms = (long long)d->c.auth_delay_max * 1000;
		delay = (long)ms;
		d->st.delays++;
		d->st.delay_ms += (unsigned long long)ms;
	}
	/* Relay attempts and protocol errors have their own reject lines. */
	if (k == DEFENCE_AUTH)
		defence_logf(d, "action=%s client=%s reason=%s count=%u/%u delay_ms=%ld",
		             delay > 0 ? "delay" : "count", a, kind_names[k], n, thr, delay);
	return delay;
}

int defence_ban(struct defence *d, const struct net_prefix *net, long seconds, int64_t now)
{
	struct defence_rec *r = defence_get(d, net, now);
	char n[NET_PREFIX_TEXT_MAX];

	if (r == NULL)
		return -1;
	defence_put_ban(d, r, DEFENCE_REASON_MANUAL, seconds, now);
	d->st.bans_manual++;
	net_prefix_format(net, 0, n, sizeof(n));
	if (seconds > 0)
		defence_logf(d, "action=ban net=%s reason=manual duration=%lds offence=%u", n,
		             seconds, r->offences);
	else
		defence_logf(d, "action=ban net=%s reason=manual duration=permanent offence=%u", n,
		             r->offences);
	return 0;
}

int defence_unban(struct defence *d, const struct net_prefix *net, int64_t now)
{
	struct defence_rec *r;
	struct lru_node *node;
	int lifted = 0;
	char n[NET_PREFIX_TEXT_MAX];

	for (node = d->clients.newest; node != NULL; node = node->older) {
		r = LRU_ENTRY(node, struct defence_rec, lru);
		if (!r->has_ban ||
		    !(net_prefix_contains(net, &r->key) || net_prefix_contains(&r->key, net)))
			continue;
		if (r->ban_until != 0) {
			if (r->ban_until > now)
				lifted++;
			d->banlen[defence_fam(&r->key)][r->key.bits]--;
		}
		r->ban_until = 0;
		r->ban_end_wall = 0;
		r->has_ban = 0;
		r->offences = 0;
		r->refused_log_at = 0;
		defence_forget_events(r);
		d->dirty = 1;
	}
	net_prefix_format(net, 0, n, sizeof(n));
	defence_logf(d, "action=unban net=%s reason=manual lifted=%d", n, lifted);
	d->st.unbans += (unsigned long long)lifted;
	return lifted;
}

int defence_greet_wanted(struct defence *d, const struct net_prefix *host, int64_t now)
{
	struct net_prefix key;
	struct defence_rec *r;

	defence_client_key(d, host, &key);
	r = defence_find(d, &key);
	return r == NULL || r->greet_ok_until <= now;
}

void defence_greet_passed(struct defence *d, const struct net_prefix *host, int64_t now)
{
	struct net_prefix key;
	struct defence_rec *r;

	defence_client_key(d, host, &key);
	r = defence_get(d, &key, now);
	if (r != NULL)
		r->greet_ok_until = now + (int64_t)DEFENCE_GREET_TTL * 1000;
}

/* ---- accounts -------------------------------------------------------- */

static uint32_t defence_user_hash(const struct defence *d, const char *s)
{
	uint32_t h = 2166136261u ^ d->seed;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct defence_user *defence_user_find(struct defence *d, const char *name)
{
	struct defence_user *u = d->utab[defence_user_hash(d, name) & (d->unb - 1)];

	while (u != NULL && strcmp(u->name, name) != 0)
		u = u->hnext;
	return u;
}

static void defence_user_drop(struct defence *d, struct defence_user *u)
{
	struct defence_user **pp = &d->utab[defence_user_hash(d, u->name) & (d->unb - 1)];

	while (*pp != u)
		pp = &(*pp)->hnext;
	*pp = u->hnext;
	lru_unlink(&d->users, &u->lru);
	free(u->times);
	free(u->name);
	free(u);
	d->nuser--;
}

static struct defence_user *defence_user_get(struct defence *d, const char *name)
{
	struct defence_user *u = defence_user_find(d, name);
	size_t h;

	if (u != NULL) {
		lru_touch(&d->users, &u->lru);
		return u;
	}
	if (d->nuser >= DEFENCE_USERS_MAX)
		defence_user_drop(d, LRU_ENTRY(d->users.oldest, struct defence_user, lru));
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->name = strdup(name);
	u->times = calloc(d->c.user_failures, sizeof(int64_t));
	if (u->name == NULL || u->times == NULL) {
		free(u->name);
		free(u->times);
		free(u);
		return NULL;
	}
	h = defence_user_hash(d, name) & (d->unb - 1);
	u->hnext = d->utab[h];
	d->utab[h] = u;
	lru_front(&d->users, &u->lru);
	d->nuser++;
	return u;
}

static unsigned defence_user_count(const struct defence *d, const struct defence_user *u,
                                   int64_t now)
{
	int64_t since = now - (int64_t)d->c.ban_window * 1000;
	unsigned i, n = 0;

	for (i = 0; i < u->n; i++)
		if (u->times[i] > since)
			n++;
	return n;
}

static int defence_user_known(const struct defence *d, const struct defence_user *u,
                              const struct net_prefix *host, int64_t now)
{
	struct net_prefix key;
	int i;

	defence_client_key(d, host, &key);
	for (i = 0; i < DEFENCE_KNOWN_NETS; i++)
		if (u->known_at[i] != 0 &&
		    now - u->known_at[i] < (int64_t)DEFENCE_KNOWN_TTL * 1000 &&
		    net_prefix_equal(&u->known[i], &key))
			return 1;
	return 0;
}

enum defence_user_verdict defence_user_check(struct defence *d, const char *user,
                                             const struct net_prefix *host, int64_t now)
{
	struct defence_user *u;
	struct buf w = BUF_INIT(256);
	char a[NET_PREFIX_TEXT_MAX];
	unsigned n;

	if (d->c.user_failures == 0 || (u = defence_user_find(d, user)) == NULL)
		return DEFENCE_USER_OK;
	n = defence_user_count(d, u, now);
	if (n < d->c.user_failures || defence_user_known(d, u, host, now))
		return DEFENCE_USER_OK;
	if (now >= u->next_try) {
		/* One attempt per interval is checked. */
		u->next_try = now + (int64_t)d->c.user_interval * 1000;
		return DEFENCE_USER_OK;
	}
	d->st.user_throttled++;
	net_prefix_format(host, 1, a, sizeof(a));
	defence_log_word(user, &w);
	defence_logf(d,
	             "action=throttle client=%s reason=account-under-attack failures=%u/%u user=%s",
	             a, n, d->c.user_failures, buf_cstr(&w));
	buf_free(&w);
	return DEFENCE_USER_THROTTLE;
}

void defence_user_result(struct defence *d, const char *user, const struct net_prefix *host,
                         int ok, int64_t now)
{
	struct defence_user *u;
	unsigned before;

	if (d->c.user_failures == 0 || (u = defence_user_get(d, user)) == NULL)
		return;
	if (ok) {
		struct net_prefix key;
		int i, slot = 0;
		defence_client_key(d, host, &key);
		for (i = 0; i < DEFENCE_KNOWN_NETS; i++) {
			if (u->known_at[i] != 0 && net_prefix_equal(&u->known[i], &key)) {
				slot = i;
				break;
			}
			if (u->known_at[i] < u->known_at[slot])
				slot = i;
		}
		u->known[slot] = key;
		u->known_at[slot] = now;
		return;
	}
	before = defence_user_count(d, u, now);
	u->times[u->pos] = now;
	u->pos = (uint16_t)((u->pos + 1) % d->c.user_failures);
	if (u->n < d->c.user_failures)
		u->n++;
	/* Logged when the account crosses the line, not at every failure. */
	if (before < d->c.user_failures && defence_user_count(d, u, now) >= d->c.user_failures) {
		struct buf w = BUF_INIT(256);
		defence_log_word(user, &w);
		d->st.user_attacks++;
		defence_logf(d,
		             "action=protect reason=account-under-attack failures=%u/%u window=%ds "
		             "interval=%ds user=%s",
		             d->c.user_failures, d->c.user_failures, d->c.ban_window,
		             d->c.user_interval, buf_cstr(&w));
		buf_free(&w);
	}
}

/* ---- listing, persistence, statistics -------------------------------- */

void defence_bans_foreach(struct defence *d, int64_t now, int history,
                          void (*fn)(void *arg, const struct defence_ban_info *b), void *arg)
{
	struct defence_rec *r;
	struct lru_node *n;
	long long wall = defence_wall(d, now);
	int pass;

	for (pass = 0; pass < (history ? 2 : 1); pass++) {
		for (n = d->clients.oldest; n != NULL; n = n->newer) {
			struct defence_ban_info b;
			int active;
			r = LRU_ENTRY(n, struct defence_rec, lru);
			if (!r->has_ban)
				continue;
			if (r->ban_until != 0 && r->ban_until <= now) {
				r->ban_until = 0;
				d->banlen[defence_fam(&r->key)][r->key.bits]--;
			}
			active = r->ban_until != 0;
			if (active != (pass == 0))
				continue;
			if (!active && r->ban_end_wall + d->c.ban_memory < wall)
				continue;
			memset(&b, 0, sizeof(b));
			b.net = r->key;
			b.until_wall = r->ban_until == DEFENCE_FOREVER ? 0 : r->ban_end_wall;
			b.offences = r->offences;
			b.active = active;
			memcpy(b.reason, defence_reasons[r->reason],
			       strlen(defence_reasons[r->reason]) + 1);
			fn(arg, &b);
		}
	}
}

int defence_ban_restore(struct defence *d, const struct defence_ban_info *b, int64_t now)
{
	long long wall = defence_wall(d, now);
	struct defence_rec *r;
	int reason;

	for (reason = 0; reason < DEFENCE_REASON_MANUAL; reason++)
		if (strcmp(b->reason, defence_reasons[reason]) == 0)
			break;
	/* Past remembering: nothing to restore. */
	if (b->until_wall != 0 && b->until_wall + d->c.ban_memory < wall)
		return 0;
	r = defence_get(d, &b->net, now);
	if (r == NULL)
		return -1;
	if (r->ban_until != 0)
		d->banlen[defence_fam(&r->key)][r->key.bits]--;
	r->has_ban = 1;
	r->reason = (uint8_t)reason;
	r->offences = b->offences > 0 ? b->offences : 1;
	r->ban_end_wall = b->until_wall;
	if (b->until_wall == 0)
		r->ban_until = DEFENCE_FOREVER;
	else if (b->until_wall > wall)
		r->ban_until = now + (int64_t)(b->until_wall - wall) * 1000;
	else
		r->ban_until = 0;
	if (r->ban_until != 0)
		d->banlen[defence_fam(&r->key)][r->key.bits]++;
	d->gen++;
	return 0;
}

static void defence_count_ban(void *arg, const struct defence_ban_info *b)
{
	(void)b;
	(*(size_t *)arg)++;
}

void defence_stats_text(struct defence *d, unsigned sessions, int64_t now, struct buf *out)
{
	size_t active = 0;

	defence_bans_foreach(d, now, 0, defence_count_ban, &active);
	buf_printf(out,
	           "defence: stats sessions=%u peak_sessions=%u accepted=%llu refused_banned=%llu "
	           "refused_client_limit=%llu refused_full=%llu evicted=%llu auth_failures=%llu "
	           "relay_attempts=%llu protocol_errors=%llu delays=%llu delay_ms=%llu bans=%llu "
	           "bans_manual=%llu unbans=%llu bans_active=%zu accounts_protected=%llu "
	           "user_throttled=%llu pregreet=%llu slow=%llu timeouts=%llu clients=%zu "
	           "accounts=%zu",
	           sessions, d->st.peak_sessions, d->st.accepted, d->st.refused_banned,
	           d->st.refused_client, d->st.refused_full, d->st.evicted, d->st.auth_failures,
	           d->st.relay_attempts, d->st.errors, d->st.delays, d->st.delay_ms, d->st.bans,
	           d->st.bans_manual, d->st.unbans, active, d->st.user_attacks,
	           d->st.user_throttled, d->st.pregreet, d->st.slow, d->st.timeouts, d->nrec,
	           d->nuser);
}
