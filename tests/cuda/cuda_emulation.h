/* A CPU emulation of the CUDA features ember's kernels use, for the tests that run the
 * kernels without a GPU (cuda_emulation.py): the rendered kernel source is compiled by
 * the host compiler after the first part of this file (EMU_PART 1) and before the second,
 * then the table of the family's kernels (EMU_KERNEL lines) and the third part.
 *
 * Blocks run one after another; the threads of a block are coroutines that switch at
 * __syncthreads() and at warp shuffles, so each barrier waits for exactly the threads
 * CUDA's would: the block's, or the 32 lanes of the warp.  __shared__ variables become
 * statics, which blocks running in turn may share.  Atomics are plain read-modify-writes
 * (nothing runs between them).
 */
#if EMU_PART == 1
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <ucontext.h>
#include <functional>
#include <type_traits>
#include <utility>

#define __CUDA_ARCH__ 800          /* the device branches of shared headers, as for sm_80 */
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct emu_dim3 {
    unsigned x, y, z;
};
static emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

enum { EMU_RUNNABLE, EMU_AT_SYNCTHREADS, EMU_AT_WARP, EMU_DONE };
/* Each thread slot is one coroutine on its own stack, started once (makecontext) and
 * switched with _setjmp/_longjmp, which (unlike swapcontext) make no system call. */
struct emu_thread {
    jmp_buf at;
    int state;
    int started;
};
static emu_thread emu_threads[1024];
static int emu_current;
static jmp_buf emu_scheduler;
static uint32_t emu_lanes[32][32];

static void emu_wait(int state)
{
    emu_threads[emu_current].state = state;
    if (!_setjmp(emu_threads[emu_current].at)) {
        _longjmp(emu_scheduler, 1);
    }
}

static inline void __syncthreads() { emu_wait(EMU_AT_SYNCTHREADS); }

/* lane l reads lane l + delta's value (its own when that is outside the warp) */
static inline uint32_t emu_shuffle(uint32_t v, int delta)
{
    int t = threadIdx.x + threadIdx.y * blockDim.x, w = t / 32, l = t % 32;
    emu_lanes[w][l] = v;
    emu_wait(EMU_AT_WARP);
    uint32_t r = (l + delta >= 0 && l + delta < 32) ? emu_lanes[w][l + delta] : v;
    emu_wait(EMU_AT_WARP);
    return r;
}
static inline uint32_t __shfl_down_sync(unsigned, uint32_t v, int delta)
{
    return emu_shuffle(v, delta);
}
static inline uint32_t __shfl_up_sync(unsigned, uint32_t v, int delta)
{
    return emu_shuffle(v, -delta);
}

static inline float __uint_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t __float_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float __int_as_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline uint64_t __umul64hi(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

/* atomics: each returns the old value, as CUDA's */
template <class T>
static inline T emu_exchange(T *p, T v) { T old = *p; *p = v; return old; }
static inline int atomicExch(int *p, int v) { return emu_exchange(p, v); }
static inline int atomicAdd(int *p, int v)
{
    return emu_exchange(p, (int)((unsigned)*p + (unsigned)v));
}
static inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v)
{
    return emu_exchange(p, *p + v);
}
static inline float atomicAdd(float *p, float v) { return emu_exchange(p, *p + v); }
static inline double atomicAdd(double *p, double v) { return emu_exchange(p, *p + v); }
template <class T>
static inline T atomicCAS(T *p, T compare, T v)
{
    T old = *p;
    if (old == compare) {
        *p = v;
    }
    return old;
}
/* red.add.noftz.f16: the sum rounded once to half (the double sum of two halves is exact) */
static inline void emu_red_add_f16(uint16_t *p, uint16_t v)
{
    double sum = (double)__builtin_bit_cast(_Float16, *p)
                 + (double)__builtin_bit_cast(_Float16, v);
    *p = __builtin_bit_cast(uint16_t, (_Float16)sum);
}

#elif EMU_PART == 2   /* the launches */

#define EMU_STACK (64 * 1024)
static std::function<void()> *emu_body;
static char *emu_stacks;

/* a thread slot's life: run the current launch's body for each block it is given */
static void emu_entry(int t)
{
    for (;;) {
        (*emu_body)();
        emu_wait(EMU_DONE);
    }
}

static void emu_resume(int t)
{
    if (_setjmp(emu_scheduler)) {
        return;
    }
    if (emu_threads[t].started) {
        _longjmp(emu_threads[t].at, 1);
    }
    static ucontext_t start, self;
    if (emu_stacks == NULL) {
        emu_stacks = (char *)malloc((size_t)1024 * EMU_STACK);
    }
    getcontext(&start);
    start.uc_stack.ss_sp = emu_stacks + (size_t)t * EMU_STACK;
    start.uc_stack.ss_size = EMU_STACK;
    start.uc_link = NULL;
    makecontext(&start, (void (*)())emu_entry, 1, t);
    emu_threads[t].started = 1;
    swapcontext(&self, &start);     /* comes back through _longjmp(emu_scheduler) */
}

/* Run one block of n threads: each until it waits, then release a warp whose 32 lanes
 * all wait at a shuffle, else the block when every thread waits at __syncthreads(). */
static void emu_block(int n, std::function<void()> &body)
{
    emu_body = &body;
    for (int t = 0; t < n; t++) {
        emu_threads[t].state = EMU_RUNNABLE;
    }
    for (;;) {
        for (int t = 0; t < n; t++) {
            if (emu_threads[t].state == EMU_RUNNABLE) {
                emu_current = t;
                threadIdx = {(unsigned)(t % blockDim.x), (unsigned)(t / blockDim.x % blockDim.y),
                             (unsigned)(t / (blockDim.x * blockDim.y))};
                emu_resume(t);
            }
        }
        int done = 0, synced = 0, released = 0;
        for (int t = 0; t < n; t++) {
            done += emu_threads[t].state == EMU_DONE;
            synced += emu_threads[t].state == EMU_AT_SYNCTHREADS;
        }
        if (done == n) {
            return;
        }
        for (int w = 0; w < n / 32; w++) {
            int all = 1;
            for (int l = 0; l < 32; l++) {
                all &= emu_threads[w * 32 + l].state == EMU_AT_WARP;
            }
            for (int l = 0; all && l < 32; l++) {
                emu_threads[w * 32 + l].state = EMU_RUNNABLE;
            }
            released |= all;
        }
        if (released) {
            continue;
        }
        if (synced != n) {
            fprintf(stderr, "cuda emulation: barrier deadlock (%d of %d threads at "
                    "__syncthreads, %d exited)\n", synced, n, done);
            abort();
        }
        for (int t = 0; t < n; t++) {
            emu_threads[t].state = EMU_RUNNABLE;
        }
    }
}

/* dims: the grid's x, y, z, then the block's */
static void emu_grid(const int *dims, std::function<void()> body)
{
    gridDim = {(unsigned)dims[0], (unsigned)dims[1], (unsigned)dims[2]};
    blockDim = {(unsigned)dims[3], (unsigned)dims[4], (unsigned)dims[5]};
    for (unsigned z = 0; z < gridDim.z; z++) {
        for (unsigned y = 0; y < gridDim.y; y++) {
            for (unsigned x = 0; x < gridDim.x; x++) {
                blockIdx = {x, y, z};
                emu_block(dims[3] * dims[4] * dims[5], body);
            }
        }
    }
}

/* A kernel called as cuLaunchKernel does: args[i] points at the value of parameter i. */
template <class... A, size_t... I>
static void emu_invoke(void (*fn)(A...), void **args, std::index_sequence<I...>)
{
    fn(*static_cast<std::remove_cv_t<std::remove_reference_t<A>> *>(args[I])...);
}

template <class... A>
static void emu_run(void *fn, void **args, const int *dims)
{
    auto kernel = (void (*)(A...))fn;
    emu_grid(dims, [=]() { emu_invoke(kernel, args, std::index_sequence_for<A...>{}); });
}

/* A parameter's kind, for the launch's checks: p pointer, i integer, f floating, s struct */
template <class T>
static constexpr char emu_kind()
{
    return std::is_pointer<T>::value ? 'p' : std::is_integral<T>::value ? 'i'
         : std::is_floating_point<T>::value ? 'f' : 's';
}

struct emu_kernel {
    const char *name;
    void *fn;
    void (*run)(void *, void **, const int *);
    int nargs;
    const int *sizes;
    const char *kinds;
};

template <class... A>
static emu_kernel emu_describe(const char *name, void (*fn)(A...))
{
    static const int sizes[] = {(int)sizeof(A)..., 0};
    static const char kinds[] = {emu_kind<std::remove_cv_t<A>>()..., 0};
    return {name, (void *)fn, emu_run<A...>, (int)sizeof...(A), sizes, kinds};
}

#define EMU_KERNEL(name) emu_describe(#name, name),

#else   /* EMU_PART 3, after the table emu_kernels[] of EMU_KERNEL lines */

extern "C" const emu_kernel *emu_table(int *count)
{
    *count = (int)(sizeof emu_kernels / sizeof emu_kernels[0]);
    return emu_kernels;
}

extern "C" void emu_launch(int k, void **args, const int *dims)
{
    emu_kernels[k].run(emu_kernels[k].fn, args, dims);
}
#endif
