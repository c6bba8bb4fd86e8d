// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The device's inference operators, run through libaccel, against plain
 * CPU references written here: naive loops straight from the definitions
 * of Documentation/operators.rst, in double precision, sharing no code with
 * the device's operator library.  Every element is checked within the
 * documented tolerance (int8 GEMM, ReLU, add/mul and pooling exactly), and
 * the padding of every output (leading dimension > columns) and the bytes
 * after it must be untouched.
 *
 * Each test runs twice (fixture variants): with every operand in a
 * system-memory BO, and with every operand in a device-memory BO (the job
 * copies the inputs in and the results out around the operator).
 *
 * The device computes at host speed, but these references run in the
 * guest, emulated: the shapes keep the reference work per run at a few
 * million multiply-adds, and large K is tested at small m and n.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lumen_test.h"

#define EPS_F32		0x1p-23
#define TINY		0x1p-149	/* the smallest f32 subnormal */
#define OUT_SENTINEL	0xa5		/* bytes an operator must not write */
#define CB_CAPACITY	(64 * 1024)
#define MAX_OPNDS	8

/* ---- Numbers: the 16-bit formats, defined here from their bit layouts -- */

static double f16_decode(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	double v;

	if (exp == 0x1f)
		v = mant ? NAN : INFINITY;
	else if (exp == 0)
		v = ldexp(mant, -24);
	else
		v = ldexp(mant + 1024, exp - 25);
	return sign ? -v : v;
}

static double bf16_decode(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

/*
 * Rounds @x to nearest, ties to even, to a binary format with @p
 * significand bits, minimum normal exponent @emin and largest finite
 * value @max: the definition, with nearbyint() doing the tie rule.
 */
static double round_format(double x, int p, int emin, double max)
{
	int e;
	double q, r;

	if (x == 0 || isnan(x) || isinf(x))
		return x;
	frexp(x, &e);			/* |x| in [2^(e-1), 2^e) */
	e = e - 1 < emin ? emin : e - 1;
	q = ldexp(1.0, e - (p - 1));	/* the spacing at x */
	r = nearbyint(x / q) * q;
	if (fabs(r) > max)
		return r > 0 ? INFINITY : -INFINITY;
	return r;
}

/* Encodes a value exactly representable in f16 (finite or infinite). */
static uint16_t f16_encode(double v)
{
	uint16_t sign = signbit(v) ? 0x8000 : 0;
	double a = fabs(v);
	int e;

	if (isinf(v))
		return sign | 0x7c00;
	if (a < 0x1p-14)
		return sign | (uint16_t)(a * 0x1p24);
	frexp(a, &e);			/* a in [2^(e-1), 2^e) */
	return sign | (uint16_t)((e - 1 + 15) << 10) |
	       (uint16_t)((a / ldexp(1.0, e - 1) - 1) * 1024);
}

static uint16_t bf16_encode(double v)
{
	float f = (float)v;	/* exact: v is a bf16 value */
	uint32_t bits;

	memcpy(&bits, &f, sizeof(bits));
	return bits >> 16;
}

static size_t type_size(enum accel_dtype t)
{
	switch (t) {
	case ACCEL_F16:
	case ACCEL_BF16:
		return 2;
	case ACCEL_I8:
		return 1;
	default:
		return 4;
	}
}

/* The spacing of the type's numbers in [1, 2), and half its smallest subnormal. */
static double type_eps(enum accel_dtype t)
{
	return t == ACCEL_F16 ? 0x1p-10 : t == ACCEL_BF16 ? 0x1p-7 : EPS_F32;
}

static double type_tiny(enum accel_dtype t)
{
	return t == ACCEL_F16 ? 0x1p-25 : t == ACCEL_BF16 ? 0x1p-134 : 0x1p-150;
}

/* @x rounded once to type @t (f32 by the CPU's own conversion). */
static double round_to(enum accel_dtype t, double x)
{
	if (t == ACCEL_F16)
		return round_format(x, 11, -14, 65504.0);
	if (t == ACCEL_BF16)
		return round_format(x, 8, -126, 0x1.fep127);
	return (float)x;
}

static double load(const void *p, size_t i, enum accel_dtype t)
{
	switch (t) {
	case ACCEL_F32:
		return ((const float *)p)[i];
	case ACCEL_F16:
		return f16_decode(((const uint16_t *)p)[i]);
	case ACCEL_BF16:
		return bf16_decode(((const uint16_t *)p)[i]);
	case ACCEL_I8:
		return ((const int8_t *)p)[i];
	default:
		return ((const int32_t *)p)[i];
	}
}

/* Stores @v, which must be representable in @t. */
static void store(void *p, size_t i, enum accel_dtype t, double v)
{
	switch (t) {
	case ACCEL_F32:
		((float *)p)[i] = (float)v;
		break;
	case ACCEL_F16:
		((uint16_t *)p)[i] = f16_encode(v);
		break;
	case ACCEL_BF16:
		((uint16_t *)p)[i] = bf16_encode(v);
		break;
	case ACCEL_I8:
		((int8_t *)p)[i] = (int8_t)v;
		break;
	default:
		((int32_t *)p)[i] = (int32_t)v;
		break;
	}
}

/* A NaN of type @t, written into padding that an operator must not read. */
static void store_poison(void *p, size_t i, enum accel_dtype t)
{
	switch (t) {
	case ACCEL_F32:
		((uint32_t *)p)[i] = 0x7fc0dead;
		break;
	case ACCEL_F16:
		((uint16_t *)p)[i] = 0x7e5a;
		break;
	case ACCEL_BF16:
		((uint16_t *)p)[i] = 0x7fda;
		break;
	case ACCEL_I8:
		((int8_t *)p)[i] = 0x5a;
		break;
	default:
		((int32_t *)p)[i] = 0x5a5a5a5a;
		break;
	}
}

/* ---- Random data --------------------------------------------------------- */

/* An integer in [lo, hi]. */
static int64_t rnd_int(struct lt_rng *rng, int64_t lo, int64_t hi)
{
	return lo + (int64_t)lt_rng_below(rng, (uint64_t)(hi - lo + 1));
}

/*
 * k / 2^frac with |k| <= range: with range <= 255 and frac <= 7 (or any
 * integer below 256) the value is exact in f32, f16 and bf16 alike.
 */
static double rnd_val(struct lt_rng *rng, int range, int frac)
{
	return ldexp((double)rnd_int(rng, -range, range), -frac);
}

/* Fills rows x cols at @ld with rnd_val() and the padding with NaN. */
static void fill_matrix(struct lt_rng *rng, void *p, enum accel_dtype t,
			uint64_t rows, uint64_t cols, uint64_t ld, int range, int frac)
{
	uint64_t i, j;

	for (i = 0; i < rows; i++)
		for (j = 0; j < ld; j++) {
			if (j < cols)
				store(p, i * ld + j, t, rnd_val(rng, range, frac));
			else if (i + 1 < rows)
				store_poison(p, i * ld + j, t);
		}
}

/* ---- Operands and jobs ----------------------------------------------------- */

/*
 * An operand: a mapped system BO the CPU fills and checks and, in the
 * device-memory variant, a device BO the operator really uses.
 */
struct opnd {
	struct accel_bo *sys;
	void *map;
	struct accel_bo *dev;
	uint64_t bytes;
};

struct job {
	struct accel_cmdbuf *cb;
	struct opnd o[MAX_OPNDS];
	unsigned int count;
	bool devmem;
};

static uint64_t va_of(const struct opnd *o)
{
	return accel_bo_va(o->dev ? o->dev : o->sys);
}

FIXTURE(ops) {
	struct accel_dev *dev;
	struct accel_info info;
	struct lt_rng rng;
	struct job job;
};

FIXTURE_VARIANT(ops) {
	bool devmem;
};

FIXTURE_VARIANT_ADD(ops, sysmem) {
	.devmem = false,
};

FIXTURE_VARIANT_ADD(ops, devmem) {
	.devmem = true,
};

FIXTURE_SETUP(ops)
{
	LT_OPEN_OR_SKIP(&self->dev, &self->info);
	LT_SEED(&self->rng);
	ASSERT_GE(self->info.num_cores, 1);
	self->job.devmem = variant->devmem;
}

static void job_release(struct job *j)
{
	unsigned int i;

	for (i = 0; i < j->count; i++) {
		accel_bo_free(j->o[i].dev);
		accel_bo_free(j->o[i].sys);
	}
	accel_cmdbuf_free(j->cb);
	memset(j->o, 0, sizeof(j->o));
	j->count = 0;
	j->cb = NULL;
}

FIXTURE_TEARDOWN(ops)
{
	job_release(&self->job);
	accel_close(self->dev);
}

#define JOB (&self->job)

/*
 * A new operand of @bytes, filled with the output sentinel (the caller
 * overwrites what it wants), added to the job.
 */
static struct opnd *opnd_new(struct __test_metadata *_metadata,
			     FIXTURE_DATA(ops) *self, uint64_t bytes)
{
	struct job *j = JOB;
	struct opnd *o;

	ASSERT_LT(j->count, MAX_OPNDS);
	o = &j->o[j->count++];
	o->bytes = bytes;
	ASSERT_EQ(0, accel_bo_create(self->dev, bytes, 0, &o->sys));
	ASSERT_EQ(0, accel_bo_map(o->sys, &o->map));
	memset(o->map, OUT_SENTINEL, accel_bo_size(o->sys));
	if (j->devmem) {
		ASSERT_EQ(0, accel_bo_create(self->dev, bytes, ACCEL_BO_DEVICE, &o->dev));
	}
	return o;
}

/* Starts the command buffer: in the device-memory variant, copies the operands in. */
static void job_begin(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self)
{
	struct job *j = JOB;
	unsigned int i;

	ASSERT_EQ(NULL, j->cb);
	ASSERT_EQ(0, accel_cmdbuf_create(self->dev, CB_CAPACITY, &j->cb));
	for (i = 0; i < j->count; i++) {
		if (!j->o[i].dev)
			continue;
		ASSERT_EQ(0, accel_cmd_copy(j->cb, accel_bo_va(j->o[i].dev),
					    accel_bo_va(j->o[i].sys),
					    accel_bo_size(j->o[i].sys)));
	}
}

/*
 * Finishes the job (copies every operand back out in the device-memory
 * variant), runs it on queue 0 (compute engine 0) and asserts success.
 */
static void job_run(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self,
		    const char *what)
{
	const struct accel_bo *bos[2 * MAX_OPNDS];
	struct job *j = JOB;
	struct accel_fence *done;
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < j->count; i++) {
		bos[n++] = j->o[i].sys;
		if (!j->o[i].dev)
			continue;
		bos[n++] = j->o[i].dev;
		ASSERT_EQ(0, accel_cmd_copy(j->cb, accel_bo_va(j->o[i].sys),
					    accel_bo_va(j->o[i].dev),
					    accel_bo_size(j->o[i].sys)));
	}
	ASSERT_EQ(0, accel_fence_create(self->dev, &done));
	ASSERT_EQ(0, accel_submit(self->dev, 0, j->cb, bos, n, NULL, done));
	ret = accel_fence_wait(done, LT_JOB_TIMEOUT_NS);
	ASSERT_EQ(0, ret) TH_LOG("%s: waiting: %s", what, accel_strerror(ret));
	ret = accel_fence_status(done);
	accel_fence_free(done);
	ASSERT_EQ(1, ret) TH_LOG("%s: the job failed: %s", what, accel_strerror(ret));
}

/* ---- Checking -------------------------------------------------------------- */

/*
 * Compares rows x cols of type @t at @ld in @got with @ref (dense), each
 * element within @tol (dense; NULL: exact).  A NaN must meet a NaN, an
 * infinity the same infinity.  Also checks that every byte of the padding
 * between rows and after the matrix up to @bytes still is OUT_SENTINEL.
 * Logs the first mismatches; returns whether all was right.
 */
static bool check_matrix(struct __test_metadata *_metadata, const char *what,
			 const void *got, uint64_t bytes, enum accel_dtype t,
			 uint64_t rows, uint64_t cols, uint64_t ld,
			 const double *ref, const double *tol)
{
	const unsigned char *p = got;
	size_t es = type_size(t), bad = 0;
	uint64_t i, j, end = ((rows - 1) * ld + cols) * es, off;

	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++) {
			double g = load(got, i * ld + j, t), r = ref[i * cols + j];
			double tl = tol ? tol[i * cols + j] : 0;
			bool ok;

			if (isnan(r) || isnan(g))
				ok = isnan(r) && isnan(g);
			else if (isinf(r) || isinf(g))
				ok = g == r;
			else
				ok = fabs(g - r) <= tl;
			if (!ok && bad++ < 5)
				TH_LOG("%s: [%llu][%llu] = %.9g, want %.9g (diff %.3g, tolerance %.3g)",
				       what, (unsigned long long)i, (unsigned long long)j,
				       g, r, fabs(g - r), tl);
		}
	for (i = 0; i + 1 < rows && ld > cols; i++) {
		off = (i * ld + cols) * es;
		if (lt_find_not(p + off, OUT_SENTINEL, (ld - cols) * es) != (ld - cols) * es) {
			if (bad++ < 5)
				TH_LOG("%s: the padding after row %llu was written",
				       what, (unsigned long long)i);
		}
	}
	if (lt_find_not(p + end, OUT_SENTINEL, bytes - end) != bytes - end) {
		bad++;
		TH_LOG("%s: bytes after the matrix were written", what);
	}
	if (bad)
		TH_LOG("%s: %zu mismatches", what, bad);
	return bad == 0;
}

/* ---- Activations and their documented error ------------------------------ */

static double sigmoid(double t)
{
	return 1.0 / (1.0 + exp(-t));
}

/* The sigmoid's argument: x for SiLU, 2u for GELU. */
static double act_arg(enum accel_act act, double x)
{
	if (act == ACCEL_ACT_GELU)
		return 2.0 * sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
	return x;
}

static double act_ref(enum accel_act act, double x)
{
	switch (act) {
	case ACCEL_ACT_RELU:
		return x < 0 ? 0.0 : x;
	case ACCEL_ACT_GELU:
	case ACCEL_ACT_SILU:
		return x * sigmoid(act_arg(act, x));
	default:
		return x;
	}
}

/* (5 |t| + 8) eps |y| + (|x| + 1) 2^-149 for GELU and SiLU, 0 otherwise. */
static double act_err(enum accel_act act, double x, double y)
{
	if (act != ACCEL_ACT_GELU && act != ACCEL_ACT_SILU)
		return 0;
	return (5 * fabs(act_arg(act, x)) + 8) * EPS_F32 * fabs(y) + (fabs(x) + 1) * TINY;
}

/* The largest slope of the activation. */
static double act_gain(enum accel_act act)
{
	return act == ACCEL_ACT_GELU ? 1.13 : act == ACCEL_ACT_SILU ? 1.1 : 1.0;
}

/* An f32-accurate result within @tol, then rounded to a 16-bit @t. */
static double round_tol(enum accel_dtype t, double tol, double y)
{
	if (t == ACCEL_F32)
		return tol;
	return tol * (1 + type_eps(t)) + type_eps(t) / 2 * fabs(y) + type_tiny(t);
}

/* ---- GEMM ---------------------------------------------------------------- */

struct gemm_case {
	enum accel_dtype type, c_type;
	bool ta, tb;
	uint64_t m, n, k;
	uint64_t pad_a, pad_b, pad_c;	/* ld - minimum */
	enum accel_bias bias;
	enum accel_act act;
	double alpha, beta;		/* ialpha, ibeta for I8 */
	bool small_ints;		/* exact data: integers in [-2, 2] */
	bool nan_c;			/* C's old contents NaN (beta must be 0) */
};

static void gemm_name(char *buf, size_t size, const struct gemm_case *g, bool devmem)
{
	static const char *const types[] = { "?", "f32", "f16", "bf16", "i8", "i32" };
	static const char *const acts[] = { "none", "relu", "gelu", "silu" };
	static const char *const bias[] = { "none", "row", "col" };

	snprintf(buf, size, "gemm %s->%s %llux%llux%llu%s%s pad %llu/%llu/%llu bias %s act %s alpha %g beta %g%s",
		 types[g->type], types[g->c_type], (unsigned long long)g->m,
		 (unsigned long long)g->n, (unsigned long long)g->k,
		 g->ta ? " A^T" : "", g->tb ? " B^T" : "",
		 (unsigned long long)g->pad_a, (unsigned long long)g->pad_b,
		 (unsigned long long)g->pad_c, bias[g->bias], acts[g->act],
		 g->alpha, g->beta, devmem ? " (device memory)" : "");
}

/* Element (i, j) of op(X) of a matrix stored at @ld, transposed or not. */
static double op_elem(const void *x, enum accel_dtype t, bool trans, uint64_t ld,
		      uint64_t i, uint64_t j)
{
	return trans ? load(x, j * ld + i, t) : load(x, i * ld + j, t);
}

/* The int8 reference: the whole expression in wrapping 32-bit arithmetic. */
static void gemm_ref_i8(const struct gemm_case *g, const void *a, uint64_t lda,
			const void *b, uint64_t ldb, const void *c, uint64_t ldc,
			const void *bias, double *ref)
{
	uint32_t ia = (uint32_t)(int32_t)g->alpha, ib = (uint32_t)(int32_t)g->beta;
	uint64_t i, j, l;

	for (i = 0; i < g->m; i++)
		for (j = 0; j < g->n; j++) {
			uint32_t sum = 0, z;

			for (l = 0; l < g->k; l++)
				sum += (uint32_t)(int32_t)op_elem(a, ACCEL_I8, g->ta, lda, i, l) *
				       (uint32_t)(int32_t)op_elem(b, ACCEL_I8, g->tb, ldb, l, j);
			z = ia * sum;
			if (ib)
				z += ib * (uint32_t)((const int32_t *)c)[i * ldc + j];
			if (g->bias == ACCEL_BIAS_ROW)
				z += (uint32_t)((const int32_t *)bias)[j];
			else if (g->bias == ACCEL_BIAS_COL)
				z += (uint32_t)((const int32_t *)bias)[i];
			ref[i * g->n + j] = (int32_t)z;
			if (g->act == ACCEL_ACT_RELU && (int32_t)z < 0)
				ref[i * g->n + j] = 0;
		}
}

/* The float reference in double, and the documented bound for each element. */
static void gemm_ref_float(const struct gemm_case *g, const void *a, uint64_t lda,
			   const void *b, uint64_t ldb, const void *c, uint64_t ldc,
			   const void *bias, double *ref, double *tol)
{
	uint64_t i, j, l;

	for (i = 0; i < g->m; i++)
		for (j = 0; j < g->n; j++) {
			double sum = 0, mag = 0, z, s, y, bv = 0;

			for (l = 0; l < g->k; l++) {
				double p = op_elem(a, g->type, g->ta, lda, i, l) *
					   op_elem(b, g->type, g->tb, ldb, l, j);

				sum += p;
				mag += fabs(p);
			}
			z = g->alpha * sum;
			s = fabs(g->alpha) * mag;
			if (g->beta != 0) {
				double cv = load(c, i * ldc + j, g->c_type);

				z += g->beta * cv;
				s += fabs(g->beta * cv);
			}
			if (g->bias == ACCEL_BIAS_ROW)
				bv = load(bias, j, g->c_type);
			else if (g->bias == ACCEL_BIAS_COL)
				bv = load(bias, i, g->c_type);
			z += bv;
			s += fabs(bv);
			y = act_ref(g->act, z);
			ref[i * g->n + j] = y;
			tol[i * g->n + j] = round_tol(g->c_type,
				act_gain(g->act) * (g->k + 8) * EPS_F32 * s + act_err(g->act, z, y), y);
		}
}

static void run_gemm(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self,
		     const struct gemm_case *g)
{
	uint64_t a_rows = g->ta ? g->k : g->m, a_cols = g->ta ? g->m : g->k;
	uint64_t b_rows = g->tb ? g->n : g->k, b_cols = g->tb ? g->k : g->n;
	uint64_t lda = a_cols + g->pad_a, ldb = b_cols + g->pad_b, ldc = g->n + g->pad_c;
	size_t es = type_size(g->type), cs = type_size(g->c_type);
	uint64_t nbias = g->bias == ACCEL_BIAS_ROW ? g->n : g->m;
	struct opnd *a, *b, *c, *bias = NULL;
	bool i8 = g->type == ACCEL_I8;
	int range = g->small_ints ? 2 : i8 ? 127 : 128, frac = g->small_ints || i8 ? 0 : 7;
	double *ref, *tol;
	char what[256];
	uint64_t i, j;

	gemm_name(what, sizeof(what), g, JOB->devmem);
	a = opnd_new(_metadata, self, ((a_rows - 1) * lda + a_cols) * es);
	b = opnd_new(_metadata, self, ((b_rows - 1) * ldb + b_cols) * es);
	c = opnd_new(_metadata, self, ((g->m - 1) * ldc + g->n) * cs + 64);
	fill_matrix(&self->rng, a->map, g->type, a_rows, a_cols, lda, range, frac);
	fill_matrix(&self->rng, b->map, g->type, b_rows, b_cols, ldb, range, frac);
	/* C's old elements (read when beta != 0); its padding keeps the sentinel. */
	for (i = 0; i < g->m; i++)
		for (j = 0; j < g->n; j++) {
			if (g->nan_c)
				store_poison(c->map, i * ldc + j, g->c_type);
			else if (i8)
				store(c->map, i * ldc + j, g->c_type,
				      (double)(int32_t)lt_rng_next(&self->rng));
			else
				store(c->map, i * ldc + j, g->c_type, rnd_val(&self->rng, 128, 5));
		}
	if (g->bias != ACCEL_BIAS_NONE) {
		bias = opnd_new(_metadata, self, nbias * cs);
		for (i = 0; i < nbias; i++)
			store(bias->map, i, g->c_type, i8 ?
			      (double)(int32_t)lt_rng_next(&self->rng) :
			      rnd_val(&self->rng, 128, 4));
	}

	/* The reference first: C is overwritten by the job. */
	ref = calloc(g->m * g->n, sizeof(*ref));
	tol = calloc(g->m * g->n, sizeof(*tol));
	ASSERT_TRUE(ref && tol);
	if (i8)
		gemm_ref_i8(g, a->map, lda, b->map, ldb, c->map, ldc,
			    bias ? bias->map : NULL, ref);
	else
		gemm_ref_float(g, a->map, lda, b->map, ldb, c->map, ldc,
			       bias ? bias->map : NULL, ref, tol);

	job_begin(_metadata, self);
	ASSERT_EQ(0, accel_cmd_gemm(JOB->cb, &(struct accel_gemm){
		.type = g->type, .c_type = g->c_type,
		.trans_a = g->ta, .trans_b = g->tb,
		.m = g->m, .n = g->n, .k = g->k,
		.a = va_of(a), .lda = lda,
		.b = va_of(b), .ldb = ldb,
		.c = va_of(c), .ldc = ldc,
		.bias_kind = g->bias, .bias = bias ? va_of(bias) : 0,
		.act = g->act,
		.alpha = i8 ? 0 : (float)g->alpha, .beta = i8 ? 0 : (float)g->beta,
		.ialpha = i8 ? (int32_t)g->alpha : 0, .ibeta = i8 ? (int32_t)g->beta : 0,
	})) TH_LOG("%s: encoding", what);
	job_run(_metadata, self, what);
	EXPECT_TRUE(check_matrix(_metadata, what, c->map, c->bytes, g->c_type,
				 g->m, g->n, ldc, ref, i8 || g->small_ints ? NULL : tol));
	free(tol);
	free(ref);
	job_release(JOB);
}

/* Random transposes, paddings, bias, activation and scalars for @type -> @c_type. */
static void random_gemm(FIXTURE_DATA(ops) *self, struct gemm_case *g,
			enum accel_dtype type, enum accel_dtype c_type,
			uint64_t m, uint64_t n, uint64_t k)
{
	struct lt_rng *rng = &self->rng;
	bool i8 = type == ACCEL_I8;

	*g = (struct gemm_case){
		.type = type, .c_type = c_type, .m = m, .n = n, .k = k,
		.ta = lt_rng_below(rng, 2), .tb = lt_rng_below(rng, 2),
		.pad_a = lt_rng_below(rng, 2) * rnd_int(rng, 1, 9),
		.pad_b = lt_rng_below(rng, 2) * rnd_int(rng, 1, 9),
		.pad_c = lt_rng_below(rng, 2) * rnd_int(rng, 1, 9),
		.bias = (enum accel_bias)lt_rng_below(rng, 3),
		.act = (enum accel_act)lt_rng_below(rng, i8 ? 2 : 4),
	};
	if (i8) {
		g->alpha = lt_rng_below(rng, 2) ? 1 : rnd_int(rng, -100000, 100000);
		g->beta = rnd_int(rng, -3, 3);
	} else {
		g->alpha = rnd_val(rng, 64, 4);
		g->beta = lt_rng_below(rng, 2) ? 0 : rnd_val(rng, 16, 3);
	}
}

/* Sizes that cross every kernel tile and block edge once, kept small. */
static const uint64_t gemm_shapes[][3] = {
	{ 1, 1, 1 }, { 1, 17, 5 }, { 19, 1, 7 }, { 3, 5, 1 }, { 7, 13, 31 },
	{ 15, 33, 16 }, { 32, 32, 32 }, { 37, 41, 43 }, { 65, 17, 97 },
	{ 6, 100, 130 }, { 96, 48, 24 }, { 113, 31, 9 },
};

static void gemm_shapes_for(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self,
			    enum accel_dtype type, enum accel_dtype c_type)
{
	struct gemm_case g;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(gemm_shapes); i++) {
		random_gemm(self, &g, type, c_type, gemm_shapes[i][0],
			    gemm_shapes[i][1], gemm_shapes[i][2]);
		run_gemm(_metadata, self, &g);
	}
}

TEST_F_TIMEOUT(ops, gemm_f32, 300)
{
	gemm_shapes_for(_metadata, self, ACCEL_F32, ACCEL_F32);
}

TEST_F_TIMEOUT(ops, gemm_f16, 300)
{
	gemm_shapes_for(_metadata, self, ACCEL_F16, ACCEL_F16);
	gemm_shapes_for(_metadata, self, ACCEL_F16, ACCEL_F32);
}

TEST_F_TIMEOUT(ops, gemm_bf16, 300)
{
	gemm_shapes_for(_metadata, self, ACCEL_BF16, ACCEL_BF16);
	gemm_shapes_for(_metadata, self, ACCEL_BF16, ACCEL_F32);
}

TEST_F_TIMEOUT(ops, gemm_i8, 300)
{
	gemm_shapes_for(_metadata, self, ACCEL_I8, ACCEL_I32);
}

/* Every transpose, bias kind and activation at one odd shape, f32. */
TEST_F_TIMEOUT(ops, gemm_f32_every_option, 300)
{
	struct gemm_case g = {
		.type = ACCEL_F32, .c_type = ACCEL_F32, .m = 23, .n = 19, .k = 29,
		.pad_a = 3, .pad_b = 5, .pad_c = 7, .alpha = 1.5, .beta = -0.75,
	};
	int t, bias, act;

	for (t = 0; t < 4; t++)
		for (bias = 0; bias < 3; bias++)
			for (act = 0; act < 4; act++) {
				g.ta = t & 1;
				g.tb = t >> 1;
				g.bias = (enum accel_bias)bias;
				g.act = (enum accel_act)act;
				run_gemm(_metadata, self, &g);
			}
}

/*
 * beta == 0 must not read C: NaNs there must not show.  And alpha == 0
 * with beta == 1 must give C + bias.
 */
TEST_F_TIMEOUT(ops, gemm_beta_zero_ignores_c, 300)
{
	static const enum accel_dtype types[][2] = {
		{ ACCEL_F32, ACCEL_F32 }, { ACCEL_F16, ACCEL_F16 }, { ACCEL_BF16, ACCEL_BF16 },
		{ ACCEL_F16, ACCEL_F32 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct gemm_case g = {
			.type = types[i][0], .c_type = types[i][1], .m = 9, .n = 11, .k = 13,
			.pad_c = 2, .alpha = 0.5, .beta = 0, .nan_c = true,
			.bias = ACCEL_BIAS_COL,
		};

		run_gemm(_metadata, self, &g);
		g.nan_c = false;
		g.alpha = 0;
		g.beta = 1;
		g.bias = ACCEL_BIAS_ROW;
		run_gemm(_metadata, self, &g);
	}
}

/*
 * Large K on small integers: every partial sum is exact in f32, so the
 * result must be exact whatever the order of summation (a wrong term
 * hides inside a K-proportional bound, never here).
 */
TEST_F_TIMEOUT(ops, gemm_large_k_exact, 300)
{
	static const enum accel_dtype types[][2] = {
		{ ACCEL_F32, ACCEL_F32 }, { ACCEL_F16, ACCEL_F32 },
		{ ACCEL_BF16, ACCEL_F32 }, { ACCEL_I8, ACCEL_I32 },
	};
	static const uint64_t ks[] = { 4096, 4099 };
	size_t i, l;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		for (l = 0; l < ARRAY_SIZE(ks); l++) {
			struct gemm_case g = {
				.type = types[i][0], .c_type = types[i][1],
				.m = 5, .n = 7, .k = ks[l], .ta = l, .tb = !l,
				.pad_a = 1, .pad_c = 3, .alpha = 1, .beta = 0,
				.small_ints = true,
			};

			run_gemm(_metadata, self, &g);
		}
}

/* int8 that wraps: big ialpha, ibeta and bias, checked modulo 2^32. */
TEST_F_TIMEOUT(ops, gemm_i8_wraps, 300)
{
	struct gemm_case g = {
		.type = ACCEL_I8, .c_type = ACCEL_I32, .m = 17, .n = 9, .k = 300,
		.alpha = 1234567, .beta = -7, .bias = ACCEL_BIAS_ROW, .pad_b = 4,
	};

	run_gemm(_metadata, self, &g);
	g.act = ACCEL_ACT_RELU;
	g.bias = ACCEL_BIAS_COL;
	g.tb = true;
	run_gemm(_metadata, self, &g);
}

/* ---- Element-wise ----------------------------------------------------------- */

static void run_eltwise(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self,
			enum accel_eltwise_op op, enum accel_dtype t, uint64_t rows,
			uint64_t cols, uint64_t pad, bool broadcast)
{
	static const char *const names[] = { "?", "add", "mul", "relu", "gelu", "silu" };
	static const enum accel_act acts[] = {
		ACCEL_ACT_NONE, ACCEL_ACT_NONE, ACCEL_ACT_NONE, ACCEL_ACT_RELU,
		ACCEL_ACT_GELU, ACCEL_ACT_SILU,
	};
	bool binary = op == ACCEL_ELT_ADD || op == ACCEL_ELT_MUL;
	uint64_t ldx = cols + pad, ldy = cols + 2 * pad, ldb = cols + 3 * pad;
	uint64_t b_rows = broadcast ? 1 : rows;
	size_t es = type_size(t);
	struct opnd *x, *y, *b = NULL;
	double *ref, *tol;
	char what[160];
	uint64_t i, j;

	snprintf(what, sizeof(what), "eltwise %s type %d %llux%llu pad %llu%s%s",
		 names[op], t, (unsigned long long)rows, (unsigned long long)cols,
		 (unsigned long long)pad, broadcast ? " broadcast" : "",
		 JOB->devmem ? " (device memory)" : "");
	x = opnd_new(_metadata, self, ((rows - 1) * ldx + cols) * es);
	y = opnd_new(_metadata, self, ((rows - 1) * ldy + cols) * es + 32);
	/* Activations see [-16, 16] (a wide range of slopes); add/mul [-2, 2]. */
	fill_matrix(&self->rng, x->map, t, rows, cols, ldx, binary ? 255 : 128,
		    binary ? 7 : 3);
	if (binary) {
		b = opnd_new(_metadata, self, ((b_rows - 1) * ldb + cols) * es);
		fill_matrix(&self->rng, b->map, t, b_rows, cols, ldb, 255, 7);
	}
	ref = calloc(rows * cols, sizeof(*ref));
	tol = calloc(rows * cols, sizeof(*tol));
	ASSERT_TRUE(ref && tol);
	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++) {
			double xv = load(x->map, i * ldx + j, t), r;

			if (binary) {
				double bv = load(b->map, (broadcast ? 0 : i * ldb) + j, t);

				/* Exact in double, then rounded once: correctly rounded. */
				r = round_to(t, op == ACCEL_ELT_ADD ? xv + bv : xv * bv);
				tol[i * cols + j] = 0;
			} else {
				r = act_ref(acts[op], xv);
				tol[i * cols + j] = op == ACCEL_ELT_RELU ? 0 :
					round_tol(t, act_err(acts[op], xv, r), r);
			}
			ref[i * cols + j] = r;
		}

	job_begin(_metadata, self);
	ASSERT_EQ(0, accel_cmd_eltwise(JOB->cb, &(struct accel_eltwise){
		.op = op, .type = t, .rows = rows, .cols = cols,
		.y = va_of(y), .ldy = ldy, .x = va_of(x), .ldx = ldx,
		.b = b ? va_of(b) : 0, .ldb = b && !broadcast ? ldb : 0,
		.broadcast = broadcast,
	})) TH_LOG("%s: encoding", what);
	job_run(_metadata, self, what);
	EXPECT_TRUE(check_matrix(_metadata, what, y->map, y->bytes, t, rows, cols, ldy,
				 ref, tol));
	free(tol);
	free(ref);
	job_release(JOB);
}

TEST_F_TIMEOUT(ops, eltwise, 300)
{
	static const enum accel_dtype types[] = { ACCEL_F32, ACCEL_F16, ACCEL_BF16 };
	static const uint64_t shapes[][3] = { { 1, 1, 0 }, { 13, 37, 3 }, { 4, 100, 0 } };
	size_t t, s;
	int op;

	for (t = 0; t < ARRAY_SIZE(types); t++)
		for (s = 0; s < ARRAY_SIZE(shapes); s++)
			for (op = ACCEL_ELT_ADD; op <= ACCEL_ELT_SILU; op++) {
				run_eltwise(_metadata, self, op, types[t], shapes[s][0],
					    shapes[s][1], shapes[s][2], false);
				if (op <= ACCEL_ELT_MUL)
					run_eltwise(_metadata, self, op, types[t],
						    shapes[s][0], shapes[s][1],
						    shapes[s][2], true);
			}
}

/* ---- Softmax, layer norm, RMS norm --------------------------------------- */

enum rows_op { SOFTMAX, LAYER_NORM, RMS_NORM };

static void rows_ref(enum rows_op op, const float *x, uint64_t ldx, uint64_t rows,
		     uint64_t cols, const float *gamma, const float *beta, double eps,
		     double *ref, double *tol)
{
	uint64_t i, j;

	for (i = 0; i < rows; i++) {
		const float *xr = x + i * ldx;
		double *rr = ref + i * cols, *tr = tol + i * cols;
		double max = xr[0], min = xr[0], sum = 0, mean = 0, var = 0, ms = 0;

		for (j = 0; j < cols; j++) {
			max = fmax(max, xr[j]);
			min = fmin(min, xr[j]);
			mean += xr[j];
			ms += (double)xr[j] * xr[j];
		}
		mean /= cols;
		ms /= cols;
		for (j = 0; j < cols; j++)
			var += (xr[j] - mean) * (xr[j] - mean);
		var /= cols;
		if (op == SOFTMAX) {
			for (j = 0; j < cols; j++)
				sum += exp(xr[j] - max);
			for (j = 0; j < cols; j++) {
				rr[j] = exp(xr[j] - max) / sum;
				tr[j] = (8 + (max - min)) * EPS_F32 * rr[j] + TINY;
			}
		} else if (op == LAYER_NORM) {
			for (j = 0; j < cols; j++) {
				double xh = (xr[j] - mean) / sqrt(var + eps);
				double g = gamma ? gamma[j] : 1, b = beta ? beta[j] : 0;

				rr[j] = xh * g + b;
				tr[j] = 2 * EPS_F32 * (fabs(xh * g) + fabs(b)) + TINY;
			}
		} else {
			for (j = 0; j < cols; j++) {
				double g = gamma ? gamma[j] : 1;

				rr[j] = xr[j] / sqrt(ms + eps) * g;
				tr[j] = 2 * EPS_F32 * fabs(rr[j]) + TINY;
			}
		}
	}
}

static void run_rows(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self,
		     enum rows_op op, uint64_t rows, uint64_t cols, uint64_t pad,
		     bool with_gamma, bool with_beta, float eps)
{
	static const char *const names[] = { "softmax", "layer norm", "RMS norm" };
	uint64_t ldx = cols + pad, ldy = cols + 2 * pad;
	struct opnd *x, *y, *gamma = NULL, *beta = NULL;
	struct accel_rows r;
	double *ref, *tol;
	char what[160];
	uint64_t j;
	int ret;

	snprintf(what, sizeof(what), "%s %llux%llu pad %llu%s%s eps %g%s", names[op],
		 (unsigned long long)rows, (unsigned long long)cols,
		 (unsigned long long)pad, with_gamma ? " gamma" : "",
		 with_beta ? " beta" : "", eps, JOB->devmem ? " (device memory)" : "");
	x = opnd_new(_metadata, self, ((rows - 1) * ldx + cols) * 4);
	y = opnd_new(_metadata, self, ((rows - 1) * ldy + cols) * 4 + 16);
	/* Logits over [-16, 16]; norms on an offset row, so the mean matters. */
	fill_matrix(&self->rng, x->map, ACCEL_F32, rows, cols, ldx, 255, 4);
	if (op != SOFTMAX)
		for (j = 0; j < rows * ldx; j++)
			if (j % ldx < cols)
				((float *)x->map)[j] += 3.0f;
	if (with_gamma) {
		gamma = opnd_new(_metadata, self, cols * 4);
		fill_matrix(&self->rng, gamma->map, ACCEL_F32, 1, cols, cols, 255, 6);
	}
	if (with_beta) {
		beta = opnd_new(_metadata, self, cols * 4);
		fill_matrix(&self->rng, beta->map, ACCEL_F32, 1, cols, cols, 255, 6);
	}
	ref = calloc(rows * cols, sizeof(*ref));
	tol = calloc(rows * cols, sizeof(*tol));
	ASSERT_TRUE(ref && tol);
	rows_ref(op, x->map, ldx, rows, cols, gamma ? gamma->map : NULL,
		 beta ? beta->map : NULL, eps, ref, tol);

	job_begin(_metadata, self);
	r = (struct accel_rows){
		.rows = rows, .cols = cols, .y = va_of(y), .ldy = ldy,
		.x = va_of(x), .ldx = ldx,
		.gamma = gamma ? va_of(gamma) : 0, .beta = beta ? va_of(beta) : 0,
		.eps = eps,
	};
	ret = op == SOFTMAX ? accel_cmd_softmax(JOB->cb, &r) :
	      op == LAYER_NORM ? accel_cmd_layer_norm(JOB->cb, &r) :
	      accel_cmd_rms_norm(JOB->cb, &r);
	ASSERT_EQ(0, ret) TH_LOG("%s: encoding", what);
	job_run(_metadata, self, what);
	EXPECT_TRUE(check_matrix(_metadata, what, y->map, y->bytes, ACCEL_F32, rows,
				 cols, ldy, ref, tol));
	free(tol);
	free(ref);
	job_release(JOB);
}

static const uint64_t rows_shapes[][3] = {
	{ 1, 1, 0 }, { 1, 7, 1 }, { 5, 10, 0 }, { 17, 333, 5 }, { 64, 64, 0 },
	{ 3, 1000, 24 },
};

TEST_F_TIMEOUT(ops, softmax, 300)
{
	size_t s;

	for (s = 0; s < ARRAY_SIZE(rows_shapes); s++)
		run_rows(_metadata, self, SOFTMAX, rows_shapes[s][0], rows_shapes[s][1],
			 rows_shapes[s][2], false, false, 0);
}

TEST_F_TIMEOUT(ops, layer_norm, 300)
{
	size_t s;

	for (s = 0; s < ARRAY_SIZE(rows_shapes); s++) {
		/* A one-column row is constant: it needs eps > 0 to be defined. */
		run_rows(_metadata, self, LAYER_NORM, rows_shapes[s][0],
			 rows_shapes[s][1], rows_shapes[s][2], true, true, 1e-5f);
		run_rows(_metadata, self, LAYER_NORM, rows_shapes[s][0],
			 rows_shapes[s][1], rows_shapes[s][2], s & 1, false, 0.25f);
	}
}

TEST_F_TIMEOUT(ops, rms_norm, 300)
{
	size_t s;

	for (s = 0; s < ARRAY_SIZE(rows_shapes); s++) {
		run_rows(_metadata, self, RMS_NORM, rows_shapes[s][0],
			 rows_shapes[s][1], rows_shapes[s][2], true, false, 1e-6f);
		run_rows(_metadata, self, RMS_NORM, rows_shapes[s][0],
			 rows_shapes[s][1], rows_shapes[s][2], false, false, 0);
	}
}

/* ---- conv2d ---------------------------------------------------------------- */

static void run_conv(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self,
		     const struct accel_conv2d *shape, bool with_bias)
{
	static const char *const acts[] = { "none", "relu", "gelu", "silu" };
	struct accel_conv2d cv = *shape;
	uint64_t p, q, cg, kg, o, ni, ci, y0, x0, rr, ss;
	struct opnd *x, *w, *y, *bias = NULL;
	double *ref, *tol;
	char what[256];

	snprintf(what, sizeof(what),
		 "conv2d n%llu c%llu %llux%llu k%llu %llux%llu groups %llu stride %llu,%llu pad %llu,%llu dil %llu,%llu%s act %s%s",
		 (unsigned long long)cv.n, (unsigned long long)cv.c,
		 (unsigned long long)cv.h, (unsigned long long)cv.w,
		 (unsigned long long)cv.k, (unsigned long long)cv.r,
		 (unsigned long long)cv.s, (unsigned long long)cv.groups,
		 (unsigned long long)cv.stride_h, (unsigned long long)cv.stride_w,
		 (unsigned long long)cv.pad_h, (unsigned long long)cv.pad_w,
		 (unsigned long long)cv.dil_h, (unsigned long long)cv.dil_w,
		 with_bias ? " bias" : "", acts[cv.act],
		 JOB->devmem ? " (device memory)" : "");
	/* The output size, from the definition (not from libaccel). */
	p = (cv.h + 2 * cv.pad_h - cv.dil_h * (cv.r - 1) - 1) / cv.stride_h + 1;
	q = (cv.w + 2 * cv.pad_w - cv.dil_w * (cv.s - 1) - 1) / cv.stride_w + 1;
	cg = cv.c / cv.groups;
	kg = cv.k / cv.groups;

	x = opnd_new(_metadata, self, cv.n * cv.c * cv.h * cv.w * 4);
	w = opnd_new(_metadata, self, cv.k * cg * cv.r * cv.s * 4);
	y = opnd_new(_metadata, self, cv.n * cv.k * p * q * 4 + 64);
	fill_matrix(&self->rng, x->map, ACCEL_F32, 1, cv.n * cv.c * cv.h * cv.w,
		    cv.n * cv.c * cv.h * cv.w, 128, 6);
	fill_matrix(&self->rng, w->map, ACCEL_F32, 1, cv.k * cg * cv.r * cv.s,
		    cv.k * cg * cv.r * cv.s, 128, 7);
	if (with_bias) {
		bias = opnd_new(_metadata, self, cv.k * 4);
		fill_matrix(&self->rng, bias->map, ACCEL_F32, 1, cv.k, cv.k, 128, 6);
	}

	ref = calloc(cv.n * cv.k * p * q, sizeof(*ref));
	tol = calloc(cv.n * cv.k * p * q, sizeof(*tol));
	ASSERT_TRUE(ref && tol);
	for (ni = 0; ni < cv.n; ni++)
		for (o = 0; o < cv.k; o++)
			for (y0 = 0; y0 < p; y0++)
				for (x0 = 0; x0 < q; x0++) {
					uint64_t g = o / kg, idx = ((ni * cv.k + o) * p + y0) * q + x0;
					double z = 0, s = 0, v;

					for (ci = 0; ci < cg; ci++)
						for (rr = 0; rr < cv.r; rr++)
							for (ss = 0; ss < cv.s; ss++) {
								int64_t iy = (int64_t)(y0 * cv.stride_h + rr * cv.dil_h) - (int64_t)cv.pad_h;
								int64_t ix = (int64_t)(x0 * cv.stride_w + ss * cv.dil_w) - (int64_t)cv.pad_w;
								double prod;

								if (iy < 0 || ix < 0 || iy >= (int64_t)cv.h ||
								    ix >= (int64_t)cv.w)
									continue;	/* padding reads as zero */
								prod = (double)((float *)x->map)[((ni * cv.c + g * cg + ci) * cv.h + iy) * cv.w + ix] *
								       ((float *)w->map)[((o * cg + ci) * cv.r + rr) * cv.s + ss];
								z += prod;
								s += fabs(prod);
							}
					if (bias) {
						z += ((float *)bias->map)[o];
						s += fabs(((float *)bias->map)[o]);
					}
					v = act_ref(cv.act, z);
					ref[idx] = v;
					tol[idx] = act_gain(cv.act) * (cg * cv.r * cv.s + 8) * EPS_F32 * s +
						   act_err(cv.act, z, v);
				}

	cv.x = va_of(x);
	cv.weight = va_of(w);
	cv.bias = bias ? va_of(bias) : 0;
	cv.y = va_of(y);
	job_begin(_metadata, self);
	ASSERT_EQ(0, accel_cmd_conv2d(JOB->cb, &cv)) TH_LOG("%s: encoding", what);
	job_run(_metadata, self, what);
	EXPECT_TRUE(check_matrix(_metadata, what, y->map, y->bytes, ACCEL_F32, 1,
				 cv.n * cv.k * p * q, cv.n * cv.k * p * q, ref, tol));
	free(tol);
	free(ref);
	job_release(JOB);
}

TEST_F_TIMEOUT(ops, conv2d, 300)
{
	static const struct accel_conv2d shapes[] = {
		/* 1x1, the im2col-free path. */
		{ .n = 1, .c = 1, .h = 1, .w = 1, .k = 1, .r = 1, .s = 1, .groups = 1,
		  .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1 },
		{ .n = 2, .c = 8, .h = 5, .w = 7, .k = 6, .r = 1, .s = 1, .groups = 1,
		  .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
		  .act = ACCEL_ACT_RELU },
		/* 3x3, padding 1: the common layer. */
		{ .n = 1, .c = 3, .h = 12, .w = 11, .k = 8, .r = 3, .s = 3, .groups = 1,
		  .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1, .dil_h = 1,
		  .dil_w = 1, .act = ACCEL_ACT_GELU },
		/* Unequal strides, paddings and dilations. */
		{ .n = 2, .c = 4, .h = 13, .w = 9, .k = 5, .r = 3, .s = 2, .groups = 1,
		  .stride_h = 2, .stride_w = 1, .pad_h = 2, .pad_w = 0, .dil_h = 1,
		  .dil_w = 2, .act = ACCEL_ACT_SILU },
		/* Groups, and depthwise. */
		{ .n = 1, .c = 6, .h = 10, .w = 10, .k = 9, .r = 3, .s = 3, .groups = 3,
		  .stride_h = 1, .stride_w = 2, .pad_h = 1, .pad_w = 1, .dil_h = 2,
		  .dil_w = 1 },
		{ .n = 3, .c = 5, .h = 7, .w = 6, .k = 5, .r = 5, .s = 3, .groups = 5,
		  .stride_h = 3, .stride_w = 3, .pad_h = 2, .pad_w = 1, .dil_h = 1,
		  .dil_w = 1, .act = ACCEL_ACT_RELU },
		/* A kernel as large as the padded input: one output pixel. */
		{ .n = 1, .c = 2, .h = 4, .w = 3, .k = 3, .r = 6, .s = 5, .groups = 1,
		  .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1, .dil_h = 1,
		  .dil_w = 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		run_conv(_metadata, self, &shapes[i], false);
		run_conv(_metadata, self, &shapes[i], true);
	}
}

/* ---- Pooling --------------------------------------------------------------- */

static void run_pool(struct __test_metadata *_metadata, FIXTURE_DATA(ops) *self,
		     const struct accel_pool2d *shape)
{
	struct accel_pool2d pl = *shape;
	uint64_t p, q, plane, y0, x0, rr, ss, total;
	struct opnd *x, *y;
	double *ref;
	char what[200];

	snprintf(what, sizeof(what),
		 "%s pool n%llu c%llu %llux%llu window %llux%llu stride %llu,%llu pad %llu,%llu%s",
		 pl.op == ACCEL_POOL_MAX ? "max" : "avg", (unsigned long long)pl.n,
		 (unsigned long long)pl.c, (unsigned long long)pl.h,
		 (unsigned long long)pl.w, (unsigned long long)pl.r,
		 (unsigned long long)pl.s, (unsigned long long)pl.stride_h,
		 (unsigned long long)pl.stride_w, (unsigned long long)pl.pad_h,
		 (unsigned long long)pl.pad_w, JOB->devmem ? " (device memory)" : "");
	p = (pl.h + 2 * pl.pad_h - pl.r) / pl.stride_h + 1;
	q = (pl.w + 2 * pl.pad_w - pl.s) / pl.stride_w + 1;
	total = pl.n * pl.c * p * q;
	x = opnd_new(_metadata, self, pl.n * pl.c * pl.h * pl.w * 4);
	y = opnd_new(_metadata, self, total * 4 + 64);
	/* Negative values too: a max that counted padding as 0 would show. */
	fill_matrix(&self->rng, x->map, ACCEL_F32, 1, pl.n * pl.c * pl.h * pl.w,
		    pl.n * pl.c * pl.h * pl.w, 255, 5);

	ref = calloc(total, sizeof(*ref));
	ASSERT_TRUE(ref != NULL);
	for (plane = 0; plane < pl.n * pl.c; plane++)
		for (y0 = 0; y0 < p; y0++)
			for (x0 = 0; x0 < q; x0++) {
				const float *in = (const float *)x->map + plane * pl.h * pl.w;
				double acc = pl.op == ACCEL_POOL_MAX ? -INFINITY : 0;
				unsigned int count = 0;

				for (rr = 0; rr < pl.r; rr++)
					for (ss = 0; ss < pl.s; ss++) {
						int64_t iy = (int64_t)(y0 * pl.stride_h + rr) - (int64_t)pl.pad_h;
						int64_t ix = (int64_t)(x0 * pl.stride_w + ss) - (int64_t)pl.pad_w;

						if (iy < 0 || ix < 0 || iy >= (int64_t)pl.h ||
						    ix >= (int64_t)pl.w)
							continue;	/* padding never counts */
						if (pl.op == ACCEL_POOL_MAX)
							acc = fmax(acc, in[iy * pl.w + ix]);
						else
							acc += in[iy * pl.w + ix];
						count++;
					}
				/* Sums of these k/32 values are exact in double. */
				ref[(plane * p + y0) * q + x0] = pl.op == ACCEL_POOL_MAX ? acc :
					(float)(acc / count);
			}

	pl.x = va_of(x);
	pl.y = va_of(y);
	job_begin(_metadata, self);
	ASSERT_EQ(0, accel_cmd_pool2d(JOB->cb, &pl)) TH_LOG("%s: encoding", what);
	job_run(_metadata, self, what);
	EXPECT_TRUE(check_matrix(_metadata, what, y->map, y->bytes, ACCEL_F32, 1, total,
				 total, ref, NULL));
	free(ref);
	job_release(JOB);
}

TEST_F_TIMEOUT(ops, pool2d, 300)
{
	static const struct accel_pool2d shapes[] = {
		{ .n = 1, .c = 1, .h = 1, .w = 1, .r = 1, .s = 1, .stride_h = 1, .stride_w = 1 },
		{ .n = 2, .c = 3, .h = 8, .w = 8, .r = 2, .s = 2, .stride_h = 2, .stride_w = 2 },
		{ .n = 1, .c = 4, .h = 11, .w = 13, .r = 3, .s = 3, .stride_h = 2,
		  .stride_w = 2, .pad_h = 1, .pad_w = 1 },
		{ .n = 3, .c = 2, .h = 9, .w = 5, .r = 4, .s = 2, .stride_h = 1,
		  .stride_w = 3, .pad_h = 3, .pad_w = 1 },
		{ .n = 1, .c = 2, .h = 7, .w = 7, .r = 7, .s = 7, .stride_h = 1, .stride_w = 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		struct accel_pool2d pl = shapes[i];

		pl.op = ACCEL_POOL_MAX;
		run_pool(_metadata, self, &pl);
		pl.op = ACCEL_POOL_AVG;
		run_pool(_metadata, self, &pl);
	}
}

TEST_HARNESS_MAIN
