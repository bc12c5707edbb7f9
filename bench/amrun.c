/* Whole-program overhead runner: runs each job of a job file with and
 * without LD_PRELOAD=liballocmap.so, interleaved, and reports the median
 * wall time and peak RSS of each side and their ratios (preload/native).
 * It needs nothing but libc: no hyperfine.
 *
 *   amrun -l LIB [-b BASE] [-r REPS] [-t TITLE] [-G GEOMEAN_GOAL] [-W WORST_GOAL] JOBFILE
 *
 * Job file: one job a line, fields split on blanks (no quoting), '#'
 * starts a comment line:
 *
 *   NAME  GROUP  RSS_GOAL  [<INFILE]  PROGRAM [ARGS...]
 *
 * GROUP is a word that groups jobs in the summary (each group's geometric
 * mean and worst are printed; the goals apply to all jobs together).
 * RSS_GOAL is the largest acceptable peak-RSS ratio for the job, or '-'
 * for none. PROGRAM is found on PATH. The job's stdin is INFILE (default
 * /dev/null); its stdout and stderr go to /dev/null. A job must exit 0.
 *
 * Method. Per job: one untimed warm-up run of each side (page cache,
 * dynamic linker caches); the preloaded warm-up also sets
 * ALLOCMAP_REPORT to a scratch directory and checks that a report
 * appeared, which proves the library was really loaded into the program
 * (a wrong path or a set-uid program would otherwise give a ratio of 1).
 * Then REPS rounds, each running the native and the preloaded side once,
 * the order alternating from round to round. Wall time: CLOCK_MONOTONIC
 * around fork .. wait4 (the fork and exec are on both sides). Peak RSS:
 * ru_maxrss from wait4, which covers the job's waited-for descendants
 * (gcc's cc1) as the largest of them. Ratios are of the medians.
 * The native side runs with LD_PRELOAD and ALLOCMAP_* removed from the
 * environment; the preloaded side adds LD_PRELOAD=LIB only. With -b BASE
 * (another malloc, say), the native side preloads BASE and the other
 * LIB:BASE.
 *
 * Output: one table row per job; then, over all jobs, the geometric mean
 * and worst of the time ratios against -G/-W, and each RSS goal, as
 * MET/MISSED lines. Exit status 1 if a job failed (non-zero exit, or the
 * library did not load), 2 on bad usage; a missed goal is reported only.
 *
 * Allocates nothing from malloc (static tables), so the benchmark
 * archive's malloc never gets linked in.
 */
#include "benchutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 32
#define MAX_ARGS 32
#define MAX_REPS 401
#define FILE_BYTES 16384

extern char **environ;

struct job {
	char *name, *group;
	double rss_goal;               /* 0: none */
	char *infile;
	char *argv[MAX_ARGS + 1];
	double wall[2][MAX_REPS];      /* [0] native, [1] preload; seconds */
	double rss[2][MAX_REPS];       /* KiB */
	double wall_med[2], rss_med[2], wall_lo[2], wall_hi[2];
	int failed;
};

static struct job jobs[MAX_JOBS];
static int njobs;
static char report_var[4096], scratch[] = "/tmp/amrun.XXXXXX";

static void die(const char *what)
{
	fprintf(stderr, "amrun: %s\n", what);
	exit(2);
}



static void parse_jobs(const char *path)
{
	static char text[FILE_BYTES];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("cannot open the job file");
	ssize_t len = read(fd, text, sizeof text - 1);
	close(fd);
	if (len < 0 || len == (ssize_t)sizeof text - 1)
		die("cannot read the job file (or it is over 16 KiB)");
	text[len] = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *fields[MAX_ARGS + 4], *save;
		int nf = 0;
		for (char *f = strtok_r(line, " \t", &save); f && nf < MAX_ARGS + 3; f = strtok_r(NULL, " \t", &save))
			fields[nf++] = f;
		if (nf == 0 || fields[0][0] == '#')
			continue;
		if (njobs == MAX_JOBS)
			die("too many jobs");
		struct job *j = &jobs[njobs++];
		int k = 3;
		if (nf < 4)
			die("a job line needs NAME GROUP RSS_GOAL PROGRAM");
		j->name = fields[0], j->group = fields[1];
		j->rss_goal = strcmp(fields[2], "-") ? atof(fields[2]) : 0;
		if (fields[k][0] == '<')
			j->infile = fields[k++] + 1;
		if (k >= nf)
			die("a job line has no program");
		for (int a = 0; k < nf; k++, a++)
			j->argv[a] = fields[k];
	}
	if (!njobs)
		die("no jobs");
}

/* Runs one job once; 0 on a clean exit 0. */
static int run_once(struct job *j, int side, char **env, double *wall, double *rss_kib)
{
	struct rusage ru;
	int status;
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		int in = open(j->infile ? j->infile : "/dev/null", O_RDONLY), out = open("/dev/null", O_WRONLY);
		if (in < 0 || out < 0)
			_exit(126);
		dup2(in, 0), dup2(out, 1), dup2(out, 2);
		execvpe(j->argv[0], j->argv, env);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return -1;
	*wall = now() - t0;
	*rss_kib = (double)ru.ru_maxrss;
	(void)side;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Removes the reports in the scratch directory; returns how many. */
static int take_reports(void)
{
	DIR *d = opendir(scratch);
	int n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		char path[sizeof scratch + 300];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
		n += unlink(path) == 0;
	}
	closedir(d);
	return n;
}

/* Untimed warm-up of both sides; the preloaded one must leave a report. */
static int warm_up(struct job *j)
{
	static char *env_check[BENCH_MAX_ENV + 3];
	double w, r;
	int n = 0;
	while (env_side[1][n])
		env_check[n] = env_side[1][n], n++;
	env_check[n] = report_var, env_check[n + 1] = NULL;
	if (run_once(j, 0, env_side[0], &w, &r) != 0) {
		fprintf(stderr, "amrun: %s: fails without the library\n", j->name);
		return -1;
	}
	take_reports();
	if (run_once(j, 1, env_check, &w, &r) != 0) {
		fprintf(stderr, "amrun: %s: fails with the library preloaded\n", j->name);
		return -1;
	}
	if (take_reports() == 0) {
		fprintf(stderr, "amrun: %s: the library did not load (no ALLOCMAP_REPORT written)\n", j->name);
		return -1;
	}
	return 0;
}


static double median_of(const double *v, int n)
{
	double s[MAX_REPS];
	memcpy(s, v, (size_t)n * sizeof *v);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double min_of(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double max_of(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

static void run_job(struct job *j, int reps)
{
	if (warm_up(j) != 0) {
		j->failed = 1;
		return;
	}
	for (int rep = 0; rep < reps && !j->failed; rep++)
		for (int k = 0; k < 2; k++) {
			int side = (k + rep) % 2;
			if (run_once(j, side, env_side[side], &j->wall[side][rep], &j->rss[side][rep]) != 0) {
				fprintf(stderr, "amrun: %s: run %d (%s) failed\n", j->name, rep,
					side ? "preload" : "native");
				j->failed = 1;
			}
		}
	for (int s = 0; s < 2 && !j->failed; s++) {
		j->wall_med[s] = median_of(j->wall[s], reps);
		j->rss_med[s] = median_of(j->rss[s], reps);
		j->wall_lo[s] = min_of(j->wall[s], reps);
		j->wall_hi[s] = max_of(j->wall[s], reps);
	}
}

static void print_time(double secs)
{
	if (secs < 0.1)
		printf(" %7.2fms", secs * 1e3);
	else
		printf(" %8.3fs", secs);
}

static void print_row(const struct job *j)
{
	if (j->failed) {
		printf("%-14s FAILED (see stderr)\n", j->name);
		fflush(stdout);
		return;
	}
	double tr = j->wall_med[1] / j->wall_med[0], rr = j->rss_med[1] / j->rss_med[0];
	printf("%-14s", j->name);
	print_time(j->wall_med[0]);
	print_time(j->wall_med[1]);
	printf(" %+8.2fms %6.3fx  %4.0f%% %4.0f%% | %9.1f %9.1f %6.3fx", (j->wall_med[1] - j->wall_med[0]) * 1e3, tr,
	       100 * (j->wall_hi[0] - j->wall_lo[0]) / j->wall_med[0],
	       100 * (j->wall_hi[1] - j->wall_lo[1]) / j->wall_med[1], j->rss_med[0] / 1024, j->rss_med[1] / 1024, rr);
	if (j->rss_goal > 0)
		printf("  <= %.2f %s", j->rss_goal, rr <= j->rss_goal ? "met" : "MISSED");
	printf("\n");
	fflush(stdout);
}

/* Geometric mean and worst time ratio over the jobs of group (NULL:
 * all) that ran; returns how many. */
static int summarise(const char *group, double *geo, double *worst, const char **worst_name)
{
	double logsum = 0;
	int n = 0;
	*worst = 0, *worst_name = "";
	for (int i = 0; i < njobs; i++) {
		const struct job *j = &jobs[i];
		if (j->failed || (group && strcmp(group, j->group)))
			continue;
		double tr = j->wall_med[1] / j->wall_med[0];
		logsum += log(tr), n++;
		if (tr > *worst)
			*worst = tr, *worst_name = j->name;
	}
	*geo = n ? exp(logsum / n) : 0;
	return n;
}

static void usage(void)
{
	die("usage: amrun -l LIB [-b BASE] [-r REPS (1-401)] [-t TITLE] [-G GEOMEAN_GOAL] [-W WORST_GOAL] JOBFILE");
}

int main(int argc, char **argv)
{
	const char *lib = NULL, *base = NULL, *title = "";
	double goal_geo = 0, goal_worst = 0;
	int reps = 5, c;
	while ((c = getopt(argc, argv, "l:b:r:t:G:W:")) != -1) {
		if (c == 'l')
			lib = optarg;
		else if (c == 'b')
			base = optarg;
		else if (c == 'r')
			reps = atoi(optarg);
		else if (c == 't')
			title = optarg;
		else if (c == 'G')
			goal_geo = atof(optarg);
		else if (c == 'W')
			goal_worst = atof(optarg);
		else
			usage();
	}
	if (!lib || optind != argc - 1 || reps < 1 || reps > MAX_REPS)
		usage();
	if (lib[0] != '/' || access(lib, R_OK) != 0)
		die("LIB must be an absolute path to a readable liballocmap.so");
	if (!mkdtemp(scratch))
		die("cannot make a scratch directory");
	snprintf(report_var, sizeof report_var, "ALLOCMAP_REPORT=%s/report.%%p", scratch);
	make_envs(lib, base);
	parse_jobs(argv[optind]);

	double load[1] = {-1}, t0 = now();
	getloadavg(load, 1);
	printf("%s\n  median of %d interleaved runs per side (+1 untimed warm-up each), %ld CPUs, load average %.2f\n",
	       title, reps, sysconf(_SC_NPROCESSORS_ONLN), load[0]);
	printf("  time: fork..wait4 wall; spread = (max-min)/median; RSS: ru_maxrss (MiB); ratio = preload/native\n\n");
	printf("%-14s %9s %9s %10s %7s  %5s %5s | %9s %9s %7s\n", "job", "native", "preload", "added", "ratio",
	       "sprN", "sprP", "RSS nat", "RSS pre", "ratio");
	int failed = 0, rss_missed = 0, rss_goals = 0;
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		run_job(j, reps);
		print_row(j);
		failed |= j->failed;
		if (!j->failed && j->rss_goal > 0)
			rss_goals++, rss_missed += j->rss_med[1] / j->rss_med[0] > j->rss_goal;
	}
	rmdir(scratch);
	printf("\n");
	const char *seen[MAX_JOBS];
	int ngroups = 0;
	for (int i = 0; i < njobs; i++) {
		int known = 0;
		for (int g = 0; g < ngroups; g++)
			known |= !strcmp(seen[g], jobs[i].group);
		if (!known)
			seen[ngroups++] = jobs[i].group;
	}
	double geo, worst;
	const char *worst_name;
	for (int g = 0; g < ngroups && ngroups > 1; g++) {
		int n = summarise(seen[g], &geo, &worst, &worst_name);
		if (n)
			printf("time ratio, %-10s geomean %.3fx over %d jobs, worst %.3fx (%s)\n", seen[g], geo, n, worst,
			       worst_name);
	}
	int n = summarise(NULL, &geo, &worst, &worst_name);
	if (n) {
		printf("time ratio, %-10s geomean %.3fx over %d jobs, worst %.3fx (%s)\n", "all", geo, n, worst, worst_name);
		if (goal_geo > 0)
			printf("  goal geomean <= %.2f: %s\n", goal_geo, geo <= goal_geo ? "MET" : "MISSED");
		if (goal_worst > 0)
			printf("  goal worst   <= %.2f: %s\n", goal_worst, worst <= goal_worst ? "MET" : "MISSED");
	}
	if (rss_goals)
		printf("peak RSS goals: %d of %d met%s\n", rss_goals - rss_missed, rss_goals,
		       rss_missed ? " (MISSED ones marked in the table)" : "");
	getloadavg(load, 1);
	printf("%s; %.1f s; load average %.2f at end\n", failed ? "FAILED (see stderr)" : "no failures",
	       now() - t0, load[0]);
	return failed;
}
