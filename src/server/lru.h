/*
 * lru.h - an intrusive least-recently-used list: a record embeds a struct
 * lru_node and is found again with LRU_ENTRY. One copy for the defence's
 * client and account tables (defence.c), whose records are moved to the
 * front when used and evicted from the back.
 */
#ifndef CLSMTPD_LRU_H
#define CLSMTPD_LRU_H

#include <stddef.h>

struct lru_node {
	struct lru_node *newer, *older;
};

struct lru {
	struct lru_node *newest, *oldest;
};

#define LRU_ENTRY(node, type, member) ((type *)(void *)((char *)(node) - offsetof(type, member)))

void lru_unlink(struct lru *l, struct lru_node *n);
void lru_front(struct lru *l, struct lru_node *n);
/* Used now: to the front. */
void lru_touch(struct lru *l, struct lru_node *n);

#endif
