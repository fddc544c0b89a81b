/* Device-side helpers shared by ember's CUDA kernels: fixed-width types, 16-bit float
 * conversions (bit-exact with the CPU's include/ember/dtype.h), the scalar helpers
 * the op table's expressions call (the CPU's include/ember/scalar.h), and the
 * layout struct of the strided kernels.
 *
 * Compiles with nvcc and with NVRTC (no host headers: __CUDACC_RTC__).
 */
#ifndef EMBER_CUDA_CUH
#define EMBER_CUDA_CUH

#if defined(__CUDACC_RTC__) || defined(EM_CUDA_NO_HOST_HEADERS)
/* NVRTC has no <stdint.h>; these match glibc's (LP64), so that they also compile when
 * nvcc checks this branch with the host's own typedefs in scope */
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
typedef unsigned long uintptr_t;
#else
#include <stdint.h>
#endif
static_assert(sizeof(int64_t) == 8 && sizeof(uintptr_t) == sizeof(void *), "LP64 data model");

#define EM_CUDA_MAX_DIMS 8
#define EM_CUDA_MAX_INPUTS 3
#define EM_ERR_ZERO_DIVISION 1
#define EM_ERR_INDEX 2

typedef uint16_t em_half;
typedef uint16_t em_bfloat16;

/* Layout of a strided launch: the broadcast shape (coalesced on the host) and each
 * operand's byte strides, output first.  Passed by value as one kernel argument. */
struct em_cuda_layout {
    int64_t shape[EM_CUDA_MAX_DIMS];
    int64_t strides[EM_CUDA_MAX_INPUTS + 1][EM_CUDA_MAX_DIMS];
    int64_t numel;
    int32_t ndim;
    int32_t pad_;
};

/* Per-thread error flag, as the CPU loops' em_ew_ctx; merged into global memory. */
struct em_ew_ctx {
    int error;
};

static __device__ __forceinline__ float em_half_to_float(em_half h)
{
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

static __device__ __forceinline__ em_half em_float_to_half(float f)
{
    em_half h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

static __device__ __forceinline__ float em_bfloat16_to_float(em_bfloat16 b)
{
    return __uint_as_float((uint32_t)b << 16);
}

/* Round to nearest even, as the CPU (and PyTorch's c10::BFloat16); NaN stays a quiet NaN. */
static __device__ __forceinline__ em_bfloat16 em_float_to_bfloat16(float f)
{
    if (f != f) {
        return (em_bfloat16)0x7fc0;
    }
    uint32_t u = __float_as_uint(f);
    return (em_bfloat16)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static __device__ __forceinline__ int64_t em_ifloordiv(int64_t a, int64_t b, em_ew_ctx *ctx)
{
    if (b == 0) {
        ctx->error = EM_ERR_ZERO_DIVISION;
        return 0;
    }
    if (b == -1) {
        return (int64_t)(0 - (uint64_t)a);
    }
    int64_t q = a / b, r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}

static __device__ __forceinline__ int64_t em_iremainder(int64_t a, int64_t b, em_ew_ctx *ctx)
{
    if (b == 0) {
        ctx->error = EM_ERR_ZERO_DIVISION;
        return 0;
    }
    if (b == -1) {
        return 0;
    }
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

static __device__ __forceinline__ int64_t em_ifmod(int64_t a, int64_t b, em_ew_ctx *ctx)
{
    if (b == 0) {
        ctx->error = EM_ERR_ZERO_DIVISION;
        return 0;
    }
    return b == -1 ? 0 : a % b;  /* INT64_MIN % -1 traps */
}

#define EM_UFLOORDIV(a, b, ctx) ((b) == 0 ? ((ctx)->error = EM_ERR_ZERO_DIVISION, (T)0) : (T)((a) / (b)))
#define EM_UREM(a, b, ctx) ((b) == 0 ? ((ctx)->error = EM_ERR_ZERO_DIVISION, (T)0) : (T)((a) % (b)))

/* Python's float floor division (Objects/floatobject.c), as PyTorch does. */
template <class T>
static __device__ __forceinline__ T em_ffloordiv(T a, T b)
{
    if (b == 0) {
        return a / b;
    }
    T mod = fmod(a, b);
    T div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) {
        div -= 1;
    }
    T floordiv;
    if (div != 0) {
        floordiv = floor(div);
        if (div - floordiv > (T)0.5) {
            floordiv += 1;
        }
    } else {
        floordiv = copysign((T)0, a / b);
    }
    return floordiv;
}

template <class T>
static __device__ __forceinline__ T em_fremainder(T a, T b)
{
    T mod = fmod(a, b);
    if (mod != 0 && ((b < 0) != (mod < 0))) {
        mod += b;
    }
    return mod;
}

#define EM_FFLOORDIV(a, b) em_ffloordiv((a), (b))
#define EM_FREMAINDER(a, b) em_fremainder((a), (b))

/* Phi(x), the standard normal CDF, for gelu */
template <class T>
static __device__ __forceinline__ T em_normal_cdf(T x)
{
    return (T)0.5 * erfc(-x * (T)0.70710678118654752440);
}

#define EM_NORMAL_CDF(x) em_normal_cdf(x)

/* Integer power by squaring; negative exponents give 0 except for bases 1 and -1. */
static __device__ __forceinline__ int64_t em_ipow(int64_t base, int64_t exp)
{
    if (exp < 0) {
        if (base == 1) {
            return 1;
        }
        if (base == -1) {
            return (exp & 1) ? -1 : 1;
        }
        return 0;
    }
    uint64_t result = 1, b = (uint64_t)base;
    while (exp) {
        if (exp & 1) {
            result *= b;
        }
        b *= b;
        exp >>= 1;
    }
    return (int64_t)result;
}

static __device__ __forceinline__ int64_t em_igcd(int64_t a, int64_t b)
{
    uint64_t x = a < 0 ? 0 - (uint64_t)a : (uint64_t)a, y = b < 0 ? 0 - (uint64_t)b : (uint64_t)b;
    while (y != 0) {
        uint64_t t = x % y;
        x = y;
        y = t;
    }
    return (int64_t)x;
}

static __device__ __forceinline__ int64_t em_ilcm(int64_t a, int64_t b)
{
    int64_t g = em_igcd(a, b);
    if (g == 0) {
        return 0;
    }
    int64_t l = (int64_t)((uint64_t)(a / g) * (uint64_t)b);
    return l < 0 ? (int64_t)(0 - (uint64_t)l) : l;
}

#define EM_SHL(T, a, b) ((b) < 0 || (uint64_t)(b) >= 8 * sizeof(T) ? (T)0 \
                         : (T)((uint64_t)(a) << (b)))
#define EM_SHR(T, a, b) ((b) < 0 || (uint64_t)(b) >= 8 * sizeof(T) ? (T)((a) < 0 ? -1 : 0) \
                         : (T)((a) >> (b)))

/* ------------------------------------------------------------------ complex numbers */

#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

/* complex64 and complex128: two parts, laid out as C's float _Complex / double _Complex
 * (and the CPU's em_complex64/128), with the operators and functions the op table's
 * complex expressions use.  As C99 (and the CPU loops), an operation with a real
 * operand acts on the parts, so no 0 * inf of a phantom imaginary part appears;
 * division scales as c10::complex's does. */
template <class R>
struct alignas(2 * sizeof(R)) em_complex {
    R re, im;
    em_complex() = default;
    __host__ __device__ constexpr em_complex(R r, R i = 0) : re(r), im(i) { }
    template <class S>
    __host__ __device__ constexpr explicit em_complex(em_complex<S> z) : re((R)z.re), im((R)z.im) { }

    friend __device__ __forceinline__ em_complex operator-(em_complex a) { return em_complex(-a.re, -a.im); }
    friend __device__ __forceinline__ em_complex operator+(em_complex a, em_complex b) { return em_complex(a.re + b.re, a.im + b.im); }
    friend __device__ __forceinline__ em_complex operator+(em_complex a, R b) { return em_complex(a.re + b, a.im); }
    friend __device__ __forceinline__ em_complex operator+(R a, em_complex b) { return em_complex(a + b.re, b.im); }
    friend __device__ __forceinline__ em_complex operator-(em_complex a, em_complex b) { return em_complex(a.re - b.re, a.im - b.im); }
    friend __device__ __forceinline__ em_complex operator-(em_complex a, R b) { return em_complex(a.re - b, a.im); }
    friend __device__ __forceinline__ em_complex operator-(R a, em_complex b) { return em_complex(a - b.re, -b.im); }
    friend __device__ __forceinline__ em_complex operator*(em_complex a, em_complex b)
    {
        return em_complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
    }
    friend __device__ __forceinline__ em_complex operator*(em_complex a, R b) { return em_complex(a.re * b, a.im * b); }
    friend __device__ __forceinline__ em_complex operator*(R a, em_complex b) { return em_complex(a * b.re, a * b.im); }
    friend __device__ __forceinline__ em_complex operator/(em_complex a, em_complex b)
    {
        R ar = fabs(b.re), ai = fabs(b.im);
        if (ar >= ai) {
            if (ar == 0 && ai == 0) {
                return em_complex(a.re / ar, a.im / ai);
            }
            R rat = b.im / b.re, scl = (R)1 / (b.re + b.im * rat);
            return em_complex((a.re + a.im * rat) * scl, (a.im - a.re * rat) * scl);
        }
        R rat = b.re / b.im, scl = (R)1 / (b.im + b.re * rat);
        return em_complex((a.re * rat + a.im) * scl, (a.im * rat - a.re) * scl);
    }
    friend __device__ __forceinline__ em_complex operator/(em_complex a, R b) { return em_complex(a.re / b, a.im / b); }
    friend __device__ __forceinline__ bool operator==(em_complex a, em_complex b) { return a.re == b.re && a.im == b.im; }
    friend __device__ __forceinline__ bool operator!=(em_complex a, em_complex b) { return !(a == b); }
};
typedef em_complex<float> em_complex64;
typedef em_complex<double> em_complex128;

template <class R> static __device__ __forceinline__ R creal(em_complex<R> z) { return z.re; }
template <class R> static __device__ __forceinline__ R cimag(em_complex<R> z) { return z.im; }
template <class R> static __device__ __forceinline__ em_complex<R> conj(em_complex<R> z) { return em_complex<R>(z.re, -z.im); }
template <class R> static __device__ __forceinline__ R fabs(em_complex<R> z) { return hypot(z.re, z.im); }
template <class R> static __device__ __forceinline__ R carg(em_complex<R> z) { return atan2(z.im, z.re); }
static __device__ __forceinline__ float cabsf(em_complex64 z) { return fabs(z); }
static __device__ __forceinline__ double cabs(em_complex128 z) { return fabs(z); }
/* i * z and -i * z */
template <class R> static __device__ __forceinline__ em_complex<R> em_mul_i(em_complex<R> z) { return em_complex<R>(-z.im, z.re); }
template <class R> static __device__ __forceinline__ em_complex<R> em_mul_mi(em_complex<R> z) { return em_complex<R>(z.im, -z.re); }

template <class R>
static __device__ __forceinline__ em_complex<R> exp(em_complex<R> z)
{
    if (z.im == 0) {    /* exact on the real axis, the imaginary zero's sign kept */
        return em_complex<R>(exp(z.re), z.im);
    }
    R m = exp(z.re);
    return em_complex<R>(m * cos(z.im), m * sin(z.im));
}

template <class R>
static __device__ __forceinline__ em_complex<R> log(em_complex<R> z)
{
    return em_complex<R>(log(fabs(z)), carg(z));
}

/* log(1 + z), accurate for small z */
template <class R>
static __device__ __forceinline__ em_complex<R> em_log1p(em_complex<R> z)
{
    R re = (R)0.5 * log1p(z.re * (2 + z.re) + z.im * z.im);
    if (!(re == re) || fabs(z.re) > (R)0.5 || fabs(z.im) > (R)0.5) {
        return log(1 + z);
    }
    return em_complex<R>(re, atan2(z.im, 1 + z.re));
}

/* principal root; no overflow in the intermediate hypot */
template <class R>
static __device__ __forceinline__ em_complex<R> sqrt(em_complex<R> z)
{
    if (z.re == 0 && z.im == 0) {
        return em_complex<R>(0, z.im);
    }
    if (isinf(z.im)) {
        return em_complex<R>(INFINITY, z.im);
    }
    R t = sqrt((fabs(z.re) + fabs(z)) / 2);
    if (z.re >= 0) {
        return em_complex<R>(t, z.im / (2 * t));
    }
    return em_complex<R>(fabs(z.im) / (2 * t), copysign(t, z.im));
}

template <class R>
static __device__ __forceinline__ em_complex<R> sinh(em_complex<R> z)
{
    return em_complex<R>(sinh(z.re) * cos(z.im), cosh(z.re) * sin(z.im));
}

template <class R>
static __device__ __forceinline__ em_complex<R> cosh(em_complex<R> z)
{
    return em_complex<R>(cosh(z.re) * cos(z.im), sinh(z.re) * sin(z.im));
}

/* Kahan's formula, which neither overflows nor cancels */
template <class R>
static __device__ __forceinline__ em_complex<R> tanh(em_complex<R> z)
{
    if (fabs(z.re) > 22) {
        return em_complex<R>(copysign((R)1, z.re), copysign((R)0, sin(2 * z.im)));
    }
    R t = tan(z.im), beta = 1 + t * t, s = sinh(z.re), rho = sqrt(1 + s * s);
    R den = 1 + beta * s * s;
    return em_complex<R>(beta * rho * s / den, t / den);
}

template <class R>
static __device__ __forceinline__ em_complex<R> sin(em_complex<R> z) { return em_mul_mi(sinh(em_mul_i(z))); }
template <class R>
static __device__ __forceinline__ em_complex<R> cos(em_complex<R> z) { return cosh(em_mul_i(z)); }
template <class R>
static __device__ __forceinline__ em_complex<R> tan(em_complex<R> z) { return em_mul_mi(tanh(em_mul_i(z))); }

/* asin, acos and acosh by Kahan's formulas ("Branch cuts for complex elementary
 * functions", 1987): no cancellation near the branch points, C99's branch cuts */
template <class R>
static __device__ __forceinline__ em_complex<R> asin(em_complex<R> z)
{
    em_complex<R> a = sqrt(1 - z), b = sqrt(1 + z);
    return em_complex<R>(atan2(z.re, a.re * b.re - a.im * b.im), asinh(a.re * b.im - a.im * b.re));
}

template <class R>
static __device__ __forceinline__ em_complex<R> acos(em_complex<R> z)
{
    em_complex<R> a = sqrt(1 - z), b = sqrt(1 + z);
    return em_complex<R>(2 * atan2(a.re, b.re), asinh(b.re * a.im - b.im * a.re));
}

template <class R>
static __device__ __forceinline__ em_complex<R> acosh(em_complex<R> z)
{
    em_complex<R> a = sqrt(z - 1), b = sqrt(z + 1);
    return em_complex<R>(asinh(a.re * b.re + a.im * b.im), 2 * atan2(a.im, b.re));
}

template <class R>
static __device__ __forceinline__ em_complex<R> asinh(em_complex<R> z) { return em_mul_mi(asin(em_mul_i(z))); }

template <class R>
static __device__ __forceinline__ em_complex<R> atanh(em_complex<R> z)
{
    return (em_log1p(z) - em_log1p(-z)) * (R)0.5;
}

template <class R>
static __device__ __forceinline__ em_complex<R> atan(em_complex<R> z) { return em_mul_mi(atanh(em_mul_i(z))); }

/* x ** y = exp(y log x), with 0 ** y as C99's cpow: 1 for y = 0, 0 for real y > 0 */
template <class R>
static __device__ __forceinline__ em_complex<R> pow(em_complex<R> x, em_complex<R> y)
{
    if (y.re == 0 && y.im == 0) {
        return em_complex<R>(1, 0);
    }
    if (x.re == 0 && x.im == 0 && y.im == 0 && y.re > 0) {
        return em_complex<R>(0, 0);
    }
    return exp(y * log(x));
}

/* ------------------------------------------------------------------ reductions */

/* The parameters of a reduction (the CPU's em_reduce_params in include/ember/reduce.h,
 * padded to 8 bytes), passed by value. */
struct em_reduce_params {
    double scale;       /* sum: result multiplier (1/N for mean) */
    double p, inv_p;    /* pow-sum norm order and its inverse */
    double correction;  /* var/std: the divisor is max(N - correction, 0) */
    int32_t take_sqrt;  /* var -> std */
    int32_t pad_;
};

/* Byte offset in operand k of the i-th element (row-major over L's shape). */
template <class I>
static __device__ __forceinline__ I em_layout_offset(const em_cuda_layout &L, I i, int k)
{
    if (L.ndim <= 1) {
        return i * (I)L.strides[k][0];
    }
    I off = 0;
    for (int d = L.ndim - 1; d >= 0; d--) {
        I size = (I)L.shape[d];
        off += (i % size) * (I)L.strides[k][d];
        i /= size;
    }
    return off;
}

/* __shfl_down_sync of any trivially copyable value, 32 bits at a time. */
template <class A>
static __device__ __forceinline__ A em_shfl_down(A a, int delta)
{
    const int W = (sizeof(A) + 3) / 4;
    union { A a; uint32_t w[W]; } u;
    u.a = a;
#pragma unroll
    for (int k = 0; k < W; k++) {
        u.w[k] = __shfl_down_sync(0xffffffffu, u.w[k], delta);
    }
    return u.a;
}

template <class A>
static __device__ __forceinline__ A em_shfl_up(A a, int delta)
{
    const int W = (sizeof(A) + 3) / 4;
    union { A a; uint32_t w[W]; } u;
    u.a = a;
#pragma unroll
    for (int k = 0; k < W; k++) {
        u.w[k] = __shfl_up_sync(0xffffffffu, u.w[k], delta);
    }
    return u.a;
}

/* Combiners of em_block_reduce: sum, and max with NaN propagating (the CPU's lane max) */
template <class T>
struct em_sum_op {
    static __device__ __forceinline__ T comb(T a, T b) { return a + b; }
};
template <class T>
struct em_max_op {
    static __device__ __forceinline__ T comb(T a, T b) { return (b > a || b != b) ? b : a; }
};
/* Reduce one value per thread of a 1-D block (a multiple of 32 threads, at most 1024)
 * with C::comb(a, b) and identity `ident`: warp shuffles, then one warp over the warps'
 * results in `shared` (32 slots).  The result is valid in thread 0; the block must
 * __syncthreads() before reusing `shared`. */
template <class C, class A>
static __device__ __forceinline__ A em_block_reduce(A a, A ident, A *shared)
{
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int delta = 16; delta > 0; delta /= 2) {
        a = C::comb(a, em_shfl_down(a, delta));
    }
    if (blockDim.x <= 32) {
        return a;
    }
    if (lane == 0) {
        shared[warp] = a;
    }
    __syncthreads();
    if (warp == 0) {
        a = lane < (int)(blockDim.x / 32) ? shared[lane] : ident;
        for (int delta = 16; delta > 0; delta /= 2) {
            a = C::comb(a, em_shfl_down(a, delta));
        }
    }
    return a;
}

/* The reduction of a block's values, as em_block_reduce, handed to every thread. */
template <class C, class A>
static __device__ __forceinline__ A em_block_allreduce(A a, A ident, A *shared)
{
    a = em_block_reduce<C>(a, ident, shared);
    __syncthreads();
    if (threadIdx.x == 0) {
        shared[0] = a;
    }
    __syncthreads();
    a = shared[0];
    __syncthreads();
    return a;
}

#endif
