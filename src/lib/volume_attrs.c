/*
 * volume_attrs.c — parsing the mutable volume attributes (volume_attrs.h).
 * Pure functions, no state. Invariant: what parses here is exactly what the
 * store can hold (a limit in 1..2^62, a class of the table).
 */
#include "volume_attrs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum volume_attrs_io_class io_class;
} volume_attrs_io_classes[] = {
	{ "standard", VOLUME_ATTRS_IO_STANDARD },
	{ "durable", VOLUME_ATTRS_IO_DURABLE },
};

int volume_attrs_parse_inode_limit(const char *text, uint64_t *ret_limit)
{
	unsigned long long v;
	char *end = NULL;

	/* strtoull would take a sign, blanks and an empty string. */
	if (text == NULL || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > VOLUME_ATTRS_INODE_LIMIT_MAX)
		return -EINVAL;
	*ret_limit = v;
	return 0;
}

int volume_attrs_parse_io_class(const char *text, enum volume_attrs_io_class *ret_class)
{
	if (text == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(volume_attrs_io_classes) / sizeof(volume_attrs_io_classes[0]); i++) {
		if (strcmp(text, volume_attrs_io_classes[i].name) == 0) {
			*ret_class = volume_attrs_io_classes[i].io_class;
			return 0;
		}
	}
	return -EINVAL;
}
