/* test_lru.c - the intrusive LRU list of the defence's tables: order after
 * inserts, touches and unlinks, the entry found from its node, and an
 * empty list after everything is unlinked. */
#include "check.h"
#include "lru.h"

struct item {
	int id;
	struct lru_node node;
};

static void order(const struct lru *l, char *out)
{
	const struct lru_node *n;

	for (n = l->newest; n != NULL; n = n->older)
		*out++ = (char)('0' + LRU_ENTRY(n, const struct item, node)->id);
	*out = '\0';
}

TEST(test_lru_front_touch_unlink_keep_the_order)
{
	struct item it[4] = {{0, {0, 0}}, {1, {0, 0}}, {2, {0, 0}}, {3, {0, 0}}};
	struct lru l = {NULL, NULL};
	char o[8];
	int i;

	for (i = 0; i < 4; i++)
		lru_front(&l, &it[i].node);
	order(&l, o);
	CHECK_STR(o, "3210");
	CHECK_INT(LRU_ENTRY(l.oldest, struct item, node)->id, 0);
	lru_touch(&l, &it[0].node);
	order(&l, o);
	CHECK_STR(o, "0321");
	lru_unlink(&l, &it[2].node); /* from the middle */
	order(&l, o);
	CHECK_STR(o, "031");
	lru_unlink(&l, &it[1].node); /* the oldest */
	CHECK_INT(LRU_ENTRY(l.oldest, struct item, node)->id, 3);
	lru_unlink(&l, &it[0].node); /* the newest */
	lru_unlink(&l, &it[3].node);
	CHECK(l.newest == NULL && l.oldest == NULL);
}

int main(void)
{
	RUN(test_lru_front_touch_unlink_keep_the_order);
	CHECK_DONE();
}
