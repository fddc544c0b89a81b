/* A CPU emulation of the CUDA features ember's kernels use, for the tests that run the
 * kernels without a GPU (cuda_emulation.py): the rendered kernel source is compiled by
 * the host compiler between the two halves of this file (EMU_PART 1 before it, 2 after).
 *
 * Blocks run one after another; the threads of a block are coroutines (ucontext) that
 * switch at __syncthreads() and at warp shuffles, so each barrier waits for exactly the
 * threads CUDA's would: the block's, or the 32 lanes of the warp.  __shared__ variables
 * become statics, which blocks running in turn may share.
 */
#if EMU_PART == 1
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <functional>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct emu_dim3 {
    unsigned x, y, z;
};
static emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

enum { EMU_RUNNABLE, EMU_AT_SYNCTHREADS, EMU_AT_WARP, EMU_DONE };
struct emu_thread {
    ucontext_t ctx;
    int state;
};
static emu_thread emu_threads[1024];
static int emu_current;
static ucontext_t emu_scheduler;
static uint32_t emu_lanes[32][32];

static void emu_wait(int state)
{
    emu_threads[emu_current].state = state;
    swapcontext(&emu_threads[emu_current].ctx, &emu_scheduler);
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
static inline uint32_t __shfl_down_sync(unsigned, uint32_t v, int delta) { return emu_shuffle(v, delta); }
static inline uint32_t __shfl_up_sync(unsigned, uint32_t v, int delta) { return emu_shuffle(v, -delta); }
static inline float __uint_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t __float_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float __int_as_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int atomicExch(int *p, int v) { int old = *p; *p = v; return old; }

#else   /* EMU_PART 2: the launches */

#define EMU_STACK (64 * 1024)
static std::function<void()> *emu_body;
static char *emu_stacks;

static void emu_entry(int t)
{
    (*emu_body)();
    emu_threads[t].state = EMU_DONE;
    swapcontext(&emu_threads[t].ctx, &emu_scheduler);
}

/* Run one block of n threads: each until it waits, then release a warp whose 32 lanes
 * all wait at a shuffle, else the block when every thread waits at __syncthreads(). */
static void emu_block(int n)
{
    if (emu_stacks == NULL) {
        emu_stacks = (char *)malloc((size_t)1024 * EMU_STACK);
    }
    for (int t = 0; t < n; t++) {
        getcontext(&emu_threads[t].ctx);
        emu_threads[t].ctx.uc_stack.ss_sp = emu_stacks + (size_t)t * EMU_STACK;
        emu_threads[t].ctx.uc_stack.ss_size = EMU_STACK;
        emu_threads[t].ctx.uc_link = NULL;
        makecontext(&emu_threads[t].ctx, (void (*)())emu_entry, 1, t);
        emu_threads[t].state = EMU_RUNNABLE;
    }
    for (;;) {
        for (int t = 0; t < n; t++) {
            if (emu_threads[t].state == EMU_RUNNABLE) {
                emu_current = t;
                threadIdx = {(unsigned)(t % blockDim.x), (unsigned)(t / blockDim.x), 0};
                swapcontext(&emu_scheduler, &emu_threads[t].ctx);
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

template <class F>
static void emu_grid(int gx, int gy, int bx, int by, F body)
{
    std::function<void()> f = body;
    emu_body = &f;
    gridDim = {(unsigned)gx, (unsigned)gy, 1};
    blockDim = {(unsigned)bx, (unsigned)by, 1};
    for (int y = 0; y < gy; y++) {
        for (int x = 0; x < gx; x++) {
            blockIdx = {(unsigned)x, (unsigned)y, 0};
            emu_block(bx * by);
        }
    }
}

/* One entry per kernel signature: the kernel's address, its arguments (structs by
 * address), then the grid and block shapes. */
typedef void (*emu_reduce_fn)(char *, char *, const char *, em_cuda_layout, em_cuda_layout,
                              em_reduce_params, char *, long long);
typedef void (*emu_finish_fn)(char *, char *, const char *, long long, int, em_reduce_params);
typedef void (*emu_lane_fn)(char *, const char *, const char *, em_cuda_layout, long long,
                            long long, long long, long long);

extern "C" void emu_reduce(void *fn, char *out, char *idx, const char *in,
                           const em_cuda_layout *kept, const em_cuda_layout *red,
                           const em_reduce_params *prm, char *partial, long long chunk,
                           int gx, int gy, int bx, int by)
{
    emu_grid(gx, gy, bx, by, [=]() {
        ((emu_reduce_fn)fn)(out, idx, in, *kept, *red, *prm, partial, chunk);
    });
}

extern "C" void emu_finish(void *fn, char *out, char *idx, const char *partial, long long n,
                           int splits, const em_reduce_params *prm, int gx, int bx)
{
    emu_grid(gx, 1, bx, 1, [=]() { ((emu_finish_fn)fn)(out, idx, partial, n, splits, *prm); });
}

extern "C" void emu_lane(void *fn, char *out, const char *in, const char *in2,
                         const em_cuda_layout *lanes, long long length, long long s_out,
                         long long s_in, long long s_in2, int gx, int bx)
{
    emu_grid(gx, 1, bx, 1, [=]() {
        ((emu_lane_fn)fn)(out, in, in2, *lanes, length, s_out, s_in, s_in2);
    });
}

#ifdef EMU_FAMILY_NORM
/* the norm family's kernels take one em_norm_args */
typedef void (*emu_norm_fn)(em_norm_args);

extern "C" void emu_norm(void *fn, const em_norm_args *a, int gx, int gy, int bx, int by)
{
    emu_grid(gx, gy, bx, by, [=]() { ((emu_norm_fn)fn)(*a); });
}
#endif

/* grid-stride kernels (copies, casts, elementwise ops): one thread walks every element */
extern "C" void emu_one_thread(void)
{
    gridDim = blockDim = {1, 1, 1};
    threadIdx = blockIdx = {0, 0, 0};
}
#endif
