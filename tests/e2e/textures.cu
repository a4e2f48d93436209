// Texture objects against a CPU model of the CUDA programming guide's texture fetching rules: every address mode,
// point and linear filtering (1.8 fixed-point weights), normalized and unnormalized coordinates, element-type and
// normalized-float reads of several channel formats; 1D/3D/layered/cubemap/mipmapped/pitch2D/linear resources,
// gather, descriptor getters, and a box filter over an image.
#include "e2e_common.h"
#include "texture_model.h"

#include <cuda_fp16.h>

#include <cmath>
#include <cstring>
#include <vector>

using e2e::expect;

// ---- Kernels ------------------------------------------------------------------------------------------------------

__global__ void fetch2D(cudaTextureObject_t T, const float2 *Coords, float4 *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex2D<float4>(T, Coords[I].x, Coords[I].y);
}
__global__ void fetch2DInt(cudaTextureObject_t T, const float2 *Coords, uint4 *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex2D<uint4>(T, Coords[I].x, Coords[I].y);
}
__global__ void fetch1D(cudaTextureObject_t T, const float *X, float *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex1D<float>(T, X[I]);
}
__global__ void fetch3D(cudaTextureObject_t T, const float4 *C, float *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex3D<float>(T, C[I].x, C[I].y, C[I].z);
}
__global__ void fetchLayered(cudaTextureObject_t T, const float4 *C, float *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex2DLayered<float>(T, C[I].x, C[I].y, static_cast<int>(C[I].z));
}
__global__ void fetchCube(cudaTextureObject_t T, const float4 *C, float *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = texCubemap<float>(T, C[I].x, C[I].y, C[I].z);
}
__global__ void fetchLod(cudaTextureObject_t T, const float4 *C, float *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex2DLod<float>(T, C[I].x, C[I].y, C[I].z);
}
__global__ void fetchLinear(cudaTextureObject_t T, const int *Idx, int4 *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex1Dfetch<int4>(T, Idx[I]);
}
__global__ void gather(cudaTextureObject_t T, const float2 *C, float4 *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = tex2Dgather<float4>(T, C[I].x, C[I].y, 1);
}
// 3x3 box filter over a uchar4 image read as normalized floats at texel centres (clamped edges).
__global__ void boxFilter(cudaTextureObject_t T, float4 *Out, int W, int H) {
  int X = blockIdx.x * blockDim.x + threadIdx.x, Y = blockIdx.y * blockDim.y + threadIdx.y;
  if (X >= W || Y >= H)
    return;
  float4 S = make_float4(0, 0, 0, 0);
  for (int DY = -1; DY <= 1; ++DY)
    for (int DX = -1; DX <= 1; ++DX) {
      float4 V = tex2D<float4>(T, X + DX + 0.5f, Y + DY + 0.5f);
      S.x += V.x, S.y += V.y, S.z += V.z, S.w += V.w;
    }
  Out[Y * W + X] = make_float4(S.x / 9, S.y / 9, S.z / 9, S.w / 9);
}

// ---- Helpers ------------------------------------------------------------------------------------------------------

template <typename T> T *toDevice(const std::vector<T> &V) {
  T *P = nullptr;
  E2E_CHECK(cudaMalloc(&P, V.size() * sizeof(T)));
  E2E_CHECK(cudaMemcpy(P, V.data(), V.size() * sizeof(T), cudaMemcpyHostToDevice));
  return P;
}
template <typename T> std::vector<T> toHost(const T *P, size_t N) {
  std::vector<T> V(N);
  E2E_CHECK(cudaMemcpy(V.data(), P, N * sizeof(T), cudaMemcpyDeviceToHost));
  return V;
}

cudaTextureObject_t makeTexture(cudaResourceDesc &R, cudaTextureAddressMode M0, cudaTextureAddressMode M1,
                                cudaTextureFilterMode F, cudaTextureReadMode Read, bool Normalized,
                                cudaTextureAddressMode M2 = cudaAddressModeClamp) {
  cudaTextureDesc T = {};
  T.addressMode[0] = M0;
  T.addressMode[1] = M1;
  T.addressMode[2] = M2;
  T.filterMode = F;
  T.readMode = Read;
  T.normalizedCoords = Normalized;
  T.borderColor[0] = 0.25f, T.borderColor[1] = 0.5f, T.borderColor[2] = 0.75f, T.borderColor[3] = 1.0f;
  cudaTextureObject_t Obj = 0;
  E2E_CHECK(cudaCreateTextureObject(&Obj, &R, &T, nullptr));
  return Obj;
}

// One 2D format under every sampler configuration. Raw holds the texel bytes; Convert turns one channel of raw data
// into the value the read mode gives.
struct Format2D {
  const char *Name;
  cudaChannelFormatDesc Desc;
  int Channels, ChannelBytes;
  cudaTextureReadMode Read;
  bool IntResult; // element-type reads of integers: compared as raw integers, point filtering only
};

float convert(const Format2D &F, const uint8_t *P) {
  switch (F.Desc.f) {
  case cudaChannelFormatKindFloat:
    if (F.ChannelBytes == 2) {
      __half H;
      std::memcpy(&H, P, 2);
      return __half2float(H);
    } else {
      float V;
      std::memcpy(&V, P, 4);
      return V;
    }
  case cudaChannelFormatKindUnsigned:
    if (F.ChannelBytes == 4) {
      uint32_t V;
      std::memcpy(&V, P, 4);
      return static_cast<float>(V); // texels are kept below 2^24, so the float is exact
    }
    if (F.ChannelBytes == 1)
      return F.Read == cudaReadModeNormalizedFloat ? *P / 255.0f : *P;
    else {
      uint16_t V;
      std::memcpy(&V, P, 2);
      return F.Read == cudaReadModeNormalizedFloat ? V / 65535.0f : V;
    }
  default:
    if (F.ChannelBytes == 1) {
      int8_t V = static_cast<int8_t>(*P);
      return F.Read == cudaReadModeNormalizedFloat ? fmaxf(V / 127.0f, -1.0f) : V;
    } else {
      int16_t V;
      std::memcpy(&V, P, 2);
      return F.Read == cudaReadModeNormalizedFloat ? fmaxf(V / 32767.0f, -1.0f) : V;
    }
  }
}

void sweep2D(const Format2D &F, e2e::Rng &R) {
  const int W = 7, H = 5, N = 96;
  int Elem = F.Channels * F.ChannelBytes;
  std::vector<uint8_t> Raw(W * H * Elem);
  for (size_t I = 0; I < Raw.size(); ++I)
    Raw[I] = static_cast<uint8_t>(R.next());
  if (F.ChannelBytes == 4 && F.Desc.f != cudaChannelFormatKindFloat)
    for (int I = 0; I < W * H * F.Channels; ++I)
      Raw[I * 4 + 3] = 0; // below 2^24: exact in the model's floats
  if (F.Desc.f == cudaChannelFormatKindFloat) // keep float/half texels finite and moderate
    for (int I = 0; I < W * H * F.Channels; ++I) {
      float V = R.unit() * 8;
      if (F.ChannelBytes == 2) {
        __half Hv = __float2half(V);
        std::memcpy(&Raw[I * 2], &Hv, 2);
      } else
        std::memcpy(&Raw[I * 4], &V, 4);
    }
  cudaArray_t A;
  E2E_CHECK(cudaMallocArray(&A, &F.Desc, W, H));
  E2E_CHECK(cudaMemcpy2DToArray(A, 0, 0, Raw.data(), W * Elem, W * Elem, H, cudaMemcpyHostToDevice));
  Model M;
  M.W = W, M.H = H, M.Channels = F.Channels;
  M.Texels.resize(W * H * F.Channels);
  for (int I = 0; I < W * H * F.Channels; ++I)
    M.Texels[I] = convert(F, &Raw[I * F.ChannelBytes]);
  M.Border[0] = 0.25f, M.Border[1] = 0.5f, M.Border[2] = 0.75f, M.Border[3] = 1.0f;

  cudaResourceDesc Res = {};
  Res.resType = cudaResourceTypeArray;
  Res.res.array.array = A;
  float2 *DC;
  E2E_CHECK(cudaMalloc(&DC, N * sizeof(float2)));
  float4 *DOut;
  E2E_CHECK(cudaMalloc(&DOut, N * sizeof(float4)));
  const cudaTextureAddressMode Modes[] = {cudaAddressModeWrap, cudaAddressModeClamp, cudaAddressModeMirror,
                                          cudaAddressModeBorder};
  const char *ModeNames[] = {"wrap", "clamp", "mirror", "border"};
  for (int Norm = 0; Norm < 2; ++Norm)
    for (int Mi = 0; Mi < 4; ++Mi)
      for (int Lin = 0; Lin < (F.IntResult ? 1 : 2); ++Lin) {
        cudaTextureAddressMode Mode = Modes[Mi];
        if (!Norm && (Mode == cudaAddressModeWrap || Mode == cudaAddressModeMirror))
          continue; // wrap and mirror need normalized coordinates
        std::vector<float2> Coords(N);
        for (int I = 0; I < N; ++I) {
          float X = R.unit() * 1.6f + 0.5f, Y = R.unit() * 1.6f + 0.5f; // [-1.1, 2.1)
          if (I % 8 == 0)
            X = (R.range(0, W - 1) + 0.5f) / W, Y = (R.range(0, H - 1) + 0.5f) / H; // texel centres
          Coords[I] = Norm ? make_float2(X, Y) : make_float2(X * W, Y * H);
        }
        E2E_CHECK(cudaMemcpy(DC, Coords.data(), N * sizeof(float2), cudaMemcpyHostToDevice));
        cudaTextureObject_t T = makeTexture(Res, Mode, Mode, Lin ? cudaFilterModeLinear : cudaFilterModePoint, F.Read,
                                            Norm);
        M.Mode[0] = M.Mode[1] = Mode;
        M.Linear = Lin, M.Normalized = Norm;
        char What[128];
        std::snprintf(What, sizeof What, "%s %s %s %s", F.Name, ModeNames[Mi], Lin ? "linear" : "point",
                      Norm ? "normalized" : "unnormalized");
        e2e::Mismatches Mm(What);
        if (F.IntResult) {
          fetch2DInt<<<(N + 63) / 64, 64>>>(T, DC, reinterpret_cast<uint4 *>(DOut), N);
          E2E_CHECK_LAUNCH();
          auto Got = toHost(reinterpret_cast<uint4 *>(DOut), N);
          for (int I = 0; I < N; ++I) {
            float Want[4];
            M.sample(&Coords[I].x, 2, Want);
            uint32_t G[4] = {Got[I].x, Got[I].y, Got[I].z, Got[I].w};
            for (int C = 0; C < F.Channels; ++C) // border colours are floats: compare texels only
              if (Want[C] == M.Border[C] && Mode == cudaAddressModeBorder)
                continue;
              else
                Mm.intAt(I * 4 + C, static_cast<int32_t>(G[C]), static_cast<long long>(Want[C]));
          }
        } else {
          fetch2D<<<(N + 63) / 64, 64>>>(T, DC, DOut, N);
          E2E_CHECK_LAUNCH();
          auto Got = toHost(DOut, N);
          for (int I = 0; I < N; ++I) {
            float Want[4];
            M.sample(&Coords[I].x, 2, Want);
            float G[4] = {Got[I].x, Got[I].y, Got[I].z, Got[I].w};
            for (int C = 0; C < F.Channels; ++C)
              Mm.realAt(I * 4 + C, G[C], Want[C], Lin ? 1e-6 : 0, Lin ? 1e-6 : 0);
          }
        }
        expect(Mm.report(), What);
        E2E_CHECK(cudaDestroyTextureObject(T));
      }
  E2E_CHECK(cudaFree(DC));
  E2E_CHECK(cudaFree(DOut));
  E2E_CHECK(cudaFreeArray(A));
}

// ---- Other resources and instructions -----------------------------------------------------------------------------

void checkShapes(e2e::Rng &R) {
  const int N = 64;
  // 1D float array, linear filtering, normalized coordinates, wrap.
  {
    const int W = 11;
    std::vector<float> V(W);
    for (float &X : V)
      X = R.unit() * 4;
    cudaChannelFormatDesc D = cudaCreateChannelDesc<float>();
    cudaArray_t A;
    E2E_CHECK(cudaMallocArray(&A, &D, W));
    E2E_CHECK(cudaMemcpy2DToArray(A, 0, 0, V.data(), W * 4, W * 4, 1, cudaMemcpyHostToDevice));
    cudaResourceDesc Res = {};
    Res.resType = cudaResourceTypeArray;
    Res.res.array.array = A;
    cudaTextureObject_t T = makeTexture(Res, cudaAddressModeWrap, cudaAddressModeWrap, cudaFilterModeLinear,
                                        cudaReadModeElementType, true);
    std::vector<float> X(N);
    for (float &C : X)
      C = R.unit() * 2;
    float *DX = toDevice(X), *DO;
    E2E_CHECK(cudaMalloc(&DO, N * 4));
    fetch1D<<<1, N>>>(T, DX, DO, N);
    E2E_CHECK_LAUNCH();
    auto Got = toHost(DO, N);
    Model M;
    M.W = W, M.Texels = V, M.Linear = true, M.Normalized = true;
    M.Mode[0] = cudaAddressModeWrap;
    e2e::Mismatches Mm("1D linear wrap");
    for (int I = 0; I < N; ++I) {
      float Want[4];
      M.sample(&X[I], 1, Want);
      Mm.realAt(I, Got[I], Want[0], 1e-6, 1e-6);
    }
    expect(Mm.report(), "tex1D linear, normalized, wrap");
    E2E_CHECK(cudaDestroyTextureObject(T));
    E2E_CHECK(cudaFreeArray(A));
    E2E_CHECK(cudaFree(DX));
    E2E_CHECK(cudaFree(DO));
  }
  // 3D float array, trilinear, clamp, unnormalized.
  {
    const int W = 5, H = 4, Dd = 3;
    std::vector<float> V(W * H * Dd);
    for (float &X : V)
      X = R.unit() * 10;
    cudaChannelFormatDesc D = cudaCreateChannelDesc<float>();
    cudaArray_t A;
    E2E_CHECK(cudaMalloc3DArray(&A, &D, make_cudaExtent(W, H, Dd)));
    cudaMemcpy3DParms C = {};
    C.srcPtr = make_cudaPitchedPtr(V.data(), W * 4, W, H);
    C.dstArray = A;
    C.extent = make_cudaExtent(W, H, Dd);
    C.kind = cudaMemcpyHostToDevice;
    E2E_CHECK(cudaMemcpy3D(&C));
    cudaResourceDesc Res = {};
    Res.resType = cudaResourceTypeArray;
    Res.res.array.array = A;
    cudaTextureObject_t T = makeTexture(Res, cudaAddressModeClamp, cudaAddressModeClamp, cudaFilterModeLinear,
                                        cudaReadModeElementType, false, cudaAddressModeClamp);
    std::vector<float4> Co(N);
    for (auto &P : Co)
      P = make_float4(R.unit() * 4 + 2.5f, R.unit() * 3 + 2, R.unit() * 2.5f + 1.5f, 0);
    float4 *DC = toDevice(Co);
    float *DO;
    E2E_CHECK(cudaMalloc(&DO, N * 4));
    fetch3D<<<1, N>>>(T, DC, DO, N);
    E2E_CHECK_LAUNCH();
    auto Got = toHost(DO, N);
    Model M;
    M.W = W, M.H = H, M.D = Dd, M.Texels = V, M.Linear = true;
    e2e::Mismatches Mm("3D trilinear clamp");
    for (int I = 0; I < N; ++I) {
      float Want[4];
      M.sample(&Co[I].x, 3, Want);
      Mm.realAt(I, Got[I], Want[0], 1e-6, 1e-6);
    }
    expect(Mm.report(), "tex3D trilinear, clamp");
    E2E_CHECK(cudaDestroyTextureObject(T));
    E2E_CHECK(cudaFreeArray(A));
    E2E_CHECK(cudaFree(DC));
    E2E_CHECK(cudaFree(DO));
  }
  // Layered 2D (3 layers of 4x4 with value = 100 * layer + 10 * y + x), point sampling.
  {
    const int W = 4, L = 3;
    std::vector<float> V(W * W * L);
    for (int Z = 0; Z < L; ++Z)
      for (int Y = 0; Y < W; ++Y)
        for (int X = 0; X < W; ++X)
          V[(Z * W + Y) * W + X] = 100.0f * Z + 10.0f * Y + X;
    cudaChannelFormatDesc D = cudaCreateChannelDesc<float>();
    cudaArray_t A;
    E2E_CHECK(cudaMalloc3DArray(&A, &D, make_cudaExtent(W, W, L), cudaArrayLayered));
    cudaMemcpy3DParms C = {};
    C.srcPtr = make_cudaPitchedPtr(V.data(), W * 4, W, W);
    C.dstArray = A;
    C.extent = make_cudaExtent(W, W, L);
    C.kind = cudaMemcpyHostToDevice;
    E2E_CHECK(cudaMemcpy3D(&C));
    cudaResourceDesc Res = {};
    Res.resType = cudaResourceTypeArray;
    Res.res.array.array = A;
    cudaTextureObject_t T = makeTexture(Res, cudaAddressModeClamp, cudaAddressModeClamp, cudaFilterModePoint,
                                        cudaReadModeElementType, false);
    std::vector<float4> Co(N);
    for (auto &P : Co)
      P = make_float4(R.range(-1, W) + 0.5f, R.range(-1, W) + 0.5f, static_cast<float>(R.range(0, L - 1)), 0);
    float4 *DC = toDevice(Co);
    float *DO;
    E2E_CHECK(cudaMalloc(&DO, N * 4));
    fetchLayered<<<1, N>>>(T, DC, DO, N);
    E2E_CHECK_LAUNCH();
    auto Got = toHost(DO, N);
    e2e::Mismatches Mm("layered");
    for (int I = 0; I < N; ++I) {
      int X = std::min(std::max(static_cast<int>(floorf(Co[I].x)), 0), W - 1);
      int Y = std::min(std::max(static_cast<int>(floorf(Co[I].y)), 0), W - 1);
      Mm.realAt(I, Got[I], 100.0f * Co[I].z + 10.0f * Y + X, 0, 0);
    }
    expect(Mm.report(), "tex2DLayered point, clamp");
    E2E_CHECK(cudaDestroyTextureObject(T));
    E2E_CHECK(cudaFreeArray(A));
    E2E_CHECK(cudaFree(DC));
    E2E_CHECK(cudaFree(DO));
  }
  // Cubemap 4x4 faces, value = 100 * face + 10 * t + s, directions towards texel centres of every face.
  {
    const int W = 4;
    std::vector<float> V(W * W * 6);
    for (int F = 0; F < 6; ++F)
      for (int Y = 0; Y < W; ++Y)
        for (int X = 0; X < W; ++X)
          V[(F * W + Y) * W + X] = 100.0f * F + 10.0f * Y + X;
    cudaChannelFormatDesc D = cudaCreateChannelDesc<float>();
    cudaArray_t A;
    E2E_CHECK(cudaMalloc3DArray(&A, &D, make_cudaExtent(W, W, 6), cudaArrayCubemap));
    cudaMemcpy3DParms C = {};
    C.srcPtr = make_cudaPitchedPtr(V.data(), W * 4, W, W);
    C.dstArray = A;
    C.extent = make_cudaExtent(W, W, 6);
    C.kind = cudaMemcpyHostToDevice;
    E2E_CHECK(cudaMemcpy3D(&C));
    cudaResourceDesc Res = {};
    Res.resType = cudaResourceTypeArray;
    Res.res.array.array = A;
    cudaTextureObject_t T = makeTexture(Res, cudaAddressModeClamp, cudaAddressModeClamp, cudaFilterModePoint,
                                        cudaReadModeElementType, true);
    // Face table of the programming guide: (major axis sign) -> s, t in terms of the direction.
    std::vector<float4> Co;
    std::vector<float> Want;
    for (int F = 0; F < 6; ++F)
      for (int Y = 0; Y < W; ++Y)
        for (int X = 0; X < W; ++X) {
          float S = (X + 0.5f) / W * 2 - 1, Tt = (Y + 0.5f) / W * 2 - 1; // s/m and t/m with m = 1
          float4 Dir;
          switch (F) {
          case 0: Dir = make_float4(1, -Tt, -S, 0); break;
          case 1: Dir = make_float4(-1, -Tt, S, 0); break;
          case 2: Dir = make_float4(S, 1, Tt, 0); break;
          case 3: Dir = make_float4(S, -1, -Tt, 0); break;
          case 4: Dir = make_float4(S, -Tt, 1, 0); break;
          default: Dir = make_float4(-S, -Tt, -1, 0); break;
          }
          float Scale = 0.5f + (X + Y + F) % 3; // directions need not be unit vectors
          Co.push_back(make_float4(Dir.x * Scale, Dir.y * Scale, Dir.z * Scale, 0));
          Want.push_back(100.0f * F + 10.0f * Y + X);
        }
    int Nc = static_cast<int>(Co.size());
    float4 *DC = toDevice(Co);
    float *DO;
    E2E_CHECK(cudaMalloc(&DO, Nc * 4));
    fetchCube<<<(Nc + 63) / 64, 64>>>(T, DC, DO, Nc);
    E2E_CHECK_LAUNCH();
    auto Got = toHost(DO, Nc);
    e2e::Mismatches Mm("cubemap");
    for (int I = 0; I < Nc; ++I)
      Mm.realAt(I, Got[I], Want[I], 0, 0);
    expect(Mm.report(), "texCubemap face selection, every texel of every face");
    E2E_CHECK(cudaDestroyTextureObject(T));
    E2E_CHECK(cudaFreeArray(A));
    E2E_CHECK(cudaFree(DC));
    E2E_CHECK(cudaFree(DO));
  }
}

void checkMipmapsAndLinear(e2e::Rng &R) {
  // Mipmapped 16x16 float, level L filled with the constant 10 * (L + 1); tex2DLod with point mipmap filtering
  // picks round(lod), clamped to the levels.
  {
    const int W = 16, Levels = 5;
    cudaChannelFormatDesc D = cudaCreateChannelDesc<float>();
    cudaMipmappedArray_t M;
    E2E_CHECK(cudaMallocMipmappedArray(&M, &D, make_cudaExtent(W, W, 0), Levels));
    for (int L = 0; L < Levels; ++L) {
      cudaArray_t A;
      E2E_CHECK(cudaGetMipmappedArrayLevel(&A, M, L));
      int S = W >> L;
      cudaExtent E;
      E2E_CHECK(cudaArrayGetInfo(nullptr, &E, nullptr, A));
      expect(E.width == static_cast<size_t>(S) && E.height == static_cast<size_t>(S), "mipmap level extent");
      std::vector<float> V(S * S, 10.0f * (L + 1));
      E2E_CHECK(cudaMemcpy2DToArray(A, 0, 0, V.data(), S * 4, S * 4, S, cudaMemcpyHostToDevice));
    }
    cudaResourceDesc Res = {};
    Res.resType = cudaResourceTypeMipmappedArray;
    Res.res.mipmap.mipmap = M;
    cudaTextureDesc T = {};
    T.addressMode[0] = T.addressMode[1] = cudaAddressModeClamp;
    T.filterMode = cudaFilterModePoint;
    T.mipmapFilterMode = cudaFilterModePoint;
    T.normalizedCoords = 1;
    T.maxMipmapLevelClamp = Levels - 1;
    cudaTextureObject_t Obj;
    E2E_CHECK(cudaCreateTextureObject(&Obj, &Res, &T, nullptr));
    std::vector<float4> Co;
    for (float Lod : {-1.0f, 0.0f, 0.4f, 0.6f, 1.0f, 2.49f, 2.51f, 3.7f, 9.0f})
      Co.push_back(make_float4(R.unit() * 0.5f + 0.5f, R.unit() * 0.5f + 0.5f, Lod, 0));
    int N = static_cast<int>(Co.size());
    float4 *DC = toDevice(Co);
    float *DO;
    E2E_CHECK(cudaMalloc(&DO, N * 4));
    fetchLod<<<1, N>>>(Obj, DC, DO, N);
    E2E_CHECK_LAUNCH();
    auto Got = toHost(DO, N);
    e2e::Mismatches Mm("mipmap level selection");
    for (int I = 0; I < N; ++I) {
      float Lod = std::min(std::max(Co[I].z, 0.0f), static_cast<float>(Levels - 1));
      Mm.realAt(I, Got[I], 10.0f * (floorf(Lod + 0.5f) + 1), 0, 0);
    }
    expect(Mm.report(), "tex2DLod picks the nearest level");
    cudaTextureDesc Back;
    E2E_CHECK(cudaGetTextureObjectTextureDesc(&Back, Obj));
    cudaResourceDesc ResBack;
    E2E_CHECK(cudaGetTextureObjectResourceDesc(&ResBack, Obj));
    expect(Back.normalizedCoords == 1 && Back.maxMipmapLevelClamp == Levels - 1 &&
               ResBack.resType == cudaResourceTypeMipmappedArray && ResBack.res.mipmap.mipmap == M,
           "texture/resource descriptor getters");
    E2E_CHECK(cudaDestroyTextureObject(Obj));
    E2E_CHECK(cudaFreeMipmappedArray(M));
  }
  // tex1Dfetch over linear memory (int4), out-of-range indices read zero.
  {
    const int Count = 40;
    std::vector<int4> V(Count);
    for (int I = 0; I < Count; ++I)
      V[I] = make_int4(I, -I, I * 7, static_cast<int>(R.next()));
    int4 *DV = toDevice(V);
    cudaResourceDesc Res = {};
    Res.resType = cudaResourceTypeLinear;
    Res.res.linear.devPtr = DV;
    Res.res.linear.desc = cudaCreateChannelDesc<int4>();
    Res.res.linear.sizeInBytes = Count * sizeof(int4);
    cudaTextureObject_t T = makeTexture(Res, cudaAddressModeClamp, cudaAddressModeClamp, cudaFilterModePoint,
                                        cudaReadModeElementType, false);
    std::vector<int> Idx = {0, 1, 39, 17, -1, 40, 1000, 5};
    int *DI = toDevice(Idx);
    int4 *DO;
    E2E_CHECK(cudaMalloc(&DO, Idx.size() * sizeof(int4)));
    fetchLinear<<<1, static_cast<unsigned>(Idx.size())>>>(T, DI, DO, static_cast<int>(Idx.size()));
    E2E_CHECK_LAUNCH();
    auto Got = toHost(DO, Idx.size());
    bool Ok = true;
    for (size_t I = 0; I < Idx.size(); ++I) {
      int4 W = Idx[I] >= 0 && Idx[I] < Count ? V[Idx[I]] : make_int4(0, 0, 0, 0);
      Ok = Ok && Got[I].x == W.x && Got[I].y == W.y && Got[I].z == W.z && Got[I].w == W.w;
    }
    expect(Ok, "tex1Dfetch over linear memory (out of range reads zero)");
    E2E_CHECK(cudaDestroyTextureObject(T));
    E2E_CHECK(cudaFree(DV));
    E2E_CHECK(cudaFree(DI));
    E2E_CHECK(cudaFree(DO));
  }
  // Pitch2D over cudaMallocPitch memory (float2, bilinear, clamp) and gather on it.
  {
    const int W = 9, H = 6, N = 64;
    std::vector<float2> V(W * H);
    for (auto &X : V)
      X = make_float2(R.unit() * 3, R.unit() * 3);
    float2 *P;
    size_t Pitch;
    E2E_CHECK(cudaMallocPitch(reinterpret_cast<void **>(&P), &Pitch, W * sizeof(float2), H));
    E2E_CHECK(cudaMemcpy2D(P, Pitch, V.data(), W * sizeof(float2), W * sizeof(float2), H, cudaMemcpyHostToDevice));
    cudaResourceDesc Res = {};
    Res.resType = cudaResourceTypePitch2D;
    Res.res.pitch2D.devPtr = P;
    Res.res.pitch2D.desc = cudaCreateChannelDesc<float2>();
    Res.res.pitch2D.width = W;
    Res.res.pitch2D.height = H;
    Res.res.pitch2D.pitchInBytes = Pitch;
    cudaTextureObject_t T = makeTexture(Res, cudaAddressModeClamp, cudaAddressModeClamp, cudaFilterModeLinear,
                                        cudaReadModeElementType, false);
    std::vector<float2> Co(N);
    for (auto &C : Co)
      C = make_float2(R.unit() * 6 + 4.5f, R.unit() * 4 + 3);
    float2 *DC = toDevice(Co);
    float4 *DO;
    E2E_CHECK(cudaMalloc(&DO, N * sizeof(float4)));
    fetch2D<<<1, N>>>(T, DC, DO, N);
    E2E_CHECK_LAUNCH();
    auto Got = toHost(DO, N);
    Model M;
    M.W = W, M.H = H, M.Channels = 2, M.Linear = true;
    for (auto &X : V)
      M.Texels.push_back(X.x), M.Texels.push_back(X.y);
    e2e::Mismatches Mm("pitch2D bilinear");
    for (int I = 0; I < N; ++I) {
      float Want[4];
      M.sample(&Co[I].x, 2, Want);
      Mm.realAt(I * 2, Got[I].x, Want[0], 1e-6, 1e-6);
      Mm.realAt(I * 2 + 1, Got[I].y, Want[1], 1e-6, 1e-6);
    }
    expect(Mm.report(), "tex2D over pitch2D memory, bilinear");
    // tex2Dgather (component 1 = y) on an array made for gathering: the four texels of the bilinear footprint,
    // counter-clockwise from (i, j+1).
    cudaChannelFormatDesc GD = cudaCreateChannelDesc<float2>();
    cudaArray_t GA;
    E2E_CHECK(cudaMallocArray(&GA, &GD, W, H, cudaArrayTextureGather));
    E2E_CHECK(cudaMemcpy2DToArray(GA, 0, 0, V.data(), W * sizeof(float2), W * sizeof(float2), H,
                                  cudaMemcpyHostToDevice));
    cudaResourceDesc GR = {};
    GR.resType = cudaResourceTypeArray;
    GR.res.array.array = GA;
    cudaTextureObject_t GT = makeTexture(GR, cudaAddressModeClamp, cudaAddressModeClamp, cudaFilterModePoint,
                                         cudaReadModeElementType, false);
    gather<<<1, N>>>(GT, DC, DO, N);
    E2E_CHECK_LAUNCH();
    Got = toHost(DO, N);
    M.Linear = false;
    e2e::Mismatches Mg("gather");
    for (int I = 0; I < N; ++I) {
      int Xi = static_cast<int>(floorf(Co[I].x - 0.5f)), Yj = static_cast<int>(floorf(Co[I].y - 0.5f));
      int Off[4][2] = {{0, 1}, {1, 1}, {1, 0}, {0, 0}};
      float G[4] = {Got[I].x, Got[I].y, Got[I].z, Got[I].w};
      for (int K = 0; K < 4; ++K) {
        float T4[4];
        M.texel(Xi + Off[K][0], Yj + Off[K][1], 0, T4);
        Mg.realAt(I * 4 + K, G[K], T4[1], 0, 0);
      }
    }
    expect(Mg.report(), "tex2Dgather component y");
    E2E_CHECK(cudaDestroyTextureObject(GT));
    E2E_CHECK(cudaFreeArray(GA));
    E2E_CHECK(cudaDestroyTextureObject(T));
    E2E_CHECK(cudaFree(P));
    E2E_CHECK(cudaFree(DC));
    E2E_CHECK(cudaFree(DO));
  }
}

void checkBoxFilter(e2e::Rng &R) {
  const int W = 24, H = 16;
  std::vector<uchar4> Img(W * H);
  for (auto &P : Img)
    P = make_uchar4(R.next() & 255, R.next() & 255, R.next() & 255, R.next() & 255);
  cudaChannelFormatDesc D = cudaCreateChannelDesc<uchar4>();
  cudaArray_t A;
  E2E_CHECK(cudaMallocArray(&A, &D, W, H));
  E2E_CHECK(cudaMemcpy2DToArray(A, 0, 0, Img.data(), W * 4, W * 4, H, cudaMemcpyHostToDevice));
  cudaResourceDesc Res = {};
  Res.resType = cudaResourceTypeArray;
  Res.res.array.array = A;
  cudaTextureObject_t T = makeTexture(Res, cudaAddressModeClamp, cudaAddressModeClamp, cudaFilterModePoint,
                                      cudaReadModeNormalizedFloat, false);
  float4 *DO;
  E2E_CHECK(cudaMalloc(&DO, W * H * sizeof(float4)));
  boxFilter<<<dim3(W / 8, H / 8), dim3(8, 8)>>>(T, DO, W, H);
  E2E_CHECK_LAUNCH();
  auto Got = toHost(DO, W * H);
  e2e::Mismatches Mm("box filter");
  for (int Y = 0; Y < H; ++Y)
    for (int X = 0; X < W; ++X) {
      float S[4] = {0, 0, 0, 0};
      for (int DY = -1; DY <= 1; ++DY)
        for (int DX = -1; DX <= 1; ++DX) {
          uchar4 P = Img[std::min(std::max(Y + DY, 0), H - 1) * W + std::min(std::max(X + DX, 0), W - 1)];
          S[0] += P.x / 255.0f, S[1] += P.y / 255.0f, S[2] += P.z / 255.0f, S[3] += P.w / 255.0f;
        }
      const float *G = &Got[Y * W + X].x;
      for (int C = 0; C < 4; ++C)
        Mm.realAt((Y * W + X) * 4 + C, G[C], S[C] / 9, 1e-6, 1e-6);
    }
  expect(Mm.report(), "3x3 box filter of a uchar4 image through a normalized-float texture");
  E2E_CHECK(cudaDestroyTextureObject(T));
  E2E_CHECK(cudaFreeArray(A));
  E2E_CHECK(cudaFree(DO));
}

int main() {
  e2e::Rng R(2024);
  const Format2D Formats[] = {
      {"float1", cudaCreateChannelDesc<float>(), 1, 4, cudaReadModeElementType, false},
      {"float4", cudaCreateChannelDesc<float4>(), 4, 4, cudaReadModeElementType, false},
      {"half2", cudaCreateChannelDescHalf2(), 2, 2, cudaReadModeElementType, false},
      {"uchar4 normalized", cudaCreateChannelDesc<uchar4>(), 4, 1, cudaReadModeNormalizedFloat, false},
      {"char2 normalized", cudaCreateChannelDesc<char2>(), 2, 1, cudaReadModeNormalizedFloat, false},
      {"ushort1 normalized", cudaCreateChannelDesc<unsigned short>(), 1, 2, cudaReadModeNormalizedFloat, false},
      {"short4 normalized", cudaCreateChannelDesc<short4>(), 4, 2, cudaReadModeNormalizedFloat, false},
      {"ushort2 element", cudaCreateChannelDesc<ushort2>(), 2, 2, cudaReadModeElementType, true},
      {"uint1 element", cudaCreateChannelDesc<unsigned int>(), 1, 4, cudaReadModeElementType, true},
  };
  std::printf("2D sampler sweep\n");
  for (const Format2D &F : Formats)
    sweep2D(F, R);
  std::printf("other shapes\n");
  checkShapes(R);
  checkMipmapsAndLinear(R);
  checkBoxFilter(R);
  return e2e::finish("textures", e2e::Failures);
}
