/*
 * fuzz_quantity.c — libFuzzer target for quantity_parse/quantity_format.
 *
 * Properties: a parse that succeeds formats in every family (or says
 * -ERANGE), and every formatted text parses back to the same byte count;
 * failures are only -EINVAL or -ERANGE; input longer than
 * QUANTITY_INPUT_MAX is refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum quantity_format families[] = {
		QUANTITY_DECIMAL_SI, QUANTITY_BINARY_SI, QUANTITY_DECIMAL_EXPONENT, QUANTITY_AUTO,
	};
	char *text = fuzz_strndup(data, size);
	enum quantity_format format;
	uint64_t bytes = 0;
	int r;

	if (!text)
		return 0;
	r = quantity_parse(text, &bytes, &format);
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		fuzz_fail("quantity_parse(\"%.64s\") returned %d", text, r);
	if (r == 0 && strlen(text) > QUANTITY_INPUT_MAX)
		fuzz_fail("quantity_parse accepted %zu characters", strlen(text));
	if (r == 0) {
		for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
			char out[QUANTITY_TEXT_MAX];
			uint64_t again = 0;
			int n = quantity_format(bytes, families[i], out, sizeof(out));

			if (n == -ERANGE)
				continue;
			if (n < 0 || (size_t)n >= sizeof(out) || strlen(out) != (size_t)n)
				fuzz_fail("quantity_format(%llu, %d) returned %d",
					  (unsigned long long)bytes, (int)families[i], n);
			if (quantity_parse(out, &again, NULL) != 0 || again != bytes)
				fuzz_fail("\"%.64s\" = %llu bytes formats as \"%s\" which parses as %llu",
					  text, (unsigned long long)bytes, out, (unsigned long long)again);
		}
		/* A tiny buffer must be refused, not overrun. */
		char small[2];
		if (quantity_format(bytes, format, small, sizeof(small)) >= (int)sizeof(small))
			fuzz_fail("quantity_format claims to fit a long text in 2 bytes");
	}
	free(text);
	return 0;
}
