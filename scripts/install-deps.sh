#!/bin/sh
# install-deps.sh - install every build and test dependency of clsmtpc from
# Debian packages on a fresh Debian 12 machine. Idempotent: a second run with
# everything present does nothing but check. Needs root (or sudo).
set -eu

PACKAGES="
 build-essential pkg-config clang
 libssl-dev libgsasl-dev libidn2-dev libpsl-dev publicsuffix
 openssl ca-certificates
 postfix sasl2-bin libsasl2-modules libsasl2-modules-db
 swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl msmtp curl
 python3
 iproute2 procps tzdata time systemd
 s-nail git git-email libmailtools-perl php-cli
 nftables dnsmasq-base
 testssl.sh cppcheck clang-tidy
 media-types libgmime-3.0-dev
 dante-server bsd-mailx mutt
 python3-dkim python3-nacl python3-authheaders opendkim opendkim-tools
"
# The Debian packages and their test (make deb, make deb-check): the build
# tools, lintian, systemd-analyze, promtool (from prometheus), fail2ban-regex
# and certbot's openssl are only tools here; their services are not wanted.
PACKAGING="
 debhelper dpkg-dev lintian systemd prometheus fail2ban
"
PACKAGES="$PACKAGES $PACKAGING"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix's postinst asks what kind of mail system this is; our tests run
# their own instances from their own configuration directories, so none.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
# prometheus and fail2ban would start their daemons on a machine without
# systemd (invoke-rc.d): forbid it for this run unless a policy exists.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\n# install-deps.sh: no service starts while it installs\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
fi
rc=0
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$policy" ] && $SUDO rm -f "$policy"
exit $rc
