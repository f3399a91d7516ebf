/*
 * test_capacity.c — the capacity policy's arithmetic (model_capacity_fits):
 * promised + request <= overcommit x takeable, exact in bytes at ratio 1,
 * no wrap-around for requests near 16 EiB, ratios below 1 treated as 1.
 */
#include <stdint.h>

#include "model_internal.h"
#include "unit.h"

#define MI (1ull << 20)

struct fits_case {
	uint64_t promised, takeable;
	double overcommit;
	uint64_t request;
	bool fits;
};

static const struct fits_case fits_cases[] = {
	/* ratio 1: exact to the byte */
	{ 0, 100 * MI, 1.0, 100 * MI, true },
	{ 0, 100 * MI, 1.0, 100 * MI + 1, false },
	{ 60 * MI, 100 * MI, 1.0, 40 * MI, true },
	{ 60 * MI, 100 * MI, 1.0, 40 * MI + 1, false },
	/* a full disk takes nothing, not even one byte */
	{ 0, 0, 1.0, 1, false },
	/* thin provisioning */
	{ 0, 100 * MI, 4.0, 400 * MI, true },
	{ 0, 100 * MI, 4.0, 400 * MI + 1, false },
	{ 100 * MI, 100 * MI, 1.5, 50 * MI, true },
	{ 100 * MI, 100 * MI, 1.5, 51 * MI, false },
	/* 8Ei and 15Ei requests never wrap around into "fits" */
	{ 0, 250ull << 30, 1.0, 8ull << 60, false },
	{ UINT64_MAX, 250ull << 30, 1000.0, 1, false },
	{ 1ull << 63, 1ull << 40, 1000.0, 15ull << 60, false },
	{ UINT64_MAX - 5, UINT64_MAX, 1.0, 10, false },
	/* a ratio below 1 (never set by claimfsd) counts as 1 */
	{ 0, 100 * MI, 0.0, 100 * MI, true },
	{ 0, 100 * MI, 0.5, 100 * MI, true },
};

START_TEST(test_fits)
{
	const struct fits_case *c = &fits_cases[_i];

	ck_assert_msg(model_capacity_fits(c->promised, c->takeable, c->overcommit, c->request) ==
			      c->fits,
		      "case %d: promised %llu takeable %llu x%g request %llu", _i,
		      (unsigned long long)c->promised, (unsigned long long)c->takeable,
		      c->overcommit, (unsigned long long)c->request);
}
END_TEST

/* Check suite of the capacity policy's arithmetic. */
static Suite *capacity_suite(void)
{
	Suite *s = suite_create("capacity");
	TCase *tc = tcase_create("fits");

	tcase_add_loop_test(tc, test_fits, 0, sizeof(fits_cases) / sizeof(fits_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(capacity_suite());
}
