/*
 * banlist.c - reading and writing SPOOL/bans (banlist.h). The file is
 * small (one line per remembered ban) and rewritten whole; a reader never
 * sees half of it because it only ever appears by rename(2).
 */
#include "banlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fdio.h"

void banlist_path(const char *spool, struct buf *path)
{
	buf_reset(path);
	buf_printf(path, "%s/%s", spool, BANLIST_NAME);
}

void banlist_format(const struct defence_ban_info *b, struct buf *out)
{
	char net[NET_PREFIX_TEXT_MAX];

	net_prefix_format(&b->net, 0, net, sizeof(net));
	if (b->until_wall == 0)
		buf_printf(out, "%s\tforever\t%u\t%s", net, b->offences, b->reason);
	else
		buf_printf(out, "%s\t%lld\t%u\t%s", net, b->until_wall, b->offences, b->reason);
}

int banlist_parse(const char *line, struct defence_ban_info *b)
{
	char net[64], until[32], reason[32];
	unsigned off;
	char *end;

	memset(b, 0, sizeof(b[0]));
	/* NOLINTNEXTLINE(cert-err34-c): our own file; each field is checked below */
	if (sscanf(line, "%63s %31s %u %31s", net, until, &off, reason) != 4)
		return -1;
	if (net_prefix_parse(net, &b->net) < 0 || strlen(reason) >= sizeof(b->reason))
		return -1;
	if (strcmp(until, "forever") == 0) {
		b->until_wall = 0;
	} else {
		errno = 0;
		b->until_wall = strtoll(until, &end, 10);
		if (errno || *end != '\0' || b->until_wall <= 0)
			return -1;
	}
	b->offences = off;
	memcpy(b->reason, reason, strlen(reason) + 1);
	b->active = 1;
	return 0;
}

int banlist_load(struct defence *d, const char *file, int64_t now, unsigned *skipped,
                 struct cl_err *err)
{
	FILE *f = fopen(file, "re");
	char line[512];
	int first = 1;

	*skipped = 0;
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, CL_EIO, "%s: %s", file, strerror(errno));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct defence_ban_info b;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (first) {
			first = 0;
			if (strcmp(line, BANLIST_MAGIC) != 0) {
				fclose(f);
				return err_set(err, CL_EDATA, "%s: not a clsmtpd ban list", file);
			}
			continue;
		}
		if (banlist_parse(line, &b) < 0 || defence_ban_restore(d, &b, now) < 0)
			(*skipped)++;
	}
	fclose(f);
	defence_mark_saved(d);
	return 0;
}

static void banlist_add_line(void *arg, const struct defence_ban_info *b)
{
	struct buf *out = arg;

	banlist_format(b, out);
	buf_addc(out, '\n');
}

int banlist_save(struct defence *d, const char *file, int64_t now, struct cl_err *err)
{
	/* 64 MiB: room for the largest defence_max_clients of ~60-byte lines. */
	struct buf text = BUF_INIT((size_t)64 << 20), tmp = BUF_INIT(4096), dir = BUF_INIT(4096);
	const char *slash = strrchr(file, '/');
	struct stat st;
	int fd = -1, dfd, r = -1;

	buf_adds(&text, "# clsmtpd ban list: NET UNTIL OFFENCES REASON (UNTIL in seconds since\n"
	                "# the epoch). Written by clsmtpd; change it with clsmtpd -ban/-unban.\n");
	buf_printf(&text, "%s\n", BANLIST_MAGIC);
	defence_bans_foreach(d, now, 1, banlist_add_line, &text);
	buf_printf(&tmp, "%s.tmp", file);
	if (slash == NULL)
		buf_adds(&dir, ".");
	else
		buf_add(&dir, file, slash == file ? 1 : (size_t)(slash - file));
	/* A temporary file left by a crash may be another user's (root's
	 * offline -ban): remove it rather than fail to open it. */
	unlink(tmp.data);
	fd = open(tmp.data, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err_set(err, CL_EIO, "%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (geteuid() == 0 && stat(dir.data, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) {
		err_set(err, CL_EIO, "chown %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (fd_write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0) {
		err_set(err, CL_EIO, "%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, CL_EIO, "%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, file) < 0) {
		err_set(err, CL_EIO, "rename %s: %s", file, strerror(errno));
		goto out;
	}
	/* Without this the rename may still be only in memory. */
	dfd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		err_set(err, CL_EIO, "fsync %s: %s", dir.data, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	defence_mark_saved(d);
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp.data);
	} else if (r < 0) {
		unlink(tmp.data);
	}
	buf_free(&text);
	buf_free(&tmp);
	buf_free(&dir);
	return r;
}
