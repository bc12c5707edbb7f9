/* EXPECT for the whole-program tests: a failed expectation prints its
 * file, line and text and exits 1. */
#ifndef ALLOCMAP_TEST_EXPECT_H
#define ALLOCMAP_TEST_EXPECT_H

#include <stdio.h>
#include <stdlib.h>

#define EXPECT(c)                                                                    \
	do {                                                                         \
		if (!(c)) {                                                          \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                     \
		}                                                                    \
	} while (0)

#define PAGE 4096UL

#endif
