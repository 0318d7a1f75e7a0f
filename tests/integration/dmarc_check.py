#!/usr/bin/python3
"""dmarc_check.py - what a receiver concludes of a message: DKIM and DMARC
evaluated by python3-authheaders (dkimpy underneath) with the keys and the
DMARC record from the DNS (the test's dnsmasq). Prints the
Authentication-Results field it would add.
  dmarc_check.py MESSAGE"""
import sys

import authheaders

msg = open(sys.argv[1], "rb").read()
print(authheaders.authenticate_message(msg, "mx.receiver.test", spf=False, dkim=True,
                                       dmarc=True))
