// Surface objects: writes then reads through surfaces (1D, 2D, 3D, layered; b32 and uchar4 vectors), boundary modes
// (clamp, zero, and trap ending the launch with cudaErrorLaunchFailure), a surface write read back through a
// texture, and the driver API's cuSurfObject/cuTexObject on the same array. The CPU reference is in the program.
#include "e2e_common.h"

#include <cuda.h>

#include <vector>

using e2e::expect;
using e2e::expectCode;

__global__ void writeRamp(cudaSurfaceObject_t S, int W, int H) {
  int X = blockIdx.x * blockDim.x + threadIdx.x, Y = blockIdx.y * blockDim.y + threadIdx.y;
  if (X < W && Y < H)
    surf2Dwrite(1000.0f * Y + X, S, X * 4, Y);
}

// Reads (x, y) and writes 2 * value + 1 back; uchar4 surface read-modify-write.
__global__ void brighten(cudaSurfaceObject_t S, int W, int H) {
  int X = blockIdx.x * blockDim.x + threadIdx.x, Y = blockIdx.y * blockDim.y + threadIdx.y;
  if (X >= W || Y >= H)
    return;
  uchar4 P = surf2Dread<uchar4>(S, X * 4, Y);
  surf2Dwrite(make_uchar4(P.x + 1, P.y * 2, P.z ^ 0x55, 255 - P.w), S, X * 4, Y);
}

// Boundary modes: a clamped write at x = -3 elements lands on element 0; zero-mode reads past the edge give 0.
__global__ void boundaries(cudaSurfaceObject_t S, int W, float *Out) {
  surf2Dwrite(-7.0f, S, -3 * 4, 1, cudaBoundaryModeClamp);
  surf2Dwrite(-9.0f, S, (W + 5) * 4, 2, cudaBoundaryModeClamp);
  surf2Dwrite(-11.0f, S, (W + 5) * 4, 0, cudaBoundaryModeZero); // ignored
  Out[0] = surf2Dread<float>(S, W * 4, 0, cudaBoundaryModeZero);
  Out[1] = surf2Dread<float>(S, -4, 3, cudaBoundaryModeClamp);
  Out[2] = surf2Dread<float>(S, 4, 1000, cudaBoundaryModeClamp);
}

__global__ void volumeAndLayers(cudaSurfaceObject_t V, cudaSurfaceObject_t L, cudaSurfaceObject_t One, int N) {
  int X = threadIdx.x, Y = threadIdx.y, Z = blockIdx.x;
  if (X < N && Y < N) {
    surf3Dwrite(static_cast<int>(Z * 10000 + Y * 100 + X), V, X * 4, Y, Z);
    surf2DLayeredwrite(static_cast<short>(-(Z * 1000 + Y * 10 + X)), L, X * 2, Y, Z);
  }
  if (Y == 0 && Z == 0 && X < N)
    surf1Dwrite(make_float2(X, -X), One, X * 8);
}

__global__ void readTexture(cudaTextureObject_t T, float *Out, int W, int H) {
  int X = threadIdx.x, Y = threadIdx.y;
  if (X < W && Y < H)
    Out[Y * W + X] = tex2D<float>(T, X + 0.5f, Y + 0.5f);
}

__global__ void trapRead(cudaSurfaceObject_t S, float *Out) { Out[0] = surf2Dread<float>(S, 1 << 20, 0); }

cudaSurfaceObject_t surfaceOf(cudaArray_t A) {
  cudaResourceDesc R = {};
  R.resType = cudaResourceTypeArray;
  R.res.array.array = A;
  cudaSurfaceObject_t S = 0;
  E2E_CHECK(cudaCreateSurfaceObject(&S, &R));
  return S;
}

int main() {
  const int W = 20, H = 12;
  cudaChannelFormatDesc FD = cudaCreateChannelDesc<float>();
  cudaArray_t A;
  E2E_CHECK(cudaMallocArray(&A, &FD, W, H, cudaArraySurfaceLoadStore));
  cudaSurfaceObject_t S = surfaceOf(A);

  std::printf("2D float surface\n");
  writeRamp<<<dim3(3, 2), dim3(8, 8)>>>(S, W, H);
  E2E_CHECK_LAUNCH();
  std::vector<float> Back(W * H);
  E2E_CHECK(cudaMemcpy2DFromArray(Back.data(), W * 4, A, 0, 0, W * 4, H, cudaMemcpyDeviceToHost));
  e2e::Mismatches M1("surf2Dwrite ramp");
  for (int Y = 0; Y < H; ++Y)
    for (int X = 0; X < W; ++X)
      M1.realAt(Y * W + X, Back[Y * W + X], 1000.0f * Y + X, 0, 0);
  expect(M1.report(), "surf2Dwrite then cudaMemcpy2DFromArray");

  // The same array through a texture (surface write, texture read).
  cudaResourceDesc R = {};
  R.resType = cudaResourceTypeArray;
  R.res.array.array = A;
  cudaTextureDesc TD = {};
  TD.addressMode[0] = TD.addressMode[1] = cudaAddressModeClamp;
  TD.filterMode = cudaFilterModePoint;
  TD.readMode = cudaReadModeElementType;
  cudaTextureObject_t T;
  E2E_CHECK(cudaCreateTextureObject(&T, &R, &TD, nullptr));
  float *DOut;
  E2E_CHECK(cudaMalloc(&DOut, W * H * 4));
  readTexture<<<1, dim3(W, H)>>>(T, DOut, W, H);
  E2E_CHECK_LAUNCH();
  std::vector<float> Tex(W * H);
  E2E_CHECK(cudaMemcpy(Tex.data(), DOut, W * H * 4, cudaMemcpyDeviceToHost));
  e2e::Mismatches M2("texture read of surface data");
  for (int I = 0; I < W * H; ++I)
    M2.realAt(I, Tex[I], 1000.0f * (I / W) + I % W, 0, 0);
  expect(M2.report(), "surface write, texture read");

  std::printf("boundary modes\n");
  boundaries<<<1, 1>>>(S, W, DOut);
  E2E_CHECK_LAUNCH();
  float B[3];
  E2E_CHECK(cudaMemcpy(B, DOut, sizeof B, cudaMemcpyDeviceToHost));
  E2E_CHECK(cudaMemcpy2DFromArray(Back.data(), W * 4, A, 0, 0, W * 4, H, cudaMemcpyDeviceToHost));
  expect(Back[1 * W + 0] == -7.0f && Back[2 * W + W - 1] == -9.0f && Back[W - 1] == W - 1.0f,
         "clamped writes land on the edge, zero-mode writes are dropped");
  expect(B[0] == 0.0f && B[1] == 3000.0f && B[2] == 1000.0f * (H - 1) + 1, "zero and clamp reads");

  std::printf("uchar4 read-modify-write\n");
  cudaChannelFormatDesc CD = cudaCreateChannelDesc<uchar4>();
  cudaArray_t C;
  E2E_CHECK(cudaMallocArray(&C, &CD, W, H, cudaArraySurfaceLoadStore));
  std::vector<uchar4> Img(W * H);
  e2e::Rng Rg(11);
  for (auto &P : Img)
    P = make_uchar4(Rg.next() & 255, Rg.next() & 255, Rg.next() & 255, Rg.next() & 255);
  E2E_CHECK(cudaMemcpy2DToArray(C, 0, 0, Img.data(), W * 4, W * 4, H, cudaMemcpyHostToDevice));
  cudaSurfaceObject_t SC = surfaceOf(C);
  brighten<<<dim3(3, 2), dim3(8, 8)>>>(SC, W, H);
  E2E_CHECK_LAUNCH();
  std::vector<uchar4> ImgBack(W * H);
  E2E_CHECK(cudaMemcpy2DFromArray(ImgBack.data(), W * 4, C, 0, 0, W * 4, H, cudaMemcpyDeviceToHost));
  e2e::Mismatches M3("uchar4 surface");
  for (int I = 0; I < W * H; ++I) {
    M3.intAt(I * 4, ImgBack[I].x, static_cast<unsigned char>(Img[I].x + 1));
    M3.intAt(I * 4 + 1, ImgBack[I].y, static_cast<unsigned char>(Img[I].y * 2));
    M3.intAt(I * 4 + 2, ImgBack[I].z, Img[I].z ^ 0x55);
    M3.intAt(I * 4 + 3, ImgBack[I].w, 255 - Img[I].w);
  }
  expect(M3.report(), "surf2Dread/surf2Dwrite of uchar4");

  std::printf("3D, layered and 1D surfaces\n");
  const int N = 6, Layers = 3;
  cudaChannelFormatDesc ID = cudaCreateChannelDesc<int>(), SD = cudaCreateChannelDesc<short>(),
                        F2 = cudaCreateChannelDesc<float2>();
  cudaArray_t V, L, One;
  E2E_CHECK(cudaMalloc3DArray(&V, &ID, make_cudaExtent(N, N, Layers), cudaArraySurfaceLoadStore));
  E2E_CHECK(cudaMalloc3DArray(&L, &SD, make_cudaExtent(N, N, Layers), cudaArraySurfaceLoadStore | cudaArrayLayered));
  E2E_CHECK(cudaMallocArray(&One, &F2, N, 0, cudaArraySurfaceLoadStore));
  cudaSurfaceObject_t SV = surfaceOf(V), SL = surfaceOf(L), S1 = surfaceOf(One);
  volumeAndLayers<<<Layers, dim3(N, N)>>>(SV, SL, S1, N);
  E2E_CHECK_LAUNCH();
  std::vector<int> Vol(N * N * Layers);
  std::vector<short> Lay(N * N * Layers);
  cudaMemcpy3DParms P = {};
  P.srcArray = V;
  P.dstPtr = make_cudaPitchedPtr(Vol.data(), N * 4, N, N);
  P.extent = make_cudaExtent(N, N, Layers);
  P.kind = cudaMemcpyDeviceToHost;
  E2E_CHECK(cudaMemcpy3D(&P));
  P.srcArray = L;
  P.dstPtr = make_cudaPitchedPtr(Lay.data(), N * 2, N, N);
  E2E_CHECK(cudaMemcpy3D(&P));
  std::vector<float2> Line(N);
  E2E_CHECK(cudaMemcpy2DFromArray(Line.data(), N * 8, One, 0, 0, N * 8, 1, cudaMemcpyDeviceToHost));
  e2e::Mismatches M4("3D/layered/1D");
  for (int Z = 0; Z < Layers; ++Z)
    for (int Y = 0; Y < N; ++Y)
      for (int X = 0; X < N; ++X) {
        int I = (Z * N + Y) * N + X;
        M4.intAt(I, Vol[I], Z * 10000 + Y * 100 + X);
        M4.intAt(100000 + I, Lay[I], -(Z * 1000 + Y * 10 + X));
      }
  for (int X = 0; X < N; ++X)
    M4.realAt(200000 + X, Line[X].x + 2 * Line[X].y, -X, 0, 0);
  expect(M4.report(), "surf3Dwrite, surf2DLayeredwrite, surf1Dwrite");

  std::printf("driver API objects\n");
  CUDA_RESOURCE_DESC DR = {};
  DR.resType = CU_RESOURCE_TYPE_ARRAY;
  DR.res.array.hArray = reinterpret_cast<CUarray>(A);
  CUsurfObject DS;
  expect(cuSurfObjectCreate(&DS, &DR) == CUDA_SUCCESS, "cuSurfObjectCreate");
  CUDA_RESOURCE_DESC Got = {};
  expect(cuSurfObjectGetResourceDesc(&Got, DS) == CUDA_SUCCESS && Got.res.array.hArray == DR.res.array.hArray,
         "cuSurfObjectGetResourceDesc");
  writeRamp<<<dim3(3, 2), dim3(8, 8)>>>(DS, W, H);
  E2E_CHECK_LAUNCH();
  expect(cuSurfObjectDestroy(DS) == CUDA_SUCCESS, "cuSurfObjectDestroy");
  cudaArray_t NoLdSt;
  E2E_CHECK(cudaMallocArray(&NoLdSt, &FD, 4, 4));
  R.res.array.array = NoLdSt;
  cudaSurfaceObject_t Bad;
  expectCode(cudaCreateSurfaceObject(&Bad, &R), cudaErrorInvalidValue,
             "surface over an array without cudaArraySurfaceLoadStore");

  std::printf("trap mode\n");
  trapRead<<<1, 1>>>(S, DOut);
  expectCode(cudaDeviceSynchronize(), cudaErrorLaunchFailure, "an out-of-bounds .trap read fails the launch");
  return e2e::finish("surfaces", e2e::Failures);
}
