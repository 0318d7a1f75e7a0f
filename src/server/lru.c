/*
 * lru.c - the intrusive LRU list (lru.h).
 */
#include "lru.h"

void lru_unlink(struct lru *l, struct lru_node *n)
{
	if (n->newer)
		n->newer->older = n->older;
	else
		l->newest = n->older;
	if (n->older)
		n->older->newer = n->newer;
	else
		l->oldest = n->newer;
	n->newer = n->older = NULL;
}

void lru_front(struct lru *l, struct lru_node *n)
{
	n->older = l->newest;
	n->newer = NULL;
	if (l->newest)
		l->newest->newer = n;
	l->newest = n;
	if (l->oldest == NULL)
		l->oldest = n;
}

void lru_touch(struct lru *l, struct lru_node *n)
{
	lru_unlink(l, n);
	lru_front(l, n);
}
