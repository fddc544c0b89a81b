/*
 * The DLPack 1.0 ABI: the C structures by which array libraries share memory
 * without copying (https://dmlc.github.io/dlpack/latest/ and the Python
 * protocol at https://data-apis.org/array-api/latest/design_topics/data_interchange.html).
 *
 * Written for ember from the public specification; every layout below is fixed
 * by that specification and must not change.  Only what ember needs is declared.
 */
#ifndef EMBER_DLPACK_H
#define EMBER_DLPACK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 0

/* Bits of DLManagedTensorVersioned.flags. */
#define DLPACK_FLAG_BITMASK_READ_ONLY (UINT64_C(1) << 0) /* the consumer must not write */
#define DLPACK_FLAG_BITMASK_IS_COPIED (UINT64_C(1) << 1) /* the producer made a fresh copy */

/* A major version change breaks the ABI; a minor one only adds to it. */
typedef struct {
    uint32_t major;
    uint32_t minor;
} DLPackVersion;

/* Where the memory lives.  The numbers are fixed by the specification. */
typedef enum {
    kDLCPU = 1,          /* host memory */
    kDLCUDA = 2,         /* CUDA device memory */
    kDLCUDAHost = 3,     /* pinned host memory from cudaMallocHost */
    kDLOpenCL = 4,
    kDLVulkan = 7,
    kDLMetal = 8,
    kDLVPI = 9,
    kDLROCM = 10,        /* ROCm device memory */
    kDLROCMHost = 11,    /* pinned host memory from hipMallocHost */
    kDLExtDev = 12,
    kDLCUDAManaged = 13, /* CUDA unified memory from cudaMallocManaged */
    kDLOneAPI = 14,
    kDLWebGPU = 15,
    kDLHexagon = 16,
    kDLMAIA = 17
} DLDeviceType;

typedef struct {
    DLDeviceType device_type;
    int32_t device_id; /* the ordinal; 0 for the CPU */
} DLDevice;

/* The kind of number held; bits and lanes complete the element type. */
typedef enum {
    kDLInt = 0,
    kDLUInt = 1,
    kDLFloat = 2,
    kDLOpaqueHandle = 3,
    kDLBfloat = 4,  /* bfloat16: bits == 16 */
    kDLComplex = 5, /* bits counts both parts: 64 for complex64 */
    kDLBool = 6     /* one byte per value: bits == 8 */
} DLDataTypeCode;

typedef struct {
    uint8_t code;   /* a DLDataTypeCode */
    uint8_t bits;   /* bits per lane */
    uint16_t lanes; /* 1 for ordinary (non-vector) elements */
} DLDataType;

/*
 * A strided view of memory.  The first element is at data + byte_offset;
 * shape and strides have ndim entries, strides count ELEMENTS (not bytes)
 * and may be zero or negative; strides == NULL means row-major contiguous.
 */
typedef struct {
    void *data;
    DLDevice device;
    int32_t ndim;
    DLDataType dtype;
    int64_t *shape;
    int64_t *strides;
    uint64_t byte_offset;
} DLTensor;

/*
 * The pre-1.0 ("legacy") owning wrapper, passed in a PyCapsule named
 * "dltensor".  The consumer calls deleter(self) exactly once when done; it
 * frees manager_ctx's hold on the memory and the struct itself.
 */
typedef struct DLManagedTensor {
    DLTensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct DLManagedTensor *self);
} DLManagedTensor;

/*
 * The 1.0 owning wrapper, passed in a PyCapsule named "dltensor_versioned".
 * Its version comes first so that a consumer can check it before reading
 * anything else.
 */
typedef struct DLManagedTensorVersioned {
    DLPackVersion version;
    void *manager_ctx;
    void (*deleter)(struct DLManagedTensorVersioned *self);
    uint64_t flags; /* DLPACK_FLAG_BITMASK_* */
    DLTensor dl_tensor;
} DLManagedTensorVersioned;

#ifdef __cplusplus
}
#endif

#endif /* EMBER_DLPACK_H */
