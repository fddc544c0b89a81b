/* CPU random fills driven by Philox4x32-10 (see philox.h for the counter scheme).
 *
 * Every fill writes n values to contiguous memory from a generator state
 * (seed, offset) and returns the number of Philox blocks it used: the caller
 * advances the generator's offset by that much.  Value i depends only on
 * (seed, offset, i), never on the number of threads.
 */
#ifndef EMBER_RANDOM_H
#define EMBER_RANDOM_H

#include <stdint.h>
#include "ember/philox.h"

/* Uniform on [from, from + span), clamped to at most `below`.  dtype is EM_FLOAT32
   (from the top `bits` <= 24 bits of a word; 11 and 8 keep float16 and bfloat16
   results below 1) or EM_FLOAT64 (53 bits). */
uint64_t em_rng_uniform_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                             int bits, double from, double span, double below);

/* Normal with the given mean and standard deviation (Box-Muller); dtype EM_FLOAT32
   or EM_FLOAT64. */
uint64_t em_rng_normal_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                            double mean, double std);

/* Integers low + [0, range) as int64, where range 0 stands for 2^64. */
uint64_t em_rng_randint_fill(int64_t *out, int64_t n, uint64_t seed, uint64_t offset,
                             int64_t low, uint64_t range);

/* 1 with probability p, else 0, as bytes. */
uint64_t em_rng_bernoulli_fill(uint8_t *out, int64_t n, uint64_t seed, uint64_t offset, double p);

/* Exponential with rate lambd; dtype EM_FLOAT32 or EM_FLOAT64. */
uint64_t em_rng_exponential_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                                 double lambd);

/* A random permutation of 0 .. n-1: index i gets the 64-bit random key i, and the
   indices are ordered by (key >> b, i), b being the bits that hold n - 1 - the
   order a stable GPU radix sort of the same keys reproduces.  Stores the blocks
   used in *blocks_used; returns -1 when scratch memory cannot be allocated. */
int em_rng_randperm_fill(int64_t *out, int64_t n, uint64_t seed, uint64_t offset,
                         uint64_t *blocks_used);

/* ---- random_samplers.c: a parameter per element, inverse transforms, gradients */

enum { EM_RNG_GAMMA = 0, EM_RNG_POISSON = 1, EM_RNG_BINOMIAL = 2 };
enum { EM_RNG_CAUCHY = 0, EM_RNG_LOG_NORMAL = 1, EM_RNG_GEOMETRIC = 2 };

/* out[i] ~ Gamma(a[i], 1) (at least `tiny`), Poisson(a[i]) or Binomial(a[i], b[i]),
   computed in double; element i reads its own Philox stream (draw j from block
   i + j * n), so rejection loops never shift other elements' values. */
uint64_t em_rng_param_fill(int kind, double *out, const double *a, const double *b, int64_t n,
                           uint64_t seed, uint64_t offset, double tiny);

/* Cauchy(median p0, scale p1), exp(Normal(p0, p1)) or Geometric(p0) (support 1, 2, ...). */
uint64_t em_rng_transform_fill(int kind, double *out, int64_t n, uint64_t seed, uint64_t offset,
                               double p0, double p1);

/* d sample / d alpha of the gamma sampler (implicit reparameterisation). */
void em_rng_gamma_grad(double *out, const double *alpha, const double *x, int64_t n);

/* d x / d alpha of a Dirichlet component x with concentration alpha and total `total`. */
void em_rng_dirichlet_grad(double *out, const double *x, const double *alpha,
                           const double *total, int64_t n);

#endif
