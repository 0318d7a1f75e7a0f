/*
 * hostname.c - find this machine's fully qualified name: gethostname(), then
 * the canonical name from the resolver (/etc/hosts or DNS). A name with a
 * dot that is not a localhost alias wins; otherwise the short name; only
 * then "localhost".
 */
#include "base/hostname.h"

#include <netdb.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int hostname_is_local(const char *n)
{
	return strcasecmp(n, "localhost") == 0 || strncasecmp(n, "localhost.", 10) == 0 ||
	       strncasecmp(n, "localhost6", 10) == 0 || strcasecmp(n, "ip6-localhost") == 0;
}

static int hostname_usable(const char *n)
{
	size_t i;

	if (n[0] == '\0' || n[0] == '.' || n[0] == '-' || strlen(n) > 253)
		return 0;
	for (i = 0; n[i]; i++) {
		unsigned char c = (unsigned char)n[i];
		if (!(c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
		      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return !hostname_is_local(n);
}

void hostname_fqdn(struct buf *out)
{
	char host[256] = "";
	struct addrinfo hints, *res = NULL;

	buf_reset(out);
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	if (host[0] && strchr(host, '.') == NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_CANONNAME;
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, NULL, &hints, &res) == 0 && res && res->ai_canonname &&
		    strchr(res->ai_canonname, '.') && hostname_usable(res->ai_canonname)) {
			buf_adds(out, res->ai_canonname);
			freeaddrinfo(res);
			return;
		}
		if (res)
			freeaddrinfo(res);
	}
	buf_adds(out, hostname_usable(host) ? host : "localhost");
}
