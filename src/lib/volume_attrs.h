/*
 * volume_attrs.h — the mutable volume attributes (CSI MODIFY_VOLUME) as text:
 * the parameter names the CSI driver accepts, the claim annotations the
 * daemon stores them in, and their one parser, shared so the driver and the
 * daemon accept exactly the same values.
 */
#ifndef CLAIMFS_VOLUME_ATTRS_H
#define CLAIMFS_VOLUME_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CSI mutable_parameters keys (VolumeAttributesClass.parameters). */
#define VOLUME_ATTRS_PARAM_INODE_LIMIT "inodeLimit"
#define VOLUME_ATTRS_PARAM_IO_CLASS "ioClass"
/* The claim annotations that carry them to claimfsd. */
#define VOLUME_ATTRS_ANNOTATION_INODE_LIMIT "claimfs.io/inode-limit"
#define VOLUME_ATTRS_ANNOTATION_IO_CLASS "claimfs.io/io-class"
/* The largest explicit inode limit. */
#define VOLUME_ATTRS_INODE_LIMIT_MAX (UINT64_C(1) << 62)

/* I/O classes; the values are the store's (enum store_io_class). */
enum volume_attrs_io_class {
	VOLUME_ATTRS_IO_STANDARD = 0,
	VOLUME_ATTRS_IO_DURABLE = 1,
};

/* A set of attributes: each one either given (its *_set) or left as it is. */
struct volume_attrs {
	bool inode_limit_set;
	bool io_class_set;
	uint64_t inode_limit;
	enum volume_attrs_io_class io_class;
};

/* One mutable parameter (key = value, as a VolumeAttributesClass or CSI
 * mutable_parameters give it) into attrs. -EINVAL for a bad value, -ENOENT
 * for a key claimfs does not take; why says so (attrs untouched then). */
int volume_attrs_parse_param(const char *key, const char *value, struct volume_attrs *attrs,
			     char *why, size_t why_size);

/* A decimal count from 1 to VOLUME_ATTRS_INODE_LIMIT_MAX; -EINVAL otherwise. */
int volume_attrs_parse_inode_limit(const char *text, uint64_t *ret_limit);
/* "standard" or "durable"; -EINVAL otherwise. */
int volume_attrs_parse_io_class(const char *text, enum volume_attrs_io_class *ret_class);

#endif
