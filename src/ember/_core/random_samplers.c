/* Samplers with a parameter per element (gamma, Poisson, binomial), the
 * inverse-transform fills (Cauchy, log-normal, geometric) and the reparameterised
 * gradients of the gamma and Dirichlet samplers.
 *
 * Rejection samplers use an unbounded number of uniforms per element, so each
 * element reads its own Philox stream: draw j of element i comes from block
 * i + j * n of the request (counter {block, offset}); the request still
 * reserves n blocks of the generator, and the next request's offset keeps its
 * counters apart.  Results never depend on the number of threads.
 *
 * The sampling algorithms and gradient approximations follow PyTorch's
 * ATen/native/Distributions.h (BSD licence), itself adapted from NumPy's
 * random module (Robert Kern, MIT licence) and TensorFlow's binomial sampler
 * (Apache 2.0): Marsaglia-Tsang for the gamma, Hormann's transformed
 * rejection for Poisson (PTRS) and binomial (BTRS), and Jankowiak and
 * Obermeyer's approximations of the implicit gradients.
 */
#include <math.h>
#include <float.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "ember/dtype.h"
#include "ember/strided.h"
#include "ember/random.h"

/* Elements below which a per-element fill runs on one thread. */
#define EM_SAMPLER_GRAIN 4096

/* ------------------------------------------------------------------ per-element stream */

typedef struct {
    uint64_t seed, offset, element, stride, draw;
    em_u32x4 words;
    int left;  /* 64-bit halves of `words` not read yet */
} em_stream;

static inline void stream_open(em_stream *s, uint64_t seed, uint64_t offset, int64_t element,
                               int64_t n)
{
    s->seed = seed;
    s->offset = offset;
    s->element = (uint64_t)element;
    s->stride = (uint64_t)n;
    s->draw = 0;
    s->left = 0;
}

static inline uint64_t stream_word(em_stream *s)
{
    if (s->left == 0) {
        s->words = em_rng_block(s->seed, s->offset, s->element + s->draw * s->stride);
        s->draw++;
        s->left = 2;
    }
    s->left--;
    return em_rng_word64(s->words, 1 - s->left);
}

/* [0, 1) with 53 random bits. */
static inline double stream_uniform(em_stream *s)
{
    return em_rng_unit_f64(stream_word(s));
}

static inline double stream_normal(em_stream *s)
{
    double z0, z1;
    double u1 = em_rng_unit_nonzero_f64(stream_word(s));
    em_rng_box_muller(u1, stream_uniform(s), &z0, &z1);
    return z0;
}

/* ------------------------------------------------------------------ samplers */

/* Marsaglia and Tsang (2000); alpha < 1 is boosted by a power of a uniform. */
static double sample_gamma(double alpha, em_stream *s)
{
    double scale = 1.0;
    if (alpha < 1.0) {
        if (alpha == 0.0) {
            return 0.0;
        }
        scale = pow(1.0 - stream_uniform(s), 1.0 / alpha);
        alpha += 1.0;
    }
    const double d = alpha - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, y;
        do {
            x = stream_normal(s);
            y = 1.0 + c * x;
        } while (y <= 0.0);
        const double v = y * y * y;
        const double u = 1.0 - stream_uniform(s);
        const double xx = x * x;
        if (u < 1.0 - 0.0331 * xx * xx) {
            return scale * d * v;
        }
        if (log(u) < 0.5 * xx + d * (1.0 - v + log(v))) {
            return scale * d * v;
        }
    }
}

/* Transformed rejection (Hormann 1993) for rates of 10 and more, else products of uniforms. */
static double sample_poisson(double lambda, em_stream *s)
{
    if (lambda >= 10.0) {
        const double slam = sqrt(lambda), loglam = log(lambda);
        const double b = 0.931 + 2.53 * slam;
        const double a = -0.059 + 0.02483 * b;
        const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
        const double vr = 0.9277 - 3.6224 / (b - 2.0);
        for (;;) {
            const double u = stream_uniform(s) - 0.5;
            const double v = stream_uniform(s);
            const double us = 0.5 - fabs(u);
            const double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) {
                return k;
            }
            if (k < 0.0 || (us < 0.013 && v > us)) {
                continue;
            }
            if (log(v) + log(invalpha) - log(a / (us * us) + b)
                    <= -lambda + k * loglam - lgamma(k + 1.0)) {
                return k;
            }
        }
    }
    if (lambda == 0.0) {
        return 0.0;
    }
    const double enlam = exp(-lambda);
    double count = 0.0, prod = 1.0;
    for (;;) {
        prod *= stream_uniform(s);
        if (prod <= enlam) {
            return count;
        }
        count += 1.0;
    }
}

/* log(k!) - (Stirling's approximation of it). */
static double stirling_tail(double k)
{
    static const double tail[10] = {
        0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
        0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
        0.00925546218271273, 0.00833056343336287,
    };
    if (k < 10.0) {
        return tail[(int)k];
    }
    const double kp1sq = (k + 1.0) * (k + 1.0);
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1.0);
}

/* Sums geometric waiting times until they pass count (small count * prob). */
static double binomial_inversion(double count, double prob, em_stream *s)
{
    const double logprob = log1p(-prob);
    double geom_sum = 0.0, successes = 0.0;
    for (;;) {
        geom_sum += ceil(log(stream_uniform(s)) / logprob);
        if (geom_sum > count) {
            return successes;
        }
        successes += 1.0;
    }
}

/* Hormann's BTRS (1993), for count * prob >= 10 and prob <= 1/2. */
static double binomial_btrs(double count, double prob, em_stream *s)
{
    const double stddev = sqrt(count * prob * (1.0 - prob));
    const double b = 1.15 + 2.53 * stddev;
    const double a = -0.0873 + 0.0248 * b + 0.01 * prob;
    const double c = count * prob + 0.5;
    const double v_r = 0.92 - 4.2 / b;
    const double r = prob / (1.0 - prob);
    const double alpha = (2.83 + 5.1 / b) * stddev;
    const double m = floor((count + 1.0) * prob);
    for (;;) {
        const double u = stream_uniform(s) - 0.5;
        double v = stream_uniform(s);
        const double us = 0.5 - fabs(u);
        const double k = floor((2.0 * a / us + b) * u + c);
        if (k < 0.0 || k > count) {
            continue;
        }
        if (us >= 0.07 && v <= v_r) {
            return k;
        }
        v = log(v * alpha / (a / (us * us) + b));
        const double upper = (m + 0.5) * log((m + 1.0) / (r * (count - m + 1.0)))
                             + (count + 1.0) * log((count - m + 1.0) / (count - k + 1.0))
                             + (k + 0.5) * log(r * (count - k + 1.0) / (k + 1.0))
                             + stirling_tail(m) + stirling_tail(count - m)
                             - stirling_tail(k) - stirling_tail(count - k);
        if (v <= upper) {
            return k;
        }
    }
}

static double sample_binomial(double count, double prob, em_stream *s)
{
    if (count <= 0.0 || prob <= 0.0) {
        return 0.0;
    }
    if (prob >= 1.0) {
        return count;
    }
    if (prob <= 0.5) {
        return count * prob >= 10.0 ? binomial_btrs(count, prob, s)
                                    : binomial_inversion(count, prob, s);
    }
    if (prob > 0.5) {
        const double q = 1.0 - prob;
        return count - (count * q >= 10.0 ? binomial_btrs(count, q, s)
                                          : binomial_inversion(count, q, s));
    }
    return NAN;  /* prob is NaN */
}

uint64_t em_rng_param_fill(int kind, double *out, const double *a, const double *b, int64_t n,
                           uint64_t seed, uint64_t offset, double tiny)
{
    int64_t threads = em_get_num_threads();
    if (threads > n / EM_SAMPLER_GRAIN) {
        threads = n / EM_SAMPLER_GRAIN;
    }
    if (threads < 1) {
        threads = 1;
    }
    #pragma omp parallel for num_threads((int)threads) schedule(static) if (threads > 1)
    for (int64_t i = 0; i < n; i++) {
        em_stream s;
        stream_open(&s, seed, offset, i, n);
        double v;
        if (kind == EM_RNG_GAMMA) {
            v = sample_gamma(a[i], &s);
            v = v > tiny ? v : tiny;  /* never exactly 0: log-densities stay finite */
        } else if (kind == EM_RNG_POISSON) {
            v = sample_poisson(a[i], &s);
        } else {
            v = sample_binomial(a[i], b[i], &s);
        }
        out[i] = v;
    }
    return em_rng_blocks(n, 1);
}

/* ------------------------------------------------------------------ inverse transforms */

uint64_t em_rng_transform_fill(int kind, double *out, int64_t n, uint64_t seed, uint64_t offset,
                               double p0, double p1)
{
    uint64_t blocks = em_rng_blocks(n, 2);
    int64_t threads = em_get_num_threads();
    if (threads > n / EM_SAMPLER_GRAIN) {
        threads = n / EM_SAMPLER_GRAIN;
    }
    if (threads < 1) {
        threads = 1;
    }
    #pragma omp parallel for num_threads((int)threads) schedule(static) if (threads > 1)
    for (int64_t b = 0; b < (int64_t)blocks; b++) {
        em_u32x4 r = em_rng_block(seed, offset, (uint64_t)b);
        double z[2];
        if (kind == EM_RNG_LOG_NORMAL) {
            em_rng_normal2(r, z);
        }
        for (int k = 0; k < 2 && b * 2 + k < n; k++) {
            uint64_t w = em_rng_word64(r, k);
            double v;
            if (kind == EM_RNG_CAUCHY) {
                /* median + sigma * tan(pi * (u - 1/2)) */
                v = p0 + p1 * tan(3.14159265358979323846 * (em_rng_unit_f64(w) - 0.5));
            } else if (kind == EM_RNG_LOG_NORMAL) {
                v = exp(p0 + p1 * z[k]);
            } else {
                /* failures before the first success, plus one: ceil(log(u) / log(1 - p)) */
                v = ceil(log(em_rng_unit_nonzero_f64(w)) / log1p(-p0));
                v = v < 1.0 ? 1.0 : v;
            }
            out[b * 2 + k] = v;
        }
    }
    return blocks;
}

/* ------------------------------------------------------------------ gradients */

static double digamma_one(double x)
{
    static const double A[] = {
        8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
        -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
        8.33333333333333333333E-2,
    };
    const double PSI_10 = 2.25175258906672110764;
    if (x == 0) {
        return INFINITY;
    }
    double extra = 0.0;
    if (x < 0) {
        if (x == floor(x)) {
            return INFINITY;
        }
        extra = -3.14159265358979323846 / tan(3.14159265358979323846 * x);
        x = 1 - x;
    }
    double result = 0.0;
    while (x < 10) {
        result -= 1 / x;
        x += 1;
    }
    if (x == 10) {
        return result + PSI_10 + extra;
    }
    double y = 0.0;
    if (x < 1.0e17) {
        double z = 1.0 / (x * x), p = 0.0;
        for (int i = 0; i < 7; i++) {
            p = p * z + A[i];
        }
        y = z * p;
    }
    return result + log(x) - 0.5 / x - y + extra;
}

/* d x / d alpha for x ~ Gamma(alpha, 1), holding the CDF fixed: a series for small x,
   Rice's saddle-point expansion for large alpha, else a fitted rational function. */
static double standard_gamma_grad_one(double alpha, double x)
{
    if (x < 0.8) {
        double numer = 1.0, denom = alpha;
        double series1 = numer / denom, series2 = numer / (denom * denom);
        for (int i = 1; i <= 5; ++i) {
            numer *= -x / (double)i;
            denom += 1.0;
            series1 += numer / denom;
            series2 += numer / (denom * denom);
        }
        const double pow_x_alpha = pow(x, alpha);
        const double gamma_pdf = pow(x, alpha - 1.0) * exp(-x);
        const double gamma_cdf = pow_x_alpha * series1;
        const double gamma_cdf_alpha = (log(x) - digamma_one(alpha)) * gamma_cdf
                                       - pow_x_alpha * series2;
        const double result = -gamma_cdf_alpha / gamma_pdf;
        return isnan(result) ? 0.0 : result;
    }
    if (alpha > 8.0) {
        if (0.9 * alpha <= x && x <= 1.1 * alpha) {
            const double numer_1 = 1 + 24 * alpha * (1 + 12 * alpha);
            const double numer_2 = 1440 * (alpha * alpha) + 6 * x * (53 - 120 * x)
                                   - 65 * x * x / alpha + alpha * (107 + 3600 * x);
            const double denom = 1244160 * (alpha * alpha) * (alpha * alpha);
            return numer_1 * numer_2 / denom;
        }
        const double denom = sqrt(8 * alpha);
        const double term2 = denom / (alpha - x);
        const double term3 = pow(x - alpha - alpha * log(x / alpha), -1.5);
        const double term23 = (x < alpha) ? term2 - term3 : term2 + term3;
        const double term1 = log(x / alpha) * term23
                             - sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x));
        const double stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha));
        return -stirling * x * term1 / denom;
    }
    static const double coef_uv[3][8] = {
        {0.16009398, -0.094634809, 0.025146376, -0.0030648343,
         1, 0.32668115, 0.10406089, 0.0014179084},
        {0.53487893, 0.1298071, 0.065735949, -0.0015649758,
         0.16639465, 0.020070113, -0.0035938915, -0.00058392623},
        {0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
         0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07},
    };
    const double u = log(x / alpha), v = log(alpha);
    double coef_v[8];
    for (int i = 0; i < 8; ++i) {
        coef_v[i] = coef_uv[0][i] + u * (coef_uv[1][i] + u * coef_uv[2][i]);
    }
    const double p = coef_v[0] + v * (coef_v[1] + v * (coef_v[2] + v * coef_v[3]));
    const double q = coef_v[4] + v * (coef_v[5] + v * (coef_v[6] + v * coef_v[7]));
    return exp(p / q);
}

static double beta_grad_alpha_small(double x, double alpha, double beta)
{
    const double factor = digamma_one(alpha) - digamma_one(alpha + beta) - log(x);
    double numer = 1.0, series = numer / alpha * (factor + 1 / alpha);
    for (int i = 1; i <= 10; ++i) {
        numer *= (i - beta) * x / i;
        const double denom = alpha + i;
        series += numer / denom * (factor + 1 / denom);
    }
    const double result = x * pow(1 - x, -beta) * series;
    return isnan(result) ? 0.0 : result;
}

static double beta_grad_beta_small(double x, double alpha, double beta)
{
    const double factor = digamma_one(alpha + beta) - digamma_one(beta);
    double numer = 1.0, betas = 1.0, dbetas = 0.0, series = factor / alpha;
    for (int i = 1; i <= 8; ++i) {
        numer *= -x / i;
        dbetas = dbetas * (beta - i) + betas;
        betas = betas * (beta - i);
        series += numer / (alpha + i) * (dbetas + factor * betas);
    }
    const double result = -pow(1 - x, 1 - beta) * series;
    return isnan(result) ? 0.0 : result;
}

static double beta_grad_alpha_mid(double x, double alpha, double beta)
{
    const double total = alpha + beta;
    const double mean = alpha / total;
    const double std = sqrt(alpha * beta / (total + 1)) / total;
    if (mean - 0.1 * std <= x && x <= mean + 0.1 * std) {
        const double poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
            (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
            (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
            8 * (1 - x) * (135 * beta - 11)))));
        const double prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total);
        const double prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total);
        return prefactor_num / (1 - x) * poly / prefactor_den;
    }
    const double prefactor = -x / sqrt(2 * alpha * beta / total);
    const double stirling = (1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
                            * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                            / (1 + 1 / (12 * total) + 1 / (288 * total * total));
    const double term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1)
                             - x * (beta * beta);
    const double axbx = alpha * (x - 1) + beta * x;
    const double term1_den = sqrt(2 * alpha / beta) * pow(total, 1.5) * axbx * axbx;
    const double term1 = term1_num / term1_den;
    const double term2 = 0.5 * log(alpha / (total * x));
    const double term3 = sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1));
    const double term4_base = beta * log(beta / (total * (1 - x))) + alpha * log(alpha / (total * x));
    const double term4 = pow(term4_base, -1.5);
    const double term1234 = term1 + term2 * (term3 + (x < mean ? term4 : -term4));
    return stirling * prefactor * term1234;
}

/* d x / d alpha for x ~ Beta(alpha, total - alpha) holding the CDF fixed. */
static double dirichlet_grad_one(double x, double alpha, double total)
{
    static const double c[2][3][3][4] = {
        {{{1.003668233, -0.01061107488, -0.0657888334, 0.01201642863},
          {0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033},
          {-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013}},
         {{0.221950385, -0.3187676331, 0.01799915743, 0.01074823814},
          {-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057},
          {0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05}},
         {{-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565},
          {0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181},
          {0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05}}},
        {{{1, -0.02924021934, -0.04438342661, 0.007285809825},
          {0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521},
          {-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149}},
         {{0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273},
          {0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956},
          {-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05}},
         {{0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05},
          {0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05},
          {-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06}}},
    };
    const double beta = total - alpha;
    const double boundary = total * x * (1 - x);
    if (x <= 0.5 && boundary < 2.5) {
        return beta_grad_alpha_small(x, alpha, beta);
    }
    if (x >= 0.5 && boundary < 0.75) {
        return -beta_grad_beta_small(1 - x, beta, alpha);
    }
    if (alpha > 6 && beta > 6) {
        return beta_grad_alpha_mid(x, alpha, beta);
    }
    const double u = log(x);
    const double a = log(alpha) - u;
    const double b = log(total) - a;
    const double pow_u[3] = {1, u, u * u};
    const double pow_a[3] = {1, a, a * a};
    double p = 0.0, q = 0.0;
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            const double ua = pow_u[i] * pow_a[j];
            p += ua * (c[0][i][j][0] + b * (c[0][i][j][1] + b * (c[0][i][j][2] + b * c[0][i][j][3])));
            q += ua * (c[1][i][j][0] + b * (c[1][i][j][1] + b * (c[1][i][j][2] + b * c[1][i][j][3])));
        }
    }
    const double approx = x * (digamma_one(total) - digamma_one(alpha)) / beta;
    return p / q * approx;
}

void em_rng_gamma_grad(double *out, const double *alpha, const double *x, int64_t n)
{
    #pragma omp parallel for num_threads(em_get_num_threads()) schedule(static) \
        if (n > EM_SAMPLER_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        out[i] = standard_gamma_grad_one(alpha[i], x[i]);
    }
}

void em_rng_dirichlet_grad(double *out, const double *x, const double *alpha,
                           const double *total, int64_t n)
{
    #pragma omp parallel for num_threads(em_get_num_threads()) schedule(static) \
        if (n > EM_SAMPLER_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        out[i] = dirichlet_grad_one(x[i], alpha[i], total[i]);
    }
}
