/* Vectorisation helpers for generated loops.
 *
 * EM_MULTIVERSION compiles a loop for AVX-512, AVX2 and baseline x86-64 and
 * picks one at load time (GCC function multi-versioning), so a portable build
 * still runs wide vectors.  With glibc's libmvec, math calls in those loops
 * are declared SIMD-capable so the vectoriser calls its vector variants.
 */
#ifndef EMBER_SIMD_H
#define EMBER_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define EM_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
/* GCC lowers a generic-vector comparison element by element when the function's
 * own target lacks registers that wide, and a target_clones function is lowered
 * for the baseline before it is cloned: loops with vector selects are compiled
 * with EM_TARGET_AVX2 and run where em_have_avx2().  Not for AVX-512: its
 * compares write mask registers, and max along rows of 200 float32 ran at half
 * the speed of AVX2's blends on Zen 4/5. */
#define EM_ISA_DISPATCH 1
#define EM_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
static inline int em_have_avx2(void)
{
    return __builtin_cpu_supports("x86-64-v3");
}
#else
#define EM_MULTIVERSION
#endif

/* Elementwise loops read element i before writing element i and never touch
 * other elements; the engine copies inputs that partially overlap the output,
 * so the vectoriser may skip its runtime alias checks. */
#if defined(__GNUC__) && !defined(__clang__)
#define EM_IVDEP _Pragma("GCC ivdep")
#else
#define EM_IVDEP
#endif

/* Generic vectors with shuffles and conversions (GCC >= 12, Clang): loops
 * written with them keep their lanes in registers. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector) && __has_builtin(__builtin_convertvector)
#define EM_HAVE_SHUFFLEVECTOR 1
#endif
#endif

/* x where the comparison mask is set, y elsewhere, on generic vectors (C has no
 * ?: on them); compilers turn it into one blend. */
#define EM_VSEL(mask, x, y) \
    ((__typeof__(x))(((mask) & (__typeof__(mask))(x)) | (~(mask) & (__typeof__(mask))(y))))

/* Loops the vectoriser must take although its cost model would not (folds whose
 * combine is a NaN-propagating select ran scalar, with a branch per element):
 * the loop's iterations are independent. */
#if defined(_OPENMP) || defined(_OPENMP_SIMD)
#define EM_SIMD _Pragma("omp simd")
#else
#define EM_SIMD EM_IVDEP
#endif

#if defined(EM_HAVE_LIBMVEC) && defined(_OPENMP)
#define EM_DECLARE_SIMD(name) \
    _Pragma("omp declare simd notinbranch") float name##f(float); \
    _Pragma("omp declare simd notinbranch") double (name)(double);
EM_DECLARE_SIMD(exp)
EM_DECLARE_SIMD(expm1)
EM_DECLARE_SIMD(exp2)
EM_DECLARE_SIMD(log)
EM_DECLARE_SIMD(log1p)
EM_DECLARE_SIMD(log2)
EM_DECLARE_SIMD(log10)
EM_DECLARE_SIMD(sin)
EM_DECLARE_SIMD(cos)
EM_DECLARE_SIMD(tan)
EM_DECLARE_SIMD(tanh)
EM_DECLARE_SIMD(sinh)
EM_DECLARE_SIMD(cosh)
EM_DECLARE_SIMD(erf)
EM_DECLARE_SIMD(erfc)
#undef EM_DECLARE_SIMD
#endif

#endif
