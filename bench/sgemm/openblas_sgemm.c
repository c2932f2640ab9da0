// openblas_sgemm times OpenBLAS's cblas_sgemm on the shapes of
// tensor.BenchmarkSgemm and prints one line per shape:
//   <name> <GFLOP/s> <GFLOP per CPU-second of the process> <core>
// Threads come from OPENBLAS_NUM_THREADS. Built and run by compare.sh.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);

static double clock_seconds(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

int main(int argc, char **argv) {
	double mintime = argc > 1 ? atof(argv[1]) : 1.0;
	struct { int tb, m, n, k; } cs[] = {
		{0, 1024, 768, 768}, {1, 1024, 3072, 768}, {0, 1024, 768, 3072},
		{1, 128, 768, 768}, {0, 2048, 2048, 2048},
	};
	for (int c = 0; c < (int)(sizeof cs / sizeof cs[0]); c++) {
		int m = cs[c].m, n = cs[c].n, k = cs[c].k, tb = cs[c].tb;
		float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *y = malloc(sizeof(float) * m * n);
		srand(1);
		for (long i = 0; i < (long)m * k; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
		for (long i = 0; i < (long)k * n; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
		int ldb = tb ? k : n;
		enum CBLAS_TRANSPOSE tB = tb ? CblasTrans : CblasNoTrans;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, tB, m, n, k, 1, a, k, b, ldb, 0, y, n);
		long iters = 0;
		double c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
		double t0 = now(), t;
		do {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, tB, m, n, k, 1, a, k, b, ldb, 0, y, n);
			iters++;
			t = now() - t0;
		} while (t < mintime);
		double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
		double flops = 2.0 * m * n * k * iters;
		printf("%s/M=%d,N=%d,K=%d %.2f %.2f %s\n", tb ? "NT" : "NN", m, n, k, flops / t / 1e9, flops / cpu / 1e9, openblas_get_corename());
		free(a); free(b); free(y);
	}
	return 0;
}
