/*
 * accounts.h - apply an account of the configuration file (config.h) to a
 * command line: which account (-a NAME, else the one whose "from" is the
 * sender, else the default), then every value the command line left unset.
 * The command line always wins.
 */
#ifndef CLSMTPC_ACCOUNTS_H
#define CLSMTPC_ACCOUNTS_H

#include "config.h"
#include "base/err.h"
#include "options.h"

/* Load the configuration (o->config_file or the search path) into cfg,
 * choose the account for sender (NULL: o's -N address or -F) and apply it
 * to o. Nothing is read when -M is given without -a or -C: a seed command
 * line behaves as it always did. *used is the account applied, or NULL.
 * cfg must outlive o (o points into it); free it with config_free. */
int accounts_resolve(struct client_opts *o, const char *sender, struct config *cfg,
                     const struct config_account **used, struct cl_err *err);

/* Fill o's unset fields from a. A host written "msa.%{domain}" takes the
 * domain of the sender (o's -F, else the account's from). */
int accounts_apply(struct config_account *a, struct client_opts *o, struct cl_err *err);

#endif
