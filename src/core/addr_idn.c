/*
 * addr_idn.c - addresses for servers with and without SMTPUTF8 (see
 * addr_idn.h). The domain is what follows the last '@' (a quoted local part
 * may hold '@'); address literals ("[...]") are left alone.
 */
#include "addr_idn.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "utf8.h"

int addr_idn_ascii(const char *addr, struct buf *out, const char *what, const char *server,
                   struct cl_err *err)
{
	const char *at = strrchr(addr, '@');
	size_t local = at ? (size_t)(at - addr) : strlen(addr);
	char *ascii = NULL;
	int r;

	if (!utf8_is_ascii(addr, local))
		return err_set(err, CL_EUNAVAIL,
		               "%s <%s>: the local part is not ASCII and %s does not offer "
		               "SMTPUTF8 (RFC 6531); nothing was sent",
		               what, addr, server ? server : "the server");
	if (at == NULL || utf8_is_ascii(at + 1, strlen(at + 1)) || at[1] == '[')
		return buf_adds(out, addr) < 0 ? err_set(err, CL_EDATA, "%s is too long", what) : 0;
	r = idn2_to_ascii_8z(at + 1, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (r != IDN2_OK)
		return err_set(err, CL_EDATA, "%s <%s>: the domain is not a valid IDN: %s", what,
		               addr, idn2_strerror(r));
	r = buf_add(out, addr, local + 1) | buf_adds(out, ascii);
	free(ascii);
	return r < 0 ? err_set(err, CL_EDATA, "%s is too long", what) : 0;
}

static int addr_idn_one(struct addr_idn_env *env, const char *a, int smtputf8, const char *what,
                        const char *server, size_t *off, struct cl_err *err)
{
	*off = env->store.len;
	if (smtputf8 || utf8_is_ascii(a, strlen(a))) {
		if (buf_adds(&env->store, a) < 0)
			return err_set(err, CL_ESOFTWARE, "out of memory");
		if (!utf8_is_ascii(a, strlen(a)))
			env->m.smtputf8 = 1;
	} else if (addr_idn_ascii(a, &env->store, what, server, err) < 0) {
		return -1;
	}
	return buf_addc(&env->store, '\0') < 0 ? err_set(err, CL_ESOFTWARE, "out of memory") : 0;
}

int addr_idn_envelope(const struct smtp_message *m, int smtputf8, const char *server,
                      struct addr_idn_env *env, struct cl_err *err)
{
	size_t i, from_off = 0;

	memset(env, 0, sizeof(*env));
	buf_init(&env->store, (m->nrcpt + 1) * 1024 + 1024);
	env->m = *m;
	env->rcpts = calloc(m->nrcpt + 1, sizeof(*env->rcpts));
	env->offs = calloc(m->nrcpt + 1, sizeof(*env->offs));
	if (env->rcpts == NULL || env->offs == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	if (addr_idn_one(env, m->from ? m->from : "", smtputf8, "sender", server, &from_off, err) <
	    0)
		return -1;
	for (i = 0; i < m->nrcpt; i++)
		if (addr_idn_one(env, m->rcpts[i], smtputf8, "recipient", server, &env->offs[i],
		                 err) < 0)
			return -1;
	/* The store no longer moves: point into it. */
	env->m.from = env->store.data + from_off;
	for (i = 0; i < m->nrcpt; i++)
		env->rcpts[i] = env->store.data + env->offs[i];
	env->m.rcpts = env->rcpts;
	return 0;
}

void addr_idn_env_free(struct addr_idn_env *env)
{
	buf_free(&env->store);
	free(env->rcpts);
	free(env->offs);
	memset(env, 0, sizeof(*env));
}
