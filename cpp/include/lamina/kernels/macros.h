#pragma once
// LAMINA_HD marks math that both the host compiler and nvcc compile, so the CPU
// tests exercise the exact formula the CUDA kernels run.
#if defined(__CUDACC__)
#define LAMINA_HD __host__ __device__ __forceinline__
#else
#define LAMINA_HD inline
#endif
