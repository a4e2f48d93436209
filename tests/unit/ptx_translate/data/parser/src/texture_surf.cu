__global__ void sampleTex(cudaTextureObject_t tex, float *out, int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
  if (x < w && y < h) {
    float4 v = tex2D<float4>(tex, x + 0.5f, y + 0.5f);
    float s = tex1Dfetch<float>(tex, x);
    out[y * w + x] = v.x + v.y * v.z - v.w + s;
  }
}
__global__ void writeSurf(cudaSurfaceObject_t surf, int w) {
  int x = threadIdx.x;
  if (x < w) {
    float v;
    surf2Dread(&v, surf, x * 4, 0);
    surf2Dwrite(v * 2.f, surf, x * 4, 1);
  }
}
__global__ void tex3dLod(cudaTextureObject_t tex, float4 *out) {
  float f = threadIdx.x;
  out[threadIdx.x] = tex3DLod<float4>(tex, f, f * 0.5f, 0.25f, 1.0f);
  int4 g = tex2Dgather<int4>(tex, f, f, 1);
  out[threadIdx.x + 64] = make_float4(g.x, g.y, g.z, g.w);
}
