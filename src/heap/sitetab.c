/* The site table of the live file (allocmap_live.h, livestats.h): open
 * addressing over ALLOCMAP_LIVE_SITES rows keyed by the site address;
 * row 0 is "other". A row is claimed by a CAS of its key from 0 and never
 * given back, so a lookup that reaches an empty row or AM_SITE_PROBES
 * rows without its key knows the site has no row (and never will, while
 * the rows it passed stay claimed): its allocations and frees both land
 * in row 0, consistently.
 *
 * The rows claimed are also listed (claimed[], in claim order, in the
 * library's memory) so that the peak copy visits only those.
 */
#include "livestats.h"

static uint16_t claimed[ALLOCMAP_LIVE_SITES];
static uint32_t nclaimed;

_Static_assert(ALLOCMAP_LIVE_SITES <= 65536, "claimed[] holds 16-bit row numbers");
_Static_assert((ALLOCMAP_LIVE_SITES & (ALLOCMAP_LIVE_SITES - 1)) == 0, "rows: a power of two");

static size_t home(const void *site)
{
	uint64_t h = (uint64_t)(uintptr_t)site * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 40) & (ALLOCMAP_LIVE_SITES - 1);
}

/* Row i's key is 0: claim it for key k. 1 if it is k's now. */
static int claim(struct allocmap_live_site *row, size_t i, uint64_t k)
{
	uint64_t zero = 0;
	if (__atomic_compare_exchange_n(&row->site, &zero, k, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		uint32_t n = __atomic_fetch_add(&nclaimed, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&claimed[n], (uint16_t)i, __ATOMIC_RELEASE);
		return 1;
	}
	return zero == k;
}

struct allocmap_live_site *am_site_row(struct allocmap_live *L, const void *site, int insert)
{
	uint64_t k = (uint64_t)(uintptr_t)site;
	size_t i = home(site);
	for (int probe = 0; k && probe < AM_SITE_PROBES; probe++, i = (i + 1) & (ALLOCMAP_LIVE_SITES - 1)) {
		if (i == 0)
			continue; /* row 0 is "other" */
		uint64_t key = __atomic_load_n(&L->site[i].site, __ATOMIC_ACQUIRE);
		if (key == k)
			return &L->site[i];
		if (key == 0) {
			if (!insert)
				return &L->site[0];
			if (claim(&L->site[i], i, k))
				return &L->site[i];
		}
	}
	return &L->site[0];
}

void am_site_each(struct allocmap_live *L, void (*fn)(struct allocmap_live_site *row))
{
	uint32_t n = __atomic_load_n(&nclaimed, __ATOMIC_ACQUIRE);
	for (uint32_t j = 0; j < n && j < ALLOCMAP_LIVE_SITES; j++) {
		uint16_t i = __atomic_load_n(&claimed[j], __ATOMIC_ACQUIRE);
		if (i != 0) /* 0: claimed, not yet listed */
			fn(&L->site[i]);
	}
	fn(&L->site[0]);
}

void am_site_reset(void)
{
	for (uint32_t j = 0; j < nclaimed && j < ALLOCMAP_LIVE_SITES; j++)
		claimed[j] = 0;
	nclaimed = 0;
}
