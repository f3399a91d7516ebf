/*
 * volume_attrs.c — parsing the mutable volume attributes (volume_attrs.h).
 * Pure functions, no state. Invariant: what parses here is exactly what the
 * store can hold (a limit in 1..2^62, a class of the table).
 */
#include "volume_attrs.h"

#include <errno.h>
#include <stdio.h>
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

int volume_attrs_parse_param(const char *key, const char *value, struct volume_attrs *attrs,
			     char *why, size_t why_size)
{
	enum volume_attrs_io_class io_class;
	uint64_t limit;

	if (strcmp(key, VOLUME_ATTRS_PARAM_INODE_LIMIT) == 0) {
		if (volume_attrs_parse_inode_limit(value, &limit) < 0) {
			snprintf(why, why_size,
				 "mutable parameter %s=\"%s\": must be a whole number of inodes "
				 "from 1 to %llu",
				 key, value, (unsigned long long)VOLUME_ATTRS_INODE_LIMIT_MAX);
			return -EINVAL;
		}
		attrs->inode_limit = limit;
		attrs->inode_limit_set = true;
		return 0;
	}
	if (strcmp(key, VOLUME_ATTRS_PARAM_IO_CLASS) == 0) {
		if (volume_attrs_parse_io_class(value, &io_class) < 0) {
			snprintf(why, why_size,
				 "mutable parameter %s=\"%s\": must be \"standard\" or \"durable\"",
				 key, value);
			return -EINVAL;
		}
		attrs->io_class = io_class;
		attrs->io_class_set = true;
		return 0;
	}
	snprintf(why, why_size, "unknown mutable parameter \"%s\": claimfs takes %s and %s", key,
		 VOLUME_ATTRS_PARAM_INODE_LIMIT, VOLUME_ATTRS_PARAM_IO_CLASS);
	return -ENOENT;
}
