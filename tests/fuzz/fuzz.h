/*
 * fuzz.h — what every libFuzzer target in tests/fuzz/ defines.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput and checks properties
 * beyond "does not crash" (round trips, invariants of the answer); a broken
 * property calls fuzz_fail(), which aborts so libFuzzer keeps the input.
 * The same files link with fuzz_replay.c (gcc, meson) to replay the seed
 * corpora as a regression test, without clang.
 */
#ifndef CLAIMFS_FUZZ_H
#define CLAIMFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken property and abort. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* data as a NUL-terminated malloc'd copy (embedded NULs kept); NULL if out of memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
