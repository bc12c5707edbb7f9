/* A real library with a known leak, for leaks.sh: compresses and
 * decompresses a buffer with zlib, and forgets to call deflateEnd on one
 * of two streams — zlib's internal state (allocated through its default
 * zalloc, calloc, from inside libz) is lost: one definitely lost chunk
 * (the state) and the buffers it points to indirectly. The other stream
 * is ended properly. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned char in[1 << 16], out[1 << 17];

static int squeeze(int end)
{
	z_stream s;
	memset(&s, 0, sizeof s);
	if (deflateInit(&s, 6) != Z_OK)
		return -1;
	s.next_in = in, s.avail_in = sizeof in, s.next_out = out, s.avail_out = sizeof out;
	int rc = deflate(&s, Z_FINISH) == Z_STREAM_END ? 0 : -1;
	if (end)
		deflateEnd(&s);
	return rc;
}

int main(void)
{
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 7 % 251);
	if (squeeze(1) || squeeze(0))
		return 2;
	volatile char junk[32768];
	memset((char *)junk, 0, sizeof junk);
	return 0;
}
