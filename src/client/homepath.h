/*
 * homepath.h - file names in messages as the user typed them: $HOME/x is
 * shown as ~/x, so that "run: chmod 600 ~/.clsmtpc-pass" reads naturally.
 */
#ifndef CLSMTPC_HOMEPATH_H
#define CLSMTPC_HOMEPATH_H

#include "base/buf.h"

void homepath_show(const char *path, struct buf *out);

#endif
