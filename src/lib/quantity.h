/*
 * quantity.h — Kubernetes resource quantities ("1Mi", "1.5Gi", "500M", "1e3")
 * as whole bytes.
 *
 * Parsing follows k8s.io/apimachinery resource.ParseQuantity: an optional
 * sign, decimal digits with at most one '.', then one suffix: none, a decimal
 * SI suffix (n u m k M G T P E), a binary SI suffix (Ki Mi Gi Ti Pi Ei) or a
 * decimal exponent (e3, E-2, e+6). A value that is not a whole number of bytes
 * is rounded up, as Quantity.Value() does for storage. Spellings outside the
 * grammar are -EINVAL; well-formed values below zero or above UINT64_MAX are
 * -ERANGE (so callers can say "must be greater than zero" / "too large").
 *
 * Formatting follows Quantity.String(): the canonical form keeps the family
 * of suffix the user wrote (binary, decimal SI, exponent) with the largest
 * suffix that divides the value exactly.
 */
#ifndef CLAIMFS_QUANTITY_H
#define CLAIMFS_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

/* Longest text quantity_format writes, NUL included ("18446744073709551615" + suffix). */
#define QUANTITY_TEXT_MAX 32
/* Longest input quantity_parse accepts (Kubernetes has no limit; we bound the work). */
#define QUANTITY_INPUT_MAX 128

enum quantity_format {
	QUANTITY_DECIMAL_SI = 0,   /* "1500M", "1k", "123" */
	QUANTITY_BINARY_SI,        /* "1Mi", "1536Mi" */
	QUANTITY_DECIMAL_EXPONENT, /* "1e3", "1500e6" */
	QUANTITY_AUTO,             /* formatting only: binary if exact, else decimal SI */
};

/* Parse text into bytes (rounded up) and the family of suffix it used
 * (ret_format may be NULL). -EINVAL: malformed; -ERANGE: negative or too big. */
int quantity_parse(const char *text, uint64_t *ret_bytes, enum quantity_format *ret_format);

/* Write the canonical form of bytes in the given family to buf. Returns the
 * length written (without NUL) or -ERANGE if size is too small. */
int quantity_format(uint64_t bytes, enum quantity_format format, char *buf, size_t size);

#endif
