#include <thrust/device_vector.h>
#include <thrust/transform_reduce.h>
#include <thrust/functional.h>
struct Sq { __host__ __device__ float operator()(float x) const { return x * x; } };
float norm2(const thrust::device_vector<float> &v) { return thrust::transform_reduce(v.begin(), v.end(), Sq(), 0.f, thrust::plus<float>()); }
