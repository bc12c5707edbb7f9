/* A shared object for holes.sh, linked with -z max-page-size=0x200000
 * -z separate-code: its read-only, code, read-only-data and data segments
 * each start on a 2 MiB boundary, so its span has three gaps of almost
 * 2 MiB between them. The arrays just make every segment non-empty.
 */
int holes_dso_data[4096] = {1};
const char holes_dso_rodata[8192] = "holes";

int holes_dso_fn(int x)
{
	return x + holes_dso_data[x & 4095] + holes_dso_rodata[x & 8191];
}
