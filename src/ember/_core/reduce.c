/* The reduction and lane engines: dimension sorting and coalescing, the choice
 * between run and row kernels, tiling of the outputs and OpenMP threads.  The
 * per-dtype kernels they drive are generated from reduce.c.in and scan.c.in. */
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "ember/reduce.h"

/* Largest accumulator of any kernel (var: n, mean, m2). */
#define MAX_ACC_SIZE 32

typedef struct {
    intptr_t size, s_in, s_out, s_idx;
    int reduced;
} dim_info;

/* Sort key: memory distance of one step; zero strides walk no memory and go outermost. */
static intptr_t step_key(intptr_t s)
{
    if (s == 0) {
        return INTPTR_MAX;
    }
    return s < 0 ? -s : s;
}

/* Stable sort, outermost (largest step) first. */
static void sort_dims(dim_info *d, int n)
{
    for (int i = 1; i < n; i++) {
        dim_info cur = d[i];
        int j = i - 1;
        while (j >= 0 && step_key(d[j].s_in) < step_key(cur.s_in)) {
            d[j + 1] = d[j];
            j--;
        }
        d[j + 1] = cur;
    }
}

/* Merge neighbours of the same kind that step evenly across; returns the new count. */
static int coalesce_dims(dim_info *d, int n)
{
    if (n == 0) {
        return 0;
    }
    int m = 0;
    for (int i = 1; i < n; i++) {
        dim_info *a = &d[m], *b = &d[i];
        if (a->reduced == b->reduced && a->s_in == b->s_in * b->size
                && a->s_out == b->s_out * b->size && a->s_idx == b->s_idx * b->size) {
            a->size *= b->size;
            a->s_in = b->s_in;
            a->s_out = b->s_out;
            a->s_idx = b->s_idx;
        } else {
            d[++m] = *b;
        }
    }
    return m + 1;
}

static int pick_threads(intptr_t work)
{
    if (work < EM_GRAIN_SIZE) {
        return 1;
    }
    int nt = em_get_num_threads();
    intptr_t most = work / (EM_GRAIN_SIZE / 2);
    return nt > most ? (int)most : nt;
}

static intptr_t clamp_tile(intptr_t tile)
{
    if (tile < 1) {
        return 1;
    }
    return tile > EM_REDUCE_TILE ? EM_REDUCE_TILE : tile;
}

/* ------------------------------------------------------------------ reductions */

typedef struct {
    const em_reduce_kernel *kern;
    const em_reduce_params *prm;
    int row_mode;
    intptr_t K, s_k, so_k, si_k;   /* innermost kept dim (K = 1 when none) */
    intptr_t N, s_n;               /* innermost reduced dim (N = 0: empty reduction) */
    int n_outer_kept, n_outer_red;
    dim_info outer_kept[EM_MAX_DIMS], outer_red[EM_MAX_DIMS];
    intptr_t outer_red_count;      /* product of the outer reduced sizes */
    intptr_t tile, ntile, ntasks;
    const char *in;
    char *out, *out_idx;
} reduce_plan;

/* Locate task t (an outer kept index and a tile of K); returns the tile's width. */
static intptr_t task_setup(const reduce_plan *p, intptr_t t, const char **in, char **out,
                           char **out_idx)
{
    intptr_t o = t / p->ntile, k0 = (t % p->ntile) * p->tile;
    intptr_t off_in = k0 * p->s_k, off_out = k0 * p->so_k, off_idx = k0 * p->si_k;
    for (int i = p->n_outer_kept - 1; i >= 0; i--) {
        const dim_info *d = &p->outer_kept[i];
        intptr_t j = o % d->size;
        o /= d->size;
        off_in += j * d->s_in;
        off_out += j * d->s_out;
        off_idx += j * d->s_idx;
    }
    *in = p->in + off_in;
    *out = p->out ? p->out + off_out : NULL;
    *out_idx = p->out_idx ? p->out_idx + off_idx : NULL;
    intptr_t width = p->K - k0;
    return width < p->tile ? width : p->tile;
}

/* Fold outer reduced indices [rb, re) times innermost reduced indices [nb, ne). */
static void fold_range(const reduce_plan *p, void *acc, intptr_t width, const char *in,
                       intptr_t rb, intptr_t re, intptr_t nb, intptr_t ne)
{
    if (ne <= nb) {
        return;
    }
    for (intptr_t r = rb; r < re; r++) {
        intptr_t off = 0, flat = r;
        for (int i = p->n_outer_red - 1; i >= 0; i--) {
            off += (flat % p->outer_red[i].size) * p->outer_red[i].s_in;
            flat /= p->outer_red[i].size;
        }
        p->kern->fold(acc, width, p->s_k, in + off + nb * p->s_n, ne - nb, p->s_n, nb,
                      p->row_mode, p->prm);
    }
}

/* Tasks [tb, te) one after the other; returns -1 when scratch memory is short. */
static int run_tasks(const reduce_plan *p, intptr_t tb, intptr_t te)
{
    /* small tiles keep their accumulators on the stack, wide ones on the heap */
    _Alignas(64) char small[256 * MAX_ACC_SIZE];
    size_t need = (size_t)p->tile * p->kern->acc_size;
    char *acc = need <= sizeof(small) ? small : malloc(need);
    if (acc == NULL) {
        return -1;
    }
    for (intptr_t t = tb; t < te; t++) {
        const char *in;
        char *out, *out_idx;
        intptr_t width = task_setup(p, t, &in, &out, &out_idx);
        p->kern->init(acc, width);
        fold_range(p, acc, width, in, 0, p->outer_red_count, 0, p->N);
        p->kern->finalize(out, p->so_k, out_idx, p->si_k, acc, width, p->prm);
    }
    if (acc != small) {
        free(acc);
    }
    return 0;
}

/* Few outputs and a large reduction: the reduced space is cut into chunks fixed
 * by the shape alone, each folded into its own accumulators (by any thread)
 * and combined in chunk order, so results do not depend on the thread count. */
#define SPLIT_CHUNK 65536      /* elements per chunk, at least */
#define SPLIT_MAX_CHUNKS 64
#define SPLIT_MAX_BYTES (1 << 20)

typedef struct {
    int over_outer;            /* chunks of outer reduced indices, else of the innermost dim */
    intptr_t nchunks, len;     /* chunk count; innermost-dim elements per chunk */
} split_plan;

static void chunk_range(const reduce_plan *p, const split_plan *sp, intptr_t c,
                        intptr_t *rb, intptr_t *re, intptr_t *nb, intptr_t *ne)
{
    *rb = 0;
    *re = p->outer_red_count;
    *nb = 0;
    *ne = p->N;
    if (sp->over_outer) {
        *rb = p->outer_red_count * c / sp->nchunks;
        *re = p->outer_red_count * (c + 1) / sp->nchunks;
    } else {
        *nb = sp->len * c;
        *ne = *nb + sp->len < p->N ? *nb + sp->len : p->N;
    }
}

static int run_split(const reduce_plan *p, intptr_t work, int nt)
{
    split_plan sp;
    size_t per_task = (size_t)p->tile * p->kern->acc_size;
    intptr_t most = SPLIT_MAX_BYTES / (intptr_t)(per_task * (size_t)p->ntasks);
    most = most < 2 ? 2 : (most > SPLIT_MAX_CHUNKS ? SPLIT_MAX_CHUNKS : most);
    sp.nchunks = (work + SPLIT_CHUNK - 1) / SPLIT_CHUNK;
    sp.nchunks = sp.nchunks > most ? most : sp.nchunks;
    sp.over_outer = p->outer_red_count >= sp.nchunks;
    if (!sp.over_outer) {
        /* chunks of the innermost dim start on multiples of 64 elements */
        sp.len = ((p->N + sp.nchunks - 1) / sp.nchunks + 63) & ~(intptr_t)63;
        sp.nchunks = (p->N + sp.len - 1) / sp.len;
    }
    char *partial = malloc(per_task * (size_t)p->ntasks * (size_t)sp.nchunks);
    if (partial == NULL) {
        return -1;
    }
    if (nt > sp.nchunks) {
        nt = (int)sp.nchunks;
    }
#ifdef _OPENMP
    #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (intptr_t c = 0; c < sp.nchunks; c++) {
        intptr_t rb, re, nb, ne;
        chunk_range(p, &sp, c, &rb, &re, &nb, &ne);
        for (intptr_t t = 0; t < p->ntasks; t++) {
            const char *in;
            char *out, *out_idx;
            intptr_t width = task_setup(p, t, &in, &out, &out_idx);
            char *acc = partial + per_task * (size_t)(c * p->ntasks + t);
            p->kern->init(acc, width);
            fold_range(p, acc, width, in, rb, re, nb, ne);
        }
    }
    for (intptr_t t = 0; t < p->ntasks; t++) {
        const char *in;
        char *out, *out_idx;
        intptr_t width = task_setup(p, t, &in, &out, &out_idx);
        char *acc = partial + per_task * (size_t)t;
        for (intptr_t c = 1; c < sp.nchunks; c++) {
            p->kern->combine(acc, partial + per_task * (size_t)(c * p->ntasks + t), width);
        }
        p->kern->finalize(out, p->so_k, out_idx, p->si_k, acc, width, p->prm);
    }
    free(partial);
    return 0;
}

int em_reduce_run(const em_reduce_kernel *kern, em_reduce_problem *pb, const em_reduce_params *prm)
{
    dim_info d[EM_MAX_DIMS];
    int nd = 0, empty = 0;
    reduce_plan p;
    p.kern = kern;
    p.prm = prm;
    p.in = pb->in;
    p.out = pb->out;
    p.out_idx = pb->out_idx;

    for (int i = 0; i < pb->ndim; i++) {
        int red = (int)((pb->reduced >> i) & 1);
        if (pb->shape[i] == 0) {
            if (!red) {
                return 0;   /* no outputs */
            }
            empty = 1;
        }
        if (pb->shape[i] <= 1) {
            continue;
        }
        dim_info *x = &d[nd++];
        x->size = pb->shape[i];
        x->s_in = pb->in_strides[i];
        x->s_out = red ? 0 : pb->out_strides[i];
        x->s_idx = red ? 0 : pb->idx_strides[i];
        x->reduced = red;
    }
    /* walk every dim forwards in memory, except reduced dims whose indices are reported */
    for (int i = 0; i < nd; i++) {
        if (d[i].s_in < 0 && !(d[i].reduced && pb->keep_order)) {
            intptr_t last = d[i].size - 1;
            p.in += d[i].s_in * last;
            if (p.out) {
                p.out += d[i].s_out * last;
            }
            if (p.out_idx) {
                p.out_idx += d[i].s_idx * last;
            }
            d[i].s_in = -d[i].s_in;
            d[i].s_out = -d[i].s_out;
            d[i].s_idx = -d[i].s_idx;
        }
    }
    sort_dims(d, nd);
    nd = coalesce_dims(d, nd);

    int k0 = -1, r0 = -1;
    for (int i = 0; i < nd; i++) {
        if (d[i].reduced) {
            r0 = i;
        } else {
            k0 = i;
        }
    }
    p.row_mode = k0 >= 0 && r0 >= 0 && k0 > r0;
    p.K = k0 >= 0 ? d[k0].size : 1;
    p.s_k = k0 >= 0 ? d[k0].s_in : 0;
    p.so_k = k0 >= 0 ? d[k0].s_out : 0;
    p.si_k = k0 >= 0 ? d[k0].s_idx : 0;
    p.N = empty ? 0 : (r0 >= 0 ? d[r0].size : 1);
    p.s_n = r0 >= 0 ? d[r0].s_in : 0;
    p.n_outer_kept = p.n_outer_red = 0;
    p.outer_red_count = 1;
    intptr_t n_outer = 1;
    for (int i = 0; i < nd; i++) {
        if (i == k0 || i == r0) {
            continue;
        }
        if (d[i].reduced) {
            p.outer_red[p.n_outer_red++] = d[i];
            p.outer_red_count *= d[i].size;
        } else {
            p.outer_kept[p.n_outer_kept++] = d[i];
            n_outer *= d[i].size;
        }
    }

    intptr_t work = n_outer * p.K * p.outer_red_count * (p.N > 0 ? p.N : 1);
    int nt = pick_threads(work);
    /* few outputs and a long reduction: chunk the reduction (decided by the shape alone,
       so that results do not depend on the thread count) */
    intptr_t groups = p.row_mode ? n_outer * ((p.K + EM_REDUCE_TILE - 1) / EM_REDUCE_TILE)
                                 : n_outer * p.K;
    if (groups < 8 && work >= 2 * SPLIT_CHUNK && p.outer_red_count * p.N >= 128) {
        p.tile = clamp_tile(p.K);
        p.ntile = (p.K + p.tile - 1) / p.tile;
        p.ntasks = n_outer * p.ntile;
        return run_split(&p, work, nt);
    }
    /* row tiles stay wide to keep the row loops long; run tiles feed the threads */
    p.tile = clamp_tile(p.row_mode || nt <= 1 ? p.K : (p.K + 4 * nt - 1) / (4 * nt));
    p.ntile = (p.K + p.tile - 1) / p.tile;
    p.ntasks = n_outer * p.ntile;
    if (p.ntasks < nt) {
        nt = (int)p.ntasks;
    }
    if (nt <= 1) {
        return run_tasks(&p, 0, p.ntasks);
    }
    int failed = 0;
#ifdef _OPENMP
    #pragma omp parallel num_threads(nt) reduction(|:failed)
    {
        int tid = omp_get_thread_num(), n = omp_get_num_threads();
        failed |= run_tasks(&p, p.ntasks * tid / n, p.ntasks * (tid + 1) / n) != 0;
    }
#else
    failed = run_tasks(&p, 0, p.ntasks) != 0;
#endif
    return failed ? -1 : 0;
}

/* ------------------------------------------------------------------ lanes */

/* Lanes along `dim` with an optional index output (fn_idx, idx laid out by idx_strides). */
static void lanes_run(em_lanes_fn fn, em_lanes_idx_fn fn_idx, int ndim, const intptr_t *shape,
                      const intptr_t *in_strides, const intptr_t *out_strides,
                      const intptr_t *idx_strides, int dim, const char *in, char *out, char *idx)
{
    dim_info d[EM_MAX_DIMS];
    int nd = 0;
    intptr_t L = shape[dim], is_l = in_strides[dim], os_l = out_strides[dim];
    intptr_t xs_l = idx_strides ? idx_strides[dim] : 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            return;
        }
        if (i == dim || shape[i] == 1) {
            continue;
        }
        dim_info *x = &d[nd++];
        x->size = shape[i];
        x->s_in = in_strides[i];
        x->s_out = out_strides[i];
        x->s_idx = idx_strides ? idx_strides[i] : 0;
        x->reduced = 0;
    }
    sort_dims(d, nd);
    nd = coalesce_dims(d, nd);
    intptr_t K = 1, is_k = 0, os_k = 0, xs_k = 0, n_outer = 1;
    if (nd > 0) {
        K = d[nd - 1].size;
        is_k = d[nd - 1].s_in;
        os_k = d[nd - 1].s_out;
        xs_k = d[nd - 1].s_idx;
        nd--;
    }
    for (int i = 0; i < nd; i++) {
        n_outer *= d[i].size;
    }
    int col_mode = fn != NULL && K > 1 && step_key(is_k) < step_key(is_l);
    int nt = pick_threads(n_outer * K * L);
    intptr_t tile = col_mode ? EM_REDUCE_TILE : (nt > 1 ? (K + 4 * nt - 1) / (4 * nt) : EM_REDUCE_TILE);
    tile = clamp_tile(tile);
    intptr_t ntile = (K + tile - 1) / tile, ntasks = n_outer * ntile;
    if (ntasks < nt) {
        nt = (int)ntasks;
    }

#ifdef _OPENMP
    #pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
#ifdef _OPENMP
        int tid = omp_get_thread_num(), n = omp_get_num_threads();
#else
        int tid = 0, n = 1;
#endif
        for (intptr_t t = ntasks * tid / n; t < ntasks * (tid + 1) / n; t++) {
            intptr_t o = t / ntile, k0 = (t % ntile) * tile;
            intptr_t off_in = k0 * is_k, off_out = k0 * os_k, off_idx = k0 * xs_k;
            for (int i = nd - 1; i >= 0; i--) {
                intptr_t j = o % d[i].size;
                o /= d[i].size;
                off_in += j * d[i].s_in;
                off_out += j * d[i].s_out;
                off_idx += j * d[i].s_idx;
            }
            intptr_t width = K - k0 < tile ? K - k0 : tile;
            if (fn != NULL) {
                fn(out + off_out, os_l, os_k, in + off_in, is_l, is_k, L, width, col_mode);
            } else {
                fn_idx(out + off_out, os_l, os_k, idx + off_idx, xs_l, xs_k, in + off_in, is_l,
                       is_k, L, width);
            }
        }
    }
}

void em_lanes_run(em_lanes_fn fn, int ndim, const intptr_t *shape, const intptr_t *in_strides,
                  const intptr_t *out_strides, int dim, const char *in, char *out)
{
    lanes_run(fn, NULL, ndim, shape, in_strides, out_strides, NULL, dim, in, out, NULL);
}

void em_lanes_idx_run(em_lanes_idx_fn fn, int ndim, const intptr_t *shape,
                      const intptr_t *in_strides, const intptr_t *out_strides,
                      const intptr_t *idx_strides, int dim, const char *in, char *out, char *idx)
{
    lanes_run(NULL, fn, ndim, shape, in_strides, out_strides, idx_strides, dim, in, out, idx);
}
