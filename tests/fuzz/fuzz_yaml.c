/*
 * fuzz_yaml.c — libFuzzer target for YAML request bodies (yaml_body_parse,
 * libyaml events to jansson values).
 *
 * Properties: 0 with a JSON value that jansson can serialise, or a negative
 * errno with a message; never both, never neither.
 */
#include <jansson.h>
#include <stdlib.h>

#include "fuzz.h"
#include "yaml_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *value = NULL;
	char msg[512] = "";
	int r = yaml_body_parse((const char *)data, size, &value, msg, sizeof(msg));

	if (r == 0) {
		char *text;

		if (!value)
			fuzz_fail("yaml_body_parse returned 0 without a value");
		text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!text)
			fuzz_fail("yaml_body_parse made a value jansson cannot serialise");
		free(text);
		json_decref(value);
	} else if (msg[0] == '\0') {
		fuzz_fail("yaml_body_parse failed (%d) without a message", r);
	}
	return 0;
}
