/*
 * fuzz_claim.c — libFuzzer target for the JSON claim body decoder
 * (claim_from_request) and the stored-object round trip.
 *
 * Properties: the decoder answers 0, -EBADMSG with a message, or -EINVAL
 * with at least one field error; an accepted claim has a valid name (or
 * generateName), at least one access mode and a storage request; once bound,
 * claim_to_json(claim_from_stored(claim_to_json(c))) == claim_to_json(c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "fuzz.h"
#include "names.h"

/* Bind an accepted claim and check that the stored form reads back the same. */
static void fuzz_claim_round_trip(struct claim *c)
{
	struct claim back;
	json_t *first, *second;

	if (claim_bind(c, "0b7c9a3e-1d2f-4c5b-9a8e-7f6d5c4b3a21", 1763700000) != 0)
		fuzz_fail("claim_bind failed on an accepted claim");
	first = claim_to_json(c);
	if (!first)
		return; /* out of memory */
	claim_init(&back);
	if (claim_from_stored(first, &back) != 0) {
		char *text = json_dumps(first, JSON_COMPACT);
		fuzz_fail("claim_from_stored refuses claim_to_json output: %.300s", text ? text : "?");
	}
	second = claim_to_json(&back);
	if (second && !json_equal(first, second)) {
		char *a = json_dumps(first, JSON_COMPACT | JSON_SORT_KEYS);
		char *b = json_dumps(second, JSON_COMPACT | JSON_SORT_KEYS);
		fuzz_fail("stored round trip differs:\n%.600s\n%.600s", a ? a : "?", b ? b : "?");
	}
	json_decref(second);
	json_decref(first);
	claim_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct names_field_errors *errs = calloc(1, sizeof(*errs));
	char bad[512] = "";
	struct claim c;
	json_error_t jerr;
	json_t *body;
	int r;

	if (!errs)
		return 0;
	body = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr); /* as api.c decodes */
	if (!body) {
		free(errs);
		return 0;
	}
	claim_init(&c);
	r = claim_from_request(body, "default", "x7k2q", &c, bad, sizeof(bad), errs);
	if (r == -EBADMSG && bad[0] == '\0')
		fuzz_fail("-EBADMSG without a message");
	else if (r == -EINVAL && errs->count == 0)
		fuzz_fail("-EINVAL without a field error");
	else if (r != 0 && r != -EBADMSG && r != -EINVAL && r != -ENOMEM)
		fuzz_fail("claim_from_request returned %d", r);
	if (r == 0) {
		char msg[512];
		if (names_check_subdomain(c.name, msg, sizeof(msg)) != 0)
			fuzz_fail("accepted claim named \"%.64s\": %s", c.name, msg);
		if (strcmp(c.namespace_name, "default") != 0)
			fuzz_fail("accepted claim in namespace \"%.64s\"", c.namespace_name);
		if (c.access_modes == 0)
			fuzz_fail("accepted claim without access modes");
		fuzz_claim_round_trip(&c);
	}
	claim_release(&c);
	json_decref(body);
	free(errs);
	return 0;
}
