/*
 * addr_idn.c - addresses for servers with and without SMTPUTF8 (see
 * addr_idn.h). The domain is what follows the last '@' (a quoted local part
 * may hold '@'); address literals ("[...]") are left alone.
 */
#include "smtp/addr_idn.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "base/utf8.h"

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
