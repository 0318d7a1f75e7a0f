/*
 * test_doctor_probe.c - the core pieces the doctor adds: classified TCP
 * connects (tcp_probe: errno classes, open and refused on loopback), the
 * certificate verdict classes (tls_verify_classify), and the SMTP probe
 * dialogue (smtp_probe) against a canned server on a socketpair.
 */
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "check.h"
#include "testutil.h"
#include "engine/smtp_probe.h"
#include "net/tcp_probe.h"
#include "base/timeout.h"

TEST(test_tcp_probe_classifies_errno)
{
	CHECK_INT(tcp_probe_classify_errno(0), TCP_PROBE_OPEN);
	CHECK_INT(tcp_probe_classify_errno(ECONNREFUSED), TCP_PROBE_REFUSED);
	CHECK_INT(tcp_probe_classify_errno(ETIMEDOUT), TCP_PROBE_FILTERED);
	CHECK_INT(tcp_probe_classify_errno(EHOSTUNREACH), TCP_PROBE_UNREACHABLE);
	CHECK_INT(tcp_probe_classify_errno(ENETUNREACH), TCP_PROBE_UNREACHABLE);
	CHECK_INT(tcp_probe_classify_errno(EACCES), TCP_PROBE_UNREACHABLE);
	CHECK_INT(tcp_probe_classify_errno(EMFILE), TCP_PROBE_ERROR);
	CHECK_STR(tcp_probe_state_name(TCP_PROBE_FILTERED), "filtered");
}

TEST(test_tcp_probe_open_and_refused_on_loopback)
{
	struct tcp_probe_result r;
	struct cl_err e;
	char port[8];
	int p = 0, lfd = test_listener(&p);

	CHECK(lfd >= 0);
	snprintf(port, sizeof(port), "%d", p);
	CHECK_INT(tcp_probe_connect("127.0.0.1", port, AF_INET, timeout_now_ms() + 5000, &r, &e),
	          0);
	CHECK_INT(r.state, TCP_PROBE_OPEN);
	CHECK(r.fd >= 0);
	CHECK_STR(r.addr, "127.0.0.1");
	close(r.fd);
	/* The same port with nothing listening any more: RST. */
	close(lfd);
	CHECK_INT(tcp_probe_connect("127.0.0.1", port, AF_INET, timeout_now_ms() + 5000, &r, &e),
	          0);
	CHECK_INT(r.state, TCP_PROBE_REFUSED);
	CHECK_INT(r.fd, -1);
	CHECK_INT(r.sys_errno, ECONNREFUSED);
}

TEST(test_tls_verify_classes)
{
	CHECK_INT(tls_verify_classify(X509_V_OK), TLS_VERIFY_OK);
	CHECK_INT(tls_verify_classify(X509_V_ERR_CERT_HAS_EXPIRED), TLS_VERIFY_EXPIRED);
	CHECK_INT(tls_verify_classify(X509_V_ERR_CERT_NOT_YET_VALID), TLS_VERIFY_NOT_YET_VALID);
	CHECK_INT(tls_verify_classify(X509_V_ERR_HOSTNAME_MISMATCH), TLS_VERIFY_WRONG_NAME);
	CHECK_INT(tls_verify_classify(X509_V_ERR_IP_ADDRESS_MISMATCH), TLS_VERIFY_WRONG_NAME);
	CHECK_INT(tls_verify_classify(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
	          TLS_VERIFY_UNTRUSTED);
	CHECK_INT(tls_verify_classify(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
	          TLS_VERIFY_UNTRUSTED);
	CHECK_STR(tls_verify_class_name(TLS_VERIFY_WRONG_NAME), "wrong-name");
	CHECK_STR(tls_verify_class_name(TLS_VERIFY_EXPIRED), "expired");
	CHECK_STR(tls_verify_class_name(TLS_VERIFY_UNTRUSTED), "untrusted");
}

/* A canned server: for each line it reads, the next reply is written. */
struct canned {
	int fd;
	const char *greeting;
	const char *const *replies; /* NULL-terminated, one per client line */
	char got[2048];             /* what the client wrote */
	size_t ngot;
};

static void *canned_run(void *arg)
{
	struct canned *c = arg;
	char ch;
	size_t i = 0;

	if (write(c->fd, c->greeting, strlen(c->greeting)) < 0)
		return NULL;
	while (c->replies[i] && read(c->fd, &ch, 1) == 1) {
		if (c->ngot + 1 < sizeof(c->got))
			c->got[c->ngot++] = ch;
		if (ch != '\n')
			continue;
		if (write(c->fd, c->replies[i], strlen(c->replies[i])) < 0)
			break;
		i++;
	}
	close(c->fd);
	return NULL;
}

static int run_probe(struct canned *c, struct smtp_probe_result *r, struct cl_err *e)
{
	struct smtp_probe_params p;
	pthread_t t;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -2;
	c->fd = sv[1];
	pthread_create(&t, NULL, canned_run, c);
	memset(&p, 0, sizeof(p));
	p.host = "mail.example.net";
	p.ehlo_domain = "client.example.org";
	p.deadline_ms = timeout_now_ms() + 10000;
	rc = smtp_probe_run(conn_from_fd(sv[0]), &p, r, e);
	pthread_join(t, NULL);
	return rc;
}

TEST(test_smtp_probe_reads_greeting_and_capabilities_then_quits)
{
	static const char *const replies[] = {
	    "250-mail.example.net\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH=LOGIN\r\n"
	    "250 AUTH PLAIN LOGIN\r\n",
	    "221 bye\r\n", NULL};
	struct canned c = {0, "220 mail.example.net ESMTP\r\n", replies, {0}, 0};
	struct smtp_probe_result r;
	struct cl_err e;

	CHECK_INT(run_probe(&c, &r, &e), 0);
	CHECK_INT(r.completed, 1);
	CHECK_INT(r.greeting_code, 220);
	CHECK_STR(r.greeting, "mail.example.net ESMTP");
	CHECK_INT(r.clear.code, 250);
	CHECK_INT(r.clear.esmtp, 1);
	CHECK(r.clear.caps.flags & CAP_AUTH);
	CHECK_STR(r.clear.caps.auth, "LOGIN PLAIN");
	CHECK(r.clear.caps.flags & CAP_PIPELINING);
	CHECK_INT(r.clear.caps.size_max, 1000);
	CHECK_INT(r.tls_tried, 0);
	CHECK_INT(r.tls.code, 0);
	CHECK(strncmp(c.got, "EHLO client.example.org\r\nQUIT\r\n", c.ngot) == 0);
	CHECK_INT(c.ngot, 31);
}

TEST(test_smtp_probe_falls_back_to_helo)
{
	static const char *const replies[] = {"502 5.5.1 what?\r\n", "250 old.example.net\r\n",
	                                      "221 bye\r\n", NULL};
	struct canned c = {0, "220 old.example.net\r\n", replies, {0}, 0};
	struct smtp_probe_result r;
	struct cl_err e;

	CHECK_INT(run_probe(&c, &r, &e), 0);
	CHECK_INT(r.clear.code, 250);
	CHECK_INT(r.clear.esmtp, 0);
	CHECK(strstr(c.got, "HELO client.example.org\r\n") != NULL);
}

TEST(test_smtp_probe_reports_a_refusing_greeting)
{
	static const char *const replies[] = {"221 bye\r\n", NULL};
	struct canned c = {0, "554 5.7.1 no service for you\r\n", replies, {0}, 0};
	struct smtp_probe_result r;
	struct cl_err e;

	CHECK_INT(run_probe(&c, &r, &e), -1);
	CHECK_INT(r.greeting_code, 554);
	CHECK_INT(r.completed, 0);
	CHECK(strstr(e.msg, "greeting") != NULL);
	CHECK_INT(e.cls, CL_EUNAVAIL);
}

TEST(test_smtp_probe_names_a_refused_starttls)
{
	static const char *const replies[] = {"250-mail.example.net\r\n250 STARTTLS\r\n",
	                                      "454 4.7.0 TLS not available\r\n", "221 bye\r\n",
	                                      NULL};
	struct canned c = {0, "220 mail.example.net ESMTP\r\n", replies, {0}, 0};
	struct smtp_probe_result r;
	struct cl_err e;

	CHECK_INT(run_probe(&c, &r, &e), -1);
	CHECK_INT(r.starttls_code, 454);
	CHECK_INT(r.tls_tried, 0);
	CHECK(strstr(e.msg, "STARTTLS") != NULL);
	CHECK_INT(e.cls, CL_ETEMP);
}

int main(void)
{
	RUN(test_tcp_probe_classifies_errno);
	RUN(test_tcp_probe_open_and_refused_on_loopback);
	RUN(test_tls_verify_classes);
	RUN(test_smtp_probe_reads_greeting_and_capabilities_then_quits);
	RUN(test_smtp_probe_falls_back_to_helo);
	RUN(test_smtp_probe_reports_a_refusing_greeting);
	RUN(test_smtp_probe_names_a_refused_starttls);
	CHECK_DONE();
}
