/*
 * yaml_body.h — request bodies in YAML (libyaml) decoded to the JSON tree the
 * rest of the API works on, the way sigs.k8s.io/yaml (go-yaml v2 + JSON)
 * decodes them for the API server.
 *
 * Scalars: plain null/~/empty -> null; true/false/yes/no/on/off (any case
 * spelling YAML 1.1 allows) -> booleans; integers (decimal, 0x hex, 0o/0
 * octal) and floats -> numbers; quoted or block scalars and anything else ->
 * strings. Anchors and aliases are resolved; merge keys (<<) are not
 * supported. Mapping keys must be scalars. One document only (a second
 * document is an error, as the API server expects one object per request).
 */
#ifndef CLAIMFS_YAML_BODY_H
#define CLAIMFS_YAML_BODY_H

#include <jansson.h>
#include <stddef.h>

/* Deepest nesting accepted (hostile input: deeply nested flow sequences). */
#define YAML_BODY_DEPTH_MAX 64

/* Parse text into *ret (a new reference). -EBADMSG with a message in msg
 * when the text is not one YAML document that maps to JSON. */
int yaml_body_parse(const char *text, size_t len, json_t **ret, char *msg, size_t msg_size);

/* Called for each repeated key of a mapping (the later one's 1-based line);
 * a negative return (-ENOMEM) ends the parse with it. */
typedef int (*yaml_body_duplicate_fn)(void *ud, unsigned long line, const char *key);

/* yaml_body_parse, telling on_duplicate (may be NULL) of repeated keys. */
int yaml_body_parse_checked(const char *text, size_t len, yaml_body_duplicate_fn on_duplicate,
			    void *ud, json_t **ret, char *msg, size_t msg_size);

#endif
