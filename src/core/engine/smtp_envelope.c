/*
 * smtp_envelope.c - rewrite a message's envelope for a server with or
 * without SMTPUTF8 (smtp_envelope.h).
 */
#include "engine/smtp_envelope.h"

#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "smtp/addr_idn.h"

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
