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

/* Loops the vectoriser must take although its cost model would not (folds whose
 * combine is a NaN-propagating select ran scalar, with a branch per element):
 * the loop's iterations are independent. */
/* Generic vectors with shuffles and conversions (GCC >= 12, Clang): loops
 * written with them keep their lanes in registers in every clone. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector) && __has_builtin(__builtin_convertvector)
#define EM_HAVE_SHUFFLEVECTOR 1
#endif
#endif

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
