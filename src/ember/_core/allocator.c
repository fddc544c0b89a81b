/* Caching CPU allocator.
 *
 * A fresh large malloc costs a page fault per 4 KiB on first touch, which is
 * what makes new-output elementwise ops slow; freed blocks are therefore kept
 * in per-size-class free lists and handed out again.  Blocks are 64-byte
 * aligned so AVX-512 loads never split cache lines.  Called with the GIL held.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "ember/strided.h"

#define ALIGN 64
#define SMALL_LIMIT 1024            /* 64-byte classes up to here */
#define N_SMALL (SMALL_LIMIT / 64)
#define N_OCTAVE_CLASSES 4          /* classes per power of two above SMALL_LIMIT */
#define HUGE_LIMIT ((size_t)64 << 20)
#define HUGE_ROUND ((size_t)2 << 20)
#define N_CLASSES 160
#define HUGE_SLOTS 32

typedef struct block { struct block *next; } block;

static block *free_lists[N_CLASSES];
static size_t cached_bytes = 0;
static size_t cache_limit = (size_t)2 << 30;

typedef struct { void *ptr; size_t size; } huge_block;
static huge_block huge_cache[HUGE_SLOTS];

/* size class index and the rounded size it stands for */
static int size_class(size_t n, size_t *rounded)
{
    if (n <= SMALL_LIMIT) {
        size_t c = (n + 63) / 64;
        if (c == 0) {
            c = 1;
        }
        *rounded = c * 64;
        return (int)(c - 1);
    }
    int octave = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^octave < n <= 2^(octave+1) */
    size_t base = (size_t)1 << octave;
    size_t step = base / N_OCTAVE_CLASSES;
    size_t sub = (n - base + step - 1) / step; /* 1..N_OCTAVE_CLASSES */
    *rounded = base + sub * step;
    return N_SMALL + (octave - 10) * N_OCTAVE_CLASSES + (int)(sub - 1);
}

static void *raw_alloc(size_t n)
{
    if (n >= HUGE_ROUND) {
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            return NULL;
        }
#ifdef MADV_HUGEPAGE
        madvise(p, n, MADV_HUGEPAGE);
#endif
        return p;
    }
    void *p = NULL;
    if (posix_memalign(&p, ALIGN, n) != 0) {
        return NULL;
    }
    return p;
}

static void raw_free(void *p, size_t n)
{
    if (n >= HUGE_ROUND) {
        munmap(p, n);
    } else {
        free(p);
    }
}

static size_t rounded_size(size_t n, int *cls)
{
    size_t r;
    if (n > HUGE_LIMIT) {
        *cls = -1;
        return (n + HUGE_ROUND - 1) / HUGE_ROUND * HUGE_ROUND;
    }
    *cls = size_class(n, &r);
    if (r >= HUGE_ROUND) {
        r = (r + HUGE_ROUND - 1) / HUGE_ROUND * HUGE_ROUND;
    }
    return r;
}

void *em_alloc(size_t nbytes)
{
    int cls;
    size_t n = rounded_size(nbytes, &cls);
    if (cls >= 0) {
        block *b = free_lists[cls];
        if (b) {
            free_lists[cls] = b->next;
            cached_bytes -= n;
            return b;
        }
    } else {
        for (int i = 0; i < HUGE_SLOTS; i++) {
            if (huge_cache[i].ptr && huge_cache[i].size == n) {
                void *p = huge_cache[i].ptr;
                huge_cache[i].ptr = NULL;
                cached_bytes -= n;
                return p;
            }
        }
    }
    void *p = raw_alloc(n);
    if (!p) {
        /* give the cache back to the system and try once more */
        em_allocator_empty_cache();
        p = raw_alloc(n);
    }
    return p;
}

void em_free(void *ptr, size_t nbytes)
{
    if (!ptr) {
        return;
    }
    int cls;
    size_t n = rounded_size(nbytes, &cls);
    if (cached_bytes + n > cache_limit) {
        raw_free(ptr, n);
        return;
    }
    if (cls >= 0) {
        block *b = (block *)ptr;
        b->next = free_lists[cls];
        free_lists[cls] = b;
        cached_bytes += n;
        return;
    }
    for (int i = 0; i < HUGE_SLOTS; i++) {
        if (!huge_cache[i].ptr) {
            huge_cache[i].ptr = ptr;
            huge_cache[i].size = n;
            cached_bytes += n;
            return;
        }
    }
    raw_free(ptr, n);
}

void em_allocator_empty_cache(void)
{
    for (int c = 0; c < N_CLASSES; c++) {
        block *b = free_lists[c];
        size_t r;
        if (c < N_SMALL) {
            r = (size_t)(c + 1) * 64;
        } else {
            int octave = (c - N_SMALL) / N_OCTAVE_CLASSES + 10;
            size_t base = (size_t)1 << octave;
            r = base + (size_t)((c - N_SMALL) % N_OCTAVE_CLASSES + 1) * (base / N_OCTAVE_CLASSES);
            if (r >= HUGE_ROUND) {
                r = (r + HUGE_ROUND - 1) / HUGE_ROUND * HUGE_ROUND;
            }
        }
        while (b) {
            block *next = b->next;
            raw_free(b, r);
            b = next;
        }
        free_lists[c] = NULL;
    }
    for (int i = 0; i < HUGE_SLOTS; i++) {
        if (huge_cache[i].ptr) {
            raw_free(huge_cache[i].ptr, huge_cache[i].size);
            huge_cache[i].ptr = NULL;
        }
    }
    cached_bytes = 0;
}

size_t em_allocator_cached_bytes(void)
{
    return cached_bytes;
}

void em_allocator_set_limit(size_t nbytes)
{
    cache_limit = nbytes;
    if (cached_bytes > cache_limit) {
        em_allocator_empty_cache();
    }
}
