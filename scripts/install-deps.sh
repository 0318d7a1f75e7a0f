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
"

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
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
