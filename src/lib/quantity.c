/*
 * quantity.c — Kubernetes resource quantities <-> whole bytes.
 *
 * Owns: the grammar of quantities and their canonical spelling.
 *
 * Invariants: parsing never overflows and never loses precision before the
 * final rounding: the mantissa is kept as a decimal digit string (at most
 * QUANTITY_INPUT_MAX digits), multiplied by 1024 once per binary suffix step,
 * then shifted by the decimal exponent, rounding up what falls off the end
 * (Quantity.Value() semantics). Only the result must fit in uint64_t.
 */
#include "quantity.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Room for the mantissa digits plus the growth of six multiplications by 1024. */
#define QUANTITY_DIGITS_MAX (QUANTITY_INPUT_MAX + 32)
/* Decimal exponents beyond this are clamped: the value overflows or rounds to 1 anyway. */
#define QUANTITY_EXPONENT_CLAMP 1000

/* A non-negative decimal number as digits, most significant first, no leading zeros. */
struct quantity_digits {
	unsigned char digit[QUANTITY_DIGITS_MAX];
	size_t len;
};

/* One suffix of the grammar: how many times to multiply by 1024, then the power of ten. */
struct quantity_suffix {
	const char *text;
	unsigned binary_steps;
	int decimal_exponent;
};

static const struct quantity_suffix quantity_suffixes[] = {
	{ "", 0, 0 },	   { "n", 0, -9 },  { "u", 0, -6 },  { "m", 0, -3 },  { "k", 0, 3 },
	{ "M", 0, 6 },	   { "G", 0, 9 },   { "T", 0, 12 },  { "P", 0, 15 },  { "E", 0, 18 },
	{ "Ki", 1, 0 },	   { "Mi", 2, 0 },  { "Gi", 3, 0 },  { "Ti", 4, 0 },  { "Pi", 5, 0 },
	{ "Ei", 6, 0 },
};

static const char *const quantity_binary_names[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
static const char *const quantity_decimal_names[] = { "", "k", "M", "G", "T", "P", "E" };

/* Multiply d by a small factor in place. Fails if the result has no room. */
static int quantity_digits_multiply(struct quantity_digits *d, unsigned factor)
{
	unsigned char out[QUANTITY_DIGITS_MAX];
	size_t n = 0;
	unsigned carry = 0;

	/* Work from the least significant digit, writing out[] reversed. */
	for (size_t i = d->len; i-- > 0;) {
		unsigned v = d->digit[i] * factor + carry;
		out[n++] = (unsigned char)(v % 10);
		carry = v / 10;
	}
	while (carry > 0) {
		if (n >= sizeof(out))
			return -ERANGE;
		out[n++] = (unsigned char)(carry % 10);
		carry /= 10;
	}
	while (n > 0 && out[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		d->digit[i] = out[n - 1 - i];
	d->len = n;
	return 0;
}

/* Convert d * 10^shift, rounded up, to uint64_t. -ERANGE on overflow. */
static int quantity_digits_value(const struct quantity_digits *d, int shift, uint64_t *ret_value)
{
	uint64_t value = 0;
	size_t keep = d->len;
	bool round_up = false;

	if (d->len == 0) {
		*ret_value = 0;
		return 0;
	}
	if (shift < 0) {
		size_t drop = (size_t)-(long)shift;
		if (drop >= d->len) {
			/* Everything is a fraction of one byte and d is non-zero. */
			*ret_value = 1;
			return 0;
		}
		keep = d->len - drop;
		for (size_t i = keep; i < d->len; i++)
			if (d->digit[i] != 0)
				round_up = true;
	} else if ((size_t)shift + d->len > 20) {
		return -ERANGE; /* UINT64_MAX has 20 digits */
	}
	for (size_t i = 0; i < keep; i++)
		if (__builtin_mul_overflow(value, 10, &value) ||
		    __builtin_add_overflow(value, d->digit[i], &value))
			return -ERANGE;
	for (int i = 0; i < shift; i++)
		if (__builtin_mul_overflow(value, 10, &value))
			return -ERANGE;
	if (round_up && __builtin_add_overflow(value, 1, &value))
		return -ERANGE;
	*ret_value = value;
	return 0;
}

/* Parse an exponent suffix "e3", "E-2", "e+6" into a clamped power of ten. */
static int quantity_parse_exponent(const char *text, int *ret_exponent)
{
	const char *p = text + 1; /* skip 'e' / 'E' */
	bool negative = false;
	long exponent = 0;

	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	if (*p == '\0')
		return -EINVAL;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (exponent < QUANTITY_EXPONENT_CLAMP)
			exponent = exponent * 10 + (*p - '0');
	}
	if (exponent > QUANTITY_EXPONENT_CLAMP)
		exponent = QUANTITY_EXPONENT_CLAMP;
	*ret_exponent = (int)(negative ? -exponent : exponent);
	return 0;
}

/* Interpret the suffix text: binary steps, decimal exponent and the format family. */
static int quantity_parse_suffix(const char *text, unsigned *ret_binary_steps,
				 int *ret_decimal_exponent, enum quantity_format *ret_format)
{
	for (size_t i = 0; i < sizeof(quantity_suffixes) / sizeof(quantity_suffixes[0]); i++) {
		if (strcmp(text, quantity_suffixes[i].text) != 0)
			continue;
		*ret_binary_steps = quantity_suffixes[i].binary_steps;
		*ret_decimal_exponent = quantity_suffixes[i].decimal_exponent;
		*ret_format = quantity_suffixes[i].binary_steps > 0 ? QUANTITY_BINARY_SI
								    : QUANTITY_DECIMAL_SI;
		return 0;
	}
	if ((text[0] == 'e' || text[0] == 'E') && text[1] != '\0') {
		*ret_binary_steps = 0;
		*ret_format = QUANTITY_DECIMAL_EXPONENT;
		return quantity_parse_exponent(text, ret_decimal_exponent);
	}
	return -EINVAL;
}

int quantity_parse(const char *text, uint64_t *ret_bytes, enum quantity_format *ret_format)
{
	struct quantity_digits d = { .len = 0 };
	enum quantity_format format;
	const char *p = text;
	unsigned binary_steps;
	int decimal_exponent, fraction_digits = 0, r;
	bool seen_digit = false, seen_dot = false, negative = false;
	uint64_t bytes;

	if (text == NULL || strnlen(text, QUANTITY_INPUT_MAX + 1) > QUANTITY_INPUT_MAX)
		return -EINVAL;
	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	/* The mantissa: digits with at most one '.', at least one digit. */
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (seen_dot)
				return -EINVAL;
			seen_dot = true;
			continue;
		}
		seen_digit = true;
		if (seen_dot)
			fraction_digits++;
		if (d.len == 0 && *p == '0')
			continue; /* leading zero */
		d.digit[d.len++] = (unsigned char)(*p - '0');
	}
	if (!seen_digit)
		return -EINVAL;
	r = quantity_parse_suffix(p, &binary_steps, &decimal_exponent, &format);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < binary_steps; i++) {
		r = quantity_digits_multiply(&d, 1024);
		if (r < 0)
			return r;
	}
	r = quantity_digits_value(&d, decimal_exponent - fraction_digits, &bytes);
	if (r < 0)
		return r;
	if (negative && bytes > 0)
		return -ERANGE; /* "-0" is zero, as in Kubernetes */
	*ret_bytes = bytes;
	if (ret_format != NULL)
		*ret_format = format;
	return 0;
}

/* Largest power base^i (i <= max_power) dividing value exactly; returns i. */
static unsigned quantity_largest_power(uint64_t value, uint64_t base, unsigned max_power)
{
	unsigned i = 0;

	if (value == 0)
		return 0;
	while (i < max_power && value % base == 0) {
		value /= base;
		i++;
	}
	return i;
}

/* snprintf into buf, mapping truncation to -ERANGE. */
static int quantity_print(char *buf, size_t size, uint64_t number, const char *suffix)
{
	int n = snprintf(buf, size, "%llu%s", (unsigned long long)number, suffix);

	if (n < 0 || (size_t)n >= size)
		return -ERANGE;
	return n;
}

int quantity_format(uint64_t bytes, enum quantity_format format, char *buf, size_t size)
{
	uint64_t number = bytes;
	unsigned power;

	if (format == QUANTITY_AUTO)
		format = bytes >= 1024 && bytes % 1024 == 0 ? QUANTITY_BINARY_SI : QUANTITY_DECIMAL_SI;
	/* Like Quantity.String(): small binary values read better as plain
	 * numbers, and a value no binary suffix states exactly (a fraction of
	 * Gi rounded up to whole bytes) is written in decimal SI, so that the
	 * text parses back to the same value and format. */
	if (format == QUANTITY_BINARY_SI && (bytes < 1024 || bytes % 1024 != 0))
		format = QUANTITY_DECIMAL_SI;
	switch (format) {
	case QUANTITY_BINARY_SI:
		power = quantity_largest_power(bytes, 1024, 6);
		for (unsigned i = 0; i < power; i++)
			number /= 1024;
		return quantity_print(buf, size, number, quantity_binary_names[power]);
	case QUANTITY_DECIMAL_EXPONENT: {
		char exponent[8] = "";

		power = quantity_largest_power(bytes, 1000, 6);
		for (unsigned i = 0; i < power; i++)
			number /= 1000;
		if (power > 0)
			snprintf(exponent, sizeof(exponent), "e%u", power * 3);
		return quantity_print(buf, size, number, exponent);
	}
	case QUANTITY_DECIMAL_SI:
	case QUANTITY_AUTO:
	default:
		power = quantity_largest_power(bytes, 1000, 6);
		for (unsigned i = 0; i < power; i++)
			number /= 1000;
		return quantity_print(buf, size, number, quantity_decimal_names[power]);
	}
}
