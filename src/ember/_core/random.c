/* CPU random fills: Philox blocks split across OpenMP threads, each thread
 * computing the counters of its own blocks, so results never depend on the
 * thread count.  The per-value math lives in ember/philox.h, shared with CUDA. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "ember/dtype.h"
#include "ember/strided.h"
#include "ember/random.h"

/* Philox blocks below which a fill runs on one thread (about 8k floats). */
#define EM_RNG_GRAIN_BLOCKS 2048

typedef struct {
    void *out;
    int64_t n;
    uint64_t seed, offset;
    int per_block;
    int bits;
    double from, span, below;  /* uniform */
    double mean, std;          /* normal */
    double p, lambd;           /* bernoulli, exponential */
    int64_t low;               /* randint */
    uint64_t range;
} rng_job;

typedef void (*rng_chunk_fn)(const rng_job *job, int64_t first_block, int64_t end_block);

/* Values of block b that fall inside the request. */
static inline int block_count(const rng_job *job, int64_t b)
{
    int64_t left = job->n - b * job->per_block;
    return left < job->per_block ? (int)left : job->per_block;
}

/* Run fn over every block of the request, in parallel above the grain size. */
static uint64_t run_blocks(const rng_job *job, rng_chunk_fn fn)
{
    int64_t nblocks = (int64_t)em_rng_blocks(job->n, job->per_block);
    int64_t threads = em_get_num_threads();
    if (threads > nblocks / EM_RNG_GRAIN_BLOCKS) {
        threads = nblocks / EM_RNG_GRAIN_BLOCKS;
    }
    if (threads <= 1) {
        if (nblocks > 0) {
            fn(job, 0, nblocks);
        }
        return (uint64_t)nblocks;
    }
#ifdef _OPENMP
    #pragma omp parallel num_threads((int)threads)
    {
        int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t per = (nblocks + nt - 1) / nt;
        int64_t first = per * t, end = first + per < nblocks ? first + per : nblocks;
        if (first < end) {
            fn(job, first, end);
        }
    }
#else
    fn(job, 0, nblocks);
#endif
    return (uint64_t)nblocks;
}

/* ------------------------------------------------------------------ uniform */

static void uniform_f32_chunk(const rng_job *job, int64_t first, int64_t end)
{
    float *out = (float *)job->out;
    float from = (float)job->from, span = (float)job->span, below = (float)job->below;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            float x = em_rng_unit_f32(r.w[k], job->bits);
            out[b * 4 + k] = em_rng_scale_f32(x, from, span, below);
        }
    }
}

static void uniform_f64_chunk(const rng_job *job, int64_t first, int64_t end)
{
    double *out = (double *)job->out;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            out[b * 2 + k] = em_rng_scale_f64(em_rng_unit_f64(em_rng_word64(r, k)), job->from,
                                              job->span, job->below);
        }
    }
}

uint64_t em_rng_uniform_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                             int bits, double from, double span, double below)
{
    rng_job job = {.out = out, .n = n, .seed = seed, .offset = offset, .bits = bits,
                   .from = from, .span = span, .below = below};
    if (dtype == EM_FLOAT64) {
        job.per_block = EM_RNG_PER_BLOCK_UNIFORM64;
        return run_blocks(&job, uniform_f64_chunk);
    }
    job.per_block = EM_RNG_PER_BLOCK_UNIFORM32;
    return run_blocks(&job, uniform_f32_chunk);
}

/* ------------------------------------------------------------------ normal */

/* Float32 normals go through the block words in batches laid out by word, so the
   branch-free Box-Muller of philox.h vectorises across blocks. */
#define EM_RNG_BATCH 16

static void normal_f32_chunk(const rng_job *job, int64_t first, int64_t end)
{
    float *out = (float *)job->out;
    float mean = (float)job->mean, std = (float)job->std;
    uint32_t w[4][EM_RNG_BATCH];
    float z[4][EM_RNG_BATCH];
    for (int64_t b0 = first; b0 < end; b0 += EM_RNG_BATCH) {
        int nb = end - b0 < EM_RNG_BATCH ? (int)(end - b0) : EM_RNG_BATCH;
        for (int j = 0; j < nb; j++) {
            em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)(b0 + j));
            for (int k = 0; k < 4; k++) {
                w[k][j] = r.w[k];
            }
        }
        for (int j = 0; j < nb; j++) {
            em_f32x2 p = em_rng_box_muller_f32(w[0][j], w[1][j]);
            em_f32x2 q = em_rng_box_muller_f32(w[2][j], w[3][j]);
            z[0][j] = p.z0;
            z[1][j] = p.z1;
            z[2][j] = q.z0;
            z[3][j] = q.z1;
        }
        for (int j = 0; j < nb; j++) {
            int count = block_count(job, b0 + j);
            for (int k = 0; k < count; k++) {
                out[(b0 + j) * 4 + k] = mean + std * z[k][j];
            }
        }
    }
}

static void normal_f64_chunk(const rng_job *job, int64_t first, int64_t end)
{
    double *out = (double *)job->out;
    double z[2];
    for (int64_t b = first; b < end; b++) {
        em_rng_normal2(em_rng_block(job->seed, job->offset, (uint64_t)b), z);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            out[b * 2 + k] = job->mean + job->std * z[k];
        }
    }
}

uint64_t em_rng_normal_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                            double mean, double std)
{
    rng_job job = {.out = out, .n = n, .seed = seed, .offset = offset, .mean = mean, .std = std};
    if (dtype == EM_FLOAT64) {
        job.per_block = EM_RNG_PER_BLOCK_NORMAL64;
        return run_blocks(&job, normal_f64_chunk);
    }
    job.per_block = EM_RNG_PER_BLOCK_NORMAL32;
    return run_blocks(&job, normal_f32_chunk);
}

/* ------------------------------------------------------------------ integers */

static void randint_small_chunk(const rng_job *job, int64_t first, int64_t end)
{
    int64_t *out = (int64_t *)job->out;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            uint64_t v = em_rng_below_small(em_rng_word64(r, k), job->range);
            out[b * 2 + k] = (int64_t)((uint64_t)job->low + v);
        }
    }
}

static void randint_large_chunk(const rng_job *job, int64_t first, int64_t end)
{
    int64_t *out = (int64_t *)job->out;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        uint64_t v = em_rng_below_large(em_rng_word64(r, 1), em_rng_word64(r, 0), job->range);
        out[b] = (int64_t)((uint64_t)job->low + v);
    }
}

uint64_t em_rng_randint_fill(int64_t *out, int64_t n, uint64_t seed, uint64_t offset,
                             int64_t low, uint64_t range)
{
    rng_job job = {.out = out, .n = n, .seed = seed, .offset = offset, .low = low, .range = range};
    if (em_rng_range_is_large(range)) {
        job.per_block = EM_RNG_PER_BLOCK_INT_LARGE;
        return run_blocks(&job, randint_large_chunk);
    }
    job.per_block = EM_RNG_PER_BLOCK_INT_SMALL;
    return run_blocks(&job, randint_small_chunk);
}

/* ------------------------------------------------------------------ bernoulli, exponential */

static void bernoulli_chunk(const rng_job *job, int64_t first, int64_t end)
{
    uint8_t *out = (uint8_t *)job->out;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            out[b * 2 + k] = em_rng_unit_f64(em_rng_word64(r, k)) < job->p;
        }
    }
}

uint64_t em_rng_bernoulli_fill(uint8_t *out, int64_t n, uint64_t seed, uint64_t offset, double p)
{
    rng_job job = {.out = out, .n = n, .seed = seed, .offset = offset, .p = p,
                   .per_block = EM_RNG_PER_BLOCK_BERNOULLI};
    return run_blocks(&job, bernoulli_chunk);
}

static void exponential_f32_chunk(const rng_job *job, int64_t first, int64_t end)
{
    float *out = (float *)job->out;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            out[b * 2 + k] = (float)em_rng_exponential_value(em_rng_word64(r, k), job->lambd);
        }
    }
}

static void exponential_f64_chunk(const rng_job *job, int64_t first, int64_t end)
{
    double *out = (double *)job->out;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            out[b * 2 + k] = em_rng_exponential_value(em_rng_word64(r, k), job->lambd);
        }
    }
}

uint64_t em_rng_exponential_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                                 double lambd)
{
    rng_job job = {.out = out, .n = n, .seed = seed, .offset = offset, .lambd = lambd,
                   .per_block = EM_RNG_PER_BLOCK_EXPONENTIAL};
    return run_blocks(&job, dtype == EM_FLOAT64 ? exponential_f64_chunk : exponential_f32_chunk);
}

/* ------------------------------------------------------------------ randperm */

static void keys_chunk(const rng_job *job, int64_t first, int64_t end)
{
    uint64_t *keys = (uint64_t *)job->out;
    for (int64_t b = first; b < end; b++) {
        em_u32x4 r = em_rng_block(job->seed, job->offset, (uint64_t)b);
        int count = block_count(job, b);
        for (int k = 0; k < count; k++) {
            keys[b * 2 + k] = em_rng_word64(r, k);
        }
    }
}

/* Runs at most this long finish with insertion sort. */
#define EM_SORT_SMALL 32
#define EM_SORT_DIGIT_BITS 11

static void insertion_sort(uint64_t *rec, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        uint64_t v = rec[i];
        int64_t j = i - 1;
        while (j >= 0 && rec[j] > v) {
            rec[j + 1] = rec[j];
            j--;
        }
        rec[j + 1] = v;
    }
}

/* MSD radix sort of n distinct records whose top `skip` bits are all equal, from
   src into dst (src is clobbered).  The bits below are uniformly random, so each
   pass on the next digit splits evenly into cache-sized buckets. */
static void sort_into(uint64_t *src, uint64_t *dst, int64_t n, int skip)
{
    if (n <= EM_SORT_SMALL || skip >= 64) {
        memcpy(dst, src, (size_t)n * sizeof(uint64_t));
        insertion_sort(dst, n);
        return;
    }
    /* about four records per bucket, at most 2^EM_SORT_DIGIT_BITS buckets */
    int bits = 1;
    while (bits < EM_SORT_DIGIT_BITS && ((int64_t)4 << bits) < n) {
        bits++;
    }
    if (bits > 64 - skip) {
        bits = 64 - skip;
    }
    int64_t start[(1 << EM_SORT_DIGIT_BITS) + 1];
    int64_t buckets = (int64_t)1 << bits;
    memset(start, 0, (size_t)(buckets + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) {
        start[((src[i] << skip) >> (64 - bits)) + 1]++;
    }
    for (int64_t d = 0; d < buckets; d++) {
        start[d + 1] += start[d];
    }
    int64_t next[1 << EM_SORT_DIGIT_BITS];
    memcpy(next, start, (size_t)buckets * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) {
        dst[next[(src[i] << skip) >> (64 - bits)]++] = src[i];
    }
    for (int64_t d = 0; d < buckets; d++) {
        int64_t a = start[d], m = start[d + 1] - a;
        if (m > EM_SORT_SMALL) {
            sort_into(dst + a, src + a, m, skip + bits);
            memcpy(dst + a, src + a, (size_t)m * sizeof(uint64_t));
        } else {
            insertion_sort(dst + a, m);
        }
    }
}

/* Each record is the random key with its low `index_bits` bits replaced by the
   index, so sorting the records orders the indices by (key's top bits, index). */
int em_rng_randperm_fill(int64_t *out, int64_t n, uint64_t seed, uint64_t offset,
                         uint64_t *blocks_used)
{
    *blocks_used = em_rng_blocks(n, EM_RNG_PER_BLOCK_KEYS);
    if (n <= 0) {
        return 0;
    }
    int index_bits = 0;
    while (index_bits < 63 && ((int64_t)1 << index_bits) < n) {
        index_bits++;
    }
    uint64_t index_mask = ((uint64_t)1 << index_bits) - 1;
    uint64_t *rec = (uint64_t *)malloc((size_t)n * sizeof(uint64_t));
    if (rec == NULL) {
        return -1;
    }
    rng_job job = {.out = rec, .n = n, .seed = seed, .offset = offset,
                   .per_block = EM_RNG_PER_BLOCK_KEYS};
    run_blocks(&job, keys_chunk);
    for (int64_t i = 0; i < n; i++) {
        rec[i] = (rec[i] & ~index_mask) | (uint64_t)i;
    }
    /* sorted into the output's memory, then reduced to the indices in place */
    sort_into(rec, (uint64_t *)out, n, 0);
    free(rec);
    for (int64_t i = 0; i < n; i++) {
        out[i] = (int64_t)((uint64_t)out[i] & index_mask);
    }
    return 0;
}
