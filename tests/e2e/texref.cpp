// End-to-end: the legacy texture and surface references of the driver API. nvcc no longer emits texture references
// from C++ (texture<> went with CUDA 12), so the kernels are hand-written PTX with module-scope .texref/.surfref:
// cuModuleGetTexRef + cuTexRefSet* (arrays, linear and pitch2D memory, every address mode, point and linear filtering,
// normalized coordinates and reads) checked against the CPU model of texture_model.h; the binding a launch sees is
// the one of its launch time; txq through a reference; cuSurfRefSetArray with suld/sust; tex with texel offsets;
// sured (atomic surface reductions) and sust.p (formatted stores); getters; error codes; and the loud failure of the
// texturing forms that are not implemented.
#include "texture_model.h"

// The reference API is deprecated: say that we use it on purpose.
#define CUDA_ENABLE_DEPRECATED
#include <cuda.h>

#include <algorithm>
#include <cmath>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define CU_CHECK(Call)                                                                                                 \
  do {                                                                                                                 \
    CUresult CuErr = (Call);                                                                                           \
    if (CuErr != CUDA_SUCCESS) {                                                                                       \
      const char *ErrName = nullptr;                                                                                   \
      cuGetErrorName(CuErr, &ErrName);                                                                                 \
      std::fprintf(stderr, "%s:%d: %s failed: %d (%s)\n", __FILE__, __LINE__, #Call, int(CuErr),                     \
                   ErrName ? ErrName : "?");                                                                           \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

static int Failures = 0;

static void expect(bool Ok, const std::string &What) {
  std::printf("  %s %s\n", Ok ? "ok  " : "FAIL", What.c_str());
  if (!Ok)
    ++Failures;
}

// Kernels: one thread per lookup (ptxas accepts this module as written).
static const char *Ptx = R"(
.version 8.0
.target sm_80
.address_size 64

.global .texref tex2d;
.global .texref texlin;
.global .texref texold;
.global .surfref surf;
.global .surfref surf8;
.global .surfref surfh;

// Out[i] = tex2D(tex2d, Coords[i].x, Coords[i].y) as float4.
.visible .entry fetch2d(.param .u64 coords, .param .u64 out, .param .u32 n)
{
  .reg .pred %p;
  .reg .b32 %r<4>;
  .reg .f32 %f<6>;
  .reg .b64 %rd<6>;
  mov.u32 %r0, %ctaid.x;
  mov.u32 %r1, %ntid.x;
  mov.u32 %r2, %tid.x;
  mad.lo.s32 %r0, %r0, %r1, %r2;
  ld.param.u32 %r3, [n];
  setp.ge.s32 %p, %r0, %r3;
  @%p bra DONE;
  ld.param.u64 %rd0, [coords];
  ld.param.u64 %rd1, [out];
  mul.wide.s32 %rd2, %r0, 8;
  add.s64 %rd3, %rd0, %rd2;
  ld.global.v2.f32 {%f0, %f1}, [%rd3];
  tex.2d.v4.f32.f32 {%f2, %f3, %f4, %f5}, [tex2d, {%f0, %f1}];
  mul.wide.s32 %rd4, %r0, 16;
  add.s64 %rd5, %rd1, %rd4;
  st.global.v4.f32 [%rd5], {%f2, %f3, %f4, %f5};
DONE:
  ret;
}

// Out[i] = tex2D(texold, ...).x.
.visible .entry fetchold(.param .u64 coords, .param .u64 out, .param .u32 n)
{
  .reg .pred %p;
  .reg .b32 %r<4>;
  .reg .f32 %f<6>;
  .reg .b64 %rd<6>;
  mov.u32 %r0, %ctaid.x;
  mov.u32 %r1, %ntid.x;
  mov.u32 %r2, %tid.x;
  mad.lo.s32 %r0, %r0, %r1, %r2;
  ld.param.u32 %r3, [n];
  setp.ge.s32 %p, %r0, %r3;
  @%p bra DONE;
  ld.param.u64 %rd0, [coords];
  ld.param.u64 %rd1, [out];
  mul.wide.s32 %rd2, %r0, 8;
  add.s64 %rd3, %rd0, %rd2;
  ld.global.v2.f32 {%f0, %f1}, [%rd3];
  tex.2d.v4.f32.f32 {%f2, %f3, %f4, %f5}, [texold, {%f0, %f1}];
  mul.wide.s32 %rd4, %r0, 4;
  add.s64 %rd5, %rd1, %rd4;
  st.global.f32 [%rd5], %f2;
DONE:
  ret;
}

// Out[i] = tex1Dfetch(texlin, Idx[i]) as int4.
.visible .entry fetchlin(.param .u64 idx, .param .u64 out, .param .u32 n)
{
  .reg .pred %p;
  .reg .b32 %r<9>;
  .reg .b64 %rd<6>;
  mov.u32 %r0, %ctaid.x;
  mov.u32 %r1, %ntid.x;
  mov.u32 %r2, %tid.x;
  mad.lo.s32 %r0, %r0, %r1, %r2;
  ld.param.u32 %r3, [n];
  setp.ge.s32 %p, %r0, %r3;
  @%p bra DONE;
  ld.param.u64 %rd0, [idx];
  ld.param.u64 %rd1, [out];
  mul.wide.s32 %rd2, %r0, 4;
  add.s64 %rd3, %rd0, %rd2;
  ld.global.s32 %r4, [%rd3];
  tex.1d.v4.s32.s32 {%r5, %r6, %r7, %r8}, [texlin, {%r4}];
  mul.wide.s32 %rd4, %r0, 16;
  add.s64 %rd5, %rd1, %rd4;
  st.global.v4.s32 [%rd5], {%r5, %r6, %r7, %r8};
DONE:
  ret;
}

// Out = {width, height} of tex2d.
.visible .entry query(.param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<1>;
  ld.param.u64 %rd0, [out];
  txq.width.b32 %r0, [tex2d];
  txq.height.b32 %r1, [tex2d];
  st.global.v2.b32 [%rd0], {%r0, %r1};
  ret;
}

// Out[i] = tex2D(tex2d) at Coords[i] with texel offsets (2, -1).
.visible .entry fetchoffset(.param .u64 coords, .param .u64 out, .param .u32 n)
{
  .reg .pred %p;
  .reg .b32 %r<4>;
  .reg .f32 %f<6>;
  .reg .b64 %rd<6>;
  mov.u32 %r0, %ctaid.x;
  mov.u32 %r1, %ntid.x;
  mov.u32 %r2, %tid.x;
  mad.lo.s32 %r0, %r0, %r1, %r2;
  ld.param.u32 %r3, [n];
  setp.ge.s32 %p, %r0, %r3;
  @%p bra DONE;
  ld.param.u64 %rd0, [coords];
  ld.param.u64 %rd1, [out];
  mul.wide.s32 %rd2, %r0, 8;
  add.s64 %rd3, %rd0, %rd2;
  ld.global.v2.f32 {%f0, %f1}, [%rd3];
  tex.2d.v4.f32.f32 {%f2, %f3, %f4, %f5}, [tex2d, {%f0, %f1}], {2, -1};
  mul.wide.s32 %rd4, %r0, 16;
  add.s64 %rd5, %rd1, %rd4;
  st.global.v4.f32 [%rd5], {%f2, %f3, %f4, %f5};
DONE:
  ret;
}

// Surface reductions from 256 threads of one block onto an int32 surface of width w: row 0 add 1 (.b), row 1 signed
// min of t - 100 (.b), row 2 or of 1 << (t % 32) (.p, sample addressing), row 3 unsigned max of t at x + 1000 (.p,
// clamped to the last column).
.visible .entry reduce(.param .u32 w)
{
  .reg .b32 %r<8>;
  mov.u32 %r0, %tid.x;
  ld.param.u32 %r1, [w];
  rem.u32 %r2, %r0, %r1;
  shl.b32 %r3, %r2, 2;
  sured.b.add.2d.u32.trap [surf, {%r3, 0}], 1;
  sub.s32 %r4, %r0, 100;
  sured.b.min.2d.s32.trap [surf, {%r3, 1}], %r4;
  and.b32 %r5, %r0, 31;
  mov.b32 %r6, 1;
  shl.b32 %r6, %r6, %r5;
  sured.p.or.2d.b32.trap [surf, {%r2, 2}], %r6;
  add.s32 %r7, %r2, 1000;
  sured.p.max.2d.b32.clamp [surf, {%r7, 3}], %r0;
  ret;
}

// Formatted stores, one thread per column x of row y = ctaid.x: surf8 (u8 x 4) gets {40x, 300, 7, -5} saturated;
// surfh (half x 2) gets {0.25x, -1.5}.
.visible .entry formatted()
{
  .reg .b32 %r<6>;
  .reg .f32 %f<3>;
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, %ctaid.x;
  mul.lo.s32 %r2, %r0, 40;
  sust.p.2d.v4.b32.trap [surf8, {%r0, %r1}], {%r2, 300, 7, -5};
  cvt.rn.f32.u32 %f0, %r0;
  mul.f32 %f1, %f0, 0f3E800000;
  mov.f32 %f2, 0fBFC00000;
  sust.p.2d.v2.b32.zero [surfh, {%r0, %r1}], {%f1, %f2};
  ret;
}

// surf[x, y] += 1 + x for a W x H int32 surface, one thread per texel.
.visible .entry bump(.param .u32 w, .param .u32 h)
{
  .reg .pred %p;
  .reg .b32 %r<8>;
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, %ctaid.x;
  ld.param.u32 %r2, [w];
  ld.param.u32 %r3, [h];
  setp.ge.u32 %p, %r0, %r2;
  @%p bra DONE;
  shl.b32 %r4, %r0, 2;
  suld.b.2d.b32.trap {%r5}, [surf, {%r4, %r1}];
  add.s32 %r5, %r5, 1;
  add.s32 %r5, %r5, %r0;
  sust.b.2d.b32.trap [surf, {%r4, %r1}], {%r5};
DONE:
  ret;
}
)";

struct Module {
  CUmodule M = nullptr;
  CUfunction Fetch2d = nullptr, FetchOld = nullptr, FetchLin = nullptr, Query = nullptr, Bump = nullptr;
  CUfunction FetchOffset = nullptr, Reduce = nullptr, Formatted = nullptr;
  CUtexref Tex2d = nullptr, TexLin = nullptr, TexOld = nullptr;
  CUsurfref Surf = nullptr, Surf8 = nullptr, SurfH = nullptr;
};

static uint32_t Seed = 12345;
static uint32_t nextRandom() {
  Seed = Seed * 1664525u + 1013904223u;
  return Seed >> 8;
}
static float unit() { return static_cast<float>(nextRandom() & 0xffff) / 65536.0f; } // [0, 1)

static void launch(CUfunction F, unsigned Blocks, unsigned Threads, void **Args, CUstream S = nullptr) {
  CU_CHECK(cuLaunchKernel(F, Blocks, 1, 1, Threads, 1, 1, 0, S, Args, nullptr));
}

// Samples tex2d at N coordinates (Scale wide around the texture) and returns the four channels of each.
static std::vector<float> fetch2d(const Module &Mod, const std::vector<float> &Coords, CUstream S = nullptr,
                                  CUdeviceptr *KeepOut = nullptr) {
  int N = static_cast<int>(Coords.size() / 2);
  CUdeviceptr DC, DO;
  CU_CHECK(cuMemAlloc(&DC, Coords.size() * 4));
  CU_CHECK(cuMemAlloc(&DO, N * 16));
  CU_CHECK(cuMemcpyHtoD(DC, Coords.data(), Coords.size() * 4));
  void *Args[] = {&DC, &DO, &N};
  launch(Mod.Fetch2d, (N + 63) / 64, 64, Args, S);
  std::vector<float> Out(N * 4);
  if (KeepOut) { // the caller reads it later (asynchronous launch)
    *KeepOut = DO;
    return Out;
  }
  CU_CHECK(cuMemcpyDtoH(Out.data(), DO, N * 16));
  CU_CHECK(cuMemFree(DC));
  CU_CHECK(cuMemFree(DO));
  return Out;
}

static std::vector<float> randomCoords(int N, float Lo, float Hi) {
  std::vector<float> C(2 * N);
  for (float &V : C)
    V = Lo + (Hi - Lo) * unit();
  return C;
}

static long compare(const Model &M, const std::vector<float> &Coords, const std::vector<float> &Got,
                    const char *What) {
  long Bad = 0;
  int N = static_cast<int>(Coords.size() / 2);
  for (int I = 0; I < N; ++I) {
    float Want[4];
    M.sample(&Coords[2 * I], 2, Want);
    for (int C = 0; C < 4; ++C)
      if (std::fabs(Got[4 * I + C] - Want[C]) > 1e-5f * (1 + std::fabs(Want[C]))) {
        if (Bad++ < 5)
          std::printf("  MISMATCH %s at (%g, %g) channel %d: got %.8g, want %.8g\n", What, Coords[2 * I],
                      Coords[2 * I + 1], C, Got[4 * I + C], Want[C]);
      }
  }
  return Bad;
}

static CUarray makeFloat4Array(int W, int H, std::vector<float> &Texels, unsigned Flags = 0) {
  Texels.resize(static_cast<size_t>(W) * H * 4);
  for (float &V : Texels)
    V = unit() * 8.0f - 4.0f;
  CUDA_ARRAY3D_DESCRIPTOR D{};
  D.Width = W;
  D.Height = H;
  D.Format = CU_AD_FORMAT_FLOAT;
  D.NumChannels = 4;
  D.Flags = Flags;
  CUarray A;
  CU_CHECK(cuArray3DCreate(&A, &D));
  CUDA_MEMCPY2D C{};
  C.srcMemoryType = CU_MEMORYTYPE_HOST;
  C.srcHost = Texels.data();
  C.srcPitch = W * 16;
  C.dstMemoryType = CU_MEMORYTYPE_ARRAY;
  C.dstArray = A;
  C.WidthInBytes = W * 16;
  C.Height = H;
  CU_CHECK(cuMemcpy2D(&C));
  return A;
}

// Every address mode with point and linear filtering, normalized and unnormalized coordinates, on a float4 array.
static void checkArraySampling(const Module &Mod) {
  std::printf("array sampling through a texture reference\n");
  const int W = 13, H = 9;
  Model M;
  M.W = W, M.H = H, M.Channels = 4;
  CUarray A = makeFloat4Array(W, H, M.Texels);
  CU_CHECK(cuTexRefSetArray(Mod.Tex2d, A, CU_TRSA_OVERRIDE_FORMAT));
  float Border[4] = {0.25f, -0.5f, 1.5f, 2.0f};
  CU_CHECK(cuTexRefSetBorderColor(Mod.Tex2d, Border));
  std::memcpy(M.Border, Border, sizeof(Border));
  const CUaddress_mode Modes[] = {CU_TR_ADDRESS_MODE_WRAP, CU_TR_ADDRESS_MODE_CLAMP, CU_TR_ADDRESS_MODE_MIRROR,
                                  CU_TR_ADDRESS_MODE_BORDER};
  const char *ModeNames[] = {"wrap", "clamp", "mirror", "border"};
  for (int Normalized = 0; Normalized < 2; ++Normalized)
    for (int Mi = 0; Mi < 4; ++Mi)
      for (int Linear = 0; Linear < 2; ++Linear) {
        // Wrap and mirror need normalized coordinates.
        if (!Normalized && (Modes[Mi] == CU_TR_ADDRESS_MODE_WRAP || Modes[Mi] == CU_TR_ADDRESS_MODE_MIRROR))
          continue;
        CUaddress_mode Other = Modes[(Mi + 1) % 4];
        if (!Normalized && (Other == CU_TR_ADDRESS_MODE_WRAP || Other == CU_TR_ADDRESS_MODE_MIRROR))
          Other = CU_TR_ADDRESS_MODE_BORDER;
        CU_CHECK(cuTexRefSetAddressMode(Mod.Tex2d, 0, Modes[Mi]));
        CU_CHECK(cuTexRefSetAddressMode(Mod.Tex2d, 1, Other));
        CU_CHECK(cuTexRefSetFilterMode(Mod.Tex2d, Linear ? CU_TR_FILTER_MODE_LINEAR : CU_TR_FILTER_MODE_POINT));
        CU_CHECK(cuTexRefSetFlags(Mod.Tex2d, Normalized ? CU_TRSF_NORMALIZED_COORDINATES : 0));
        M.Mode[0] = static_cast<cudaTextureAddressMode>(Modes[Mi]);
        M.Mode[1] = static_cast<cudaTextureAddressMode>(Other);
        M.Linear = Linear, M.Normalized = Normalized;
        std::vector<float> Coords = Normalized ? randomCoords(500, -1.5f, 2.5f) : randomCoords(500, -4.0f, 17.0f);
        std::vector<float> Got = fetch2d(Mod, Coords);
        std::string What = std::string(Normalized ? "normalized " : "") + ModeNames[Mi] + "/" +
                           ModeNames[static_cast<int>(Other)] + (Linear ? " linear" : " point");
        expect(compare(M, Coords, Got, What.c_str()) == 0, What + ": 500 lookups match the CPU model");
      }

  // Getters report what was set; the array's format became the reference's.
  CUaddress_mode Am;
  CUfilter_mode Fm;
  unsigned Flags;
  CUarray_format Fmt;
  int Channels;
  CUarray Got;
  float B[4];
  CU_CHECK(cuTexRefGetAddressMode(&Am, Mod.Tex2d, 0));
  CU_CHECK(cuTexRefGetFilterMode(&Fm, Mod.Tex2d));
  CU_CHECK(cuTexRefGetFlags(&Flags, Mod.Tex2d));
  CU_CHECK(cuTexRefGetFormat(&Fmt, &Channels, Mod.Tex2d));
  CU_CHECK(cuTexRefGetArray(&Got, Mod.Tex2d));
  CU_CHECK(cuTexRefGetBorderColor(B, Mod.Tex2d));
  expect(Am == CU_TR_ADDRESS_MODE_BORDER && Fm == CU_TR_FILTER_MODE_LINEAR &&
             Flags == CU_TRSF_NORMALIZED_COORDINATES && Fmt == CU_AD_FORMAT_FLOAT && Channels == 4 && Got == A &&
             std::memcmp(B, Border, sizeof(B)) == 0,
         "getters return the reference's state");
  CUdeviceptr P;
  expect(cuTexRefGetAddress(&P, Mod.Tex2d) == CUDA_ERROR_INVALID_VALUE,
         "cuTexRefGetAddress of an array-bound reference: CUDA_ERROR_INVALID_VALUE");

  // txq through the reference.
  CUdeviceptr DQ;
  CU_CHECK(cuMemAlloc(&DQ, 8));
  void *Args[] = {&DQ};
  launch(Mod.Query, 1, 1, Args);
  uint32_t Q[2];
  CU_CHECK(cuMemcpyDtoH(Q, DQ, 8));
  expect(Q[0] == W && Q[1] == H, "txq.width/height through a .texref: 13 x 9");
  CU_CHECK(cuMemFree(DQ));
  CU_CHECK(cuArrayDestroy(A));
}

// A launch sees the binding of its launch time, not a later one.
static void checkLaunchTimeBinding(const Module &Mod) {
  std::printf("binding read at launch time\n");
  Model M1, M2;
  M1.W = M2.W = 8, M1.H = M2.H = 8, M1.Channels = M2.Channels = 4;
  CUarray A1 = makeFloat4Array(8, 8, M1.Texels), A2 = makeFloat4Array(8, 8, M2.Texels);
  CU_CHECK(cuTexRefSetFilterMode(Mod.Tex2d, CU_TR_FILTER_MODE_POINT));
  CU_CHECK(cuTexRefSetFlags(Mod.Tex2d, 0));
  CU_CHECK(cuTexRefSetAddressMode(Mod.Tex2d, 0, CU_TR_ADDRESS_MODE_CLAMP));
  CU_CHECK(cuTexRefSetAddressMode(Mod.Tex2d, 1, CU_TR_ADDRESS_MODE_CLAMP));
  CU_CHECK(cuTexRefSetArray(Mod.Tex2d, A1, CU_TRSA_OVERRIDE_FORMAT));
  CUstream S;
  CU_CHECK(cuStreamCreate(&S, CU_STREAM_NON_BLOCKING));
  std::vector<float> Coords = randomCoords(4096, 0.0f, 8.0f);
  CUdeviceptr Out1, Out2;
  fetch2d(Mod, Coords, S, &Out1); // queued, possibly not run yet
  CU_CHECK(cuTexRefSetArray(Mod.Tex2d, A2, CU_TRSA_OVERRIDE_FORMAT));
  fetch2d(Mod, Coords, S, &Out2);
  CU_CHECK(cuStreamSynchronize(S));
  std::vector<float> Got1(Coords.size() * 2), Got2(Coords.size() * 2);
  CU_CHECK(cuMemcpyDtoH(Got1.data(), Out1, Got1.size() * 4));
  CU_CHECK(cuMemcpyDtoH(Got2.data(), Out2, Got2.size() * 4));
  expect(compare(M1, Coords, Got1, "first launch") == 0, "the launch before the rebinding read the first array");
  expect(compare(M2, Coords, Got2, "second launch") == 0, "the launch after the rebinding read the second array");
  CU_CHECK(cuStreamDestroy(S));
  CU_CHECK(cuMemFree(Out1));
  CU_CHECK(cuMemFree(Out2));
  CU_CHECK(cuArrayDestroy(A1));
  CU_CHECK(cuArrayDestroy(A2));
}

// tex1Dfetch through cuTexRefSetAddress (int4 elements read as integers, out-of-range indices read 0) and
// normalized-float reads of 8-bit pitched memory through cuTexRefSetAddress2D.
static void checkLinearMemory(const Module &Mod) {
  std::printf("linear and pitch2D memory\n");
  const int N = 100;
  std::vector<int32_t> Data(N * 4);
  for (int32_t &V : Data)
    V = static_cast<int32_t>(nextRandom()) - (1 << 23);
  CUdeviceptr D;
  CU_CHECK(cuMemAlloc(&D, Data.size() * 4));
  CU_CHECK(cuMemcpyHtoD(D, Data.data(), Data.size() * 4));
  CU_CHECK(cuTexRefSetFormat(Mod.TexLin, CU_AD_FORMAT_SIGNED_INT32, 4));
  CU_CHECK(cuTexRefSetFlags(Mod.TexLin, CU_TRSF_READ_AS_INTEGER));
  size_t Offset = 99;
  CU_CHECK(cuTexRefSetAddress(&Offset, Mod.TexLin, D, Data.size() * 4));
  expect(Offset == 0, "cuTexRefSetAddress: byte offset 0");
  CUdeviceptr Back;
  CU_CHECK(cuTexRefGetAddress(&Back, Mod.TexLin));
  expect(Back == D, "cuTexRefGetAddress returns the bound address");
  std::vector<int32_t> Idx(256);
  for (int32_t &I : Idx)
    I = static_cast<int32_t>(nextRandom() % 140) - 20;
  int Count = static_cast<int>(Idx.size());
  CUdeviceptr DI, DO;
  CU_CHECK(cuMemAlloc(&DI, Idx.size() * 4));
  CU_CHECK(cuMemAlloc(&DO, Idx.size() * 16));
  CU_CHECK(cuMemcpyHtoD(DI, Idx.data(), Idx.size() * 4));
  void *Args[] = {&DI, &DO, &Count};
  launch(Mod.FetchLin, 4, 64, Args);
  std::vector<int32_t> Got(Idx.size() * 4);
  CU_CHECK(cuMemcpyDtoH(Got.data(), DO, Got.size() * 4));
  long Bad = 0;
  for (size_t I = 0; I < Idx.size(); ++I)
    for (int C = 0; C < 4; ++C) {
      int32_t Want = Idx[I] >= 0 && Idx[I] < N ? Data[Idx[I] * 4 + C] : 0;
      if (Got[I * 4 + C] != Want && Bad++ < 5)
        std::printf("  MISMATCH fetch %d channel %d: got %d, want %d\n", Idx[I], C, Got[I * 4 + C], Want);
    }
  expect(Bad == 0, "tex1Dfetch through cuTexRefSetAddress: 256 fetches (some out of range) match");

  // Pitch2D: 8-bit unsigned, one channel, read as normalized floats with linear filtering.
  const int W = 21, H = 11;
  CUdeviceptr P;
  size_t Pitch;
  CU_CHECK(cuMemAllocPitch(&P, &Pitch, W, H, 4));
  std::vector<uint8_t> Pix(W * H);
  Model M;
  M.W = W, M.H = H, M.Channels = 1, M.Linear = true;
  for (int I = 0; I < W * H; ++I) {
    Pix[I] = static_cast<uint8_t>(nextRandom());
    M.Texels.push_back(Pix[I] / 255.0f);
  }
  CUDA_MEMCPY2D C{};
  C.srcMemoryType = CU_MEMORYTYPE_HOST;
  C.srcHost = Pix.data();
  C.srcPitch = W;
  C.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  C.dstDevice = P;
  C.dstPitch = Pitch;
  C.WidthInBytes = W;
  C.Height = H;
  CU_CHECK(cuMemcpy2D(&C));
  CUDA_ARRAY_DESCRIPTOR Desc{};
  Desc.Width = W;
  Desc.Height = H;
  Desc.Format = CU_AD_FORMAT_UNSIGNED_INT8;
  Desc.NumChannels = 1;
  CU_CHECK(cuTexRefSetAddress2D(Mod.TexOld, &Desc, P, Pitch));
  CU_CHECK(cuTexRefSetFilterMode(Mod.TexOld, CU_TR_FILTER_MODE_LINEAR));
  CU_CHECK(cuTexRefSetAddressMode(Mod.TexOld, 0, CU_TR_ADDRESS_MODE_CLAMP));
  CU_CHECK(cuTexRefSetAddressMode(Mod.TexOld, 1, CU_TR_ADDRESS_MODE_BORDER));
  std::vector<float> Coords = randomCoords(400, -3.0f, 24.0f);
  int Lookups = 400;
  CUdeviceptr DC, DF;
  CU_CHECK(cuMemAlloc(&DC, Coords.size() * 4));
  CU_CHECK(cuMemAlloc(&DF, Lookups * 4));
  CU_CHECK(cuMemcpyHtoD(DC, Coords.data(), Coords.size() * 4));
  void *Args2[] = {&DC, &DF, &Lookups};
  launch(Mod.FetchOld, (Lookups + 63) / 64, 64, Args2);
  std::vector<float> GotF(Lookups);
  CU_CHECK(cuMemcpyDtoH(GotF.data(), DF, Lookups * 4));
  M.Mode[0] = cudaAddressModeClamp, M.Mode[1] = cudaAddressModeBorder;
  Bad = 0;
  for (int I = 0; I < Lookups; ++I) {
    float Want[4];
    M.sample(&Coords[2 * I], 2, Want);
    if (std::fabs(GotF[I] - Want[0]) > 1e-6f && Bad++ < 5)
      std::printf("  MISMATCH pitch2D at (%g, %g): got %.8g, want %.8g\n", Coords[2 * I], Coords[2 * I + 1], GotF[I],
                  Want[0]);
  }
  expect(Bad == 0, "u8 pitch2D through cuTexRefSetAddress2D: linear filtering of normalized reads matches");
  for (CUdeviceptr F : {D, DI, DO, P, DC, DF})
    CU_CHECK(cuMemFree(F));
}

static void checkSurfaceReference(const Module &Mod) {
  std::printf("surface reference\n");
  const int W = 17, H = 5;
  CUDA_ARRAY3D_DESCRIPTOR D{};
  D.Width = W;
  D.Height = H;
  D.Format = CU_AD_FORMAT_SIGNED_INT32;
  D.NumChannels = 1;
  CUarray Plain;
  CU_CHECK(cuArray3DCreate(&Plain, &D));
  expect(cuSurfRefSetArray(Mod.Surf, Plain, 0) == CUDA_ERROR_INVALID_VALUE,
         "cuSurfRefSetArray on an array without CUDA_ARRAY3D_SURFACE_LDST: CUDA_ERROR_INVALID_VALUE");
  D.Flags = CUDA_ARRAY3D_SURFACE_LDST;
  CUarray A;
  CU_CHECK(cuArray3DCreate(&A, &D));
  std::vector<int32_t> V(W * H);
  for (int32_t &X : V)
    X = static_cast<int32_t>(nextRandom() % 1000);
  CU_CHECK(cuMemcpyHtoA(A, 0, V.data(), V.size() * 4));
  CU_CHECK(cuSurfRefSetArray(Mod.Surf, A, 0));
  CUarray Back;
  CU_CHECK(cuSurfRefGetArray(&Back, Mod.Surf));
  expect(Back == A, "cuSurfRefGetArray returns the bound array");
  unsigned UW = W, UH = H;
  void *Args[] = {&UW, &UH};
  launch(Mod.Bump, H, 32, Args);
  std::vector<int32_t> Got(W * H);
  CU_CHECK(cuMemcpyAtoH(Got.data(), A, 0, Got.size() * 4));
  long Bad = 0;
  for (int Y = 0; Y < H; ++Y)
    for (int X = 0; X < W; ++X)
      if (Got[Y * W + X] != V[Y * W + X] + 1 + X && Bad++ < 5)
        std::printf("  MISMATCH surface (%d, %d): got %d, want %d\n", X, Y, Got[Y * W + X], V[Y * W + X] + 1 + X);
  expect(Bad == 0, "suld/sust through a .surfref: every texel incremented");
  CU_CHECK(cuArrayDestroy(A));
  CU_CHECK(cuArrayDestroy(Plain));
}

// tex with texel offsets: the same as sampling at the coordinates moved by the offsets (unnormalized coordinates).
static void checkOffsets(const Module &Mod) {
  std::printf("texel offsets\n");
  const int W = 11, H = 7;
  Model M;
  M.W = W, M.H = H, M.Channels = 4;
  CUarray A = makeFloat4Array(W, H, M.Texels);
  CU_CHECK(cuTexRefSetArray(Mod.Tex2d, A, CU_TRSA_OVERRIDE_FORMAT));
  CU_CHECK(cuTexRefSetFlags(Mod.Tex2d, 0));
  for (int Linear = 0; Linear < 2; ++Linear) {
    CU_CHECK(cuTexRefSetFilterMode(Mod.Tex2d, Linear ? CU_TR_FILTER_MODE_LINEAR : CU_TR_FILTER_MODE_POINT));
    CU_CHECK(cuTexRefSetAddressMode(Mod.Tex2d, 0, CU_TR_ADDRESS_MODE_BORDER));
    CU_CHECK(cuTexRefSetAddressMode(Mod.Tex2d, 1, CU_TR_ADDRESS_MODE_CLAMP));
    M.Mode[0] = cudaAddressModeBorder, M.Mode[1] = cudaAddressModeClamp, M.Linear = Linear;
    for (float &B : M.Border)
      B = 0;
    float Zero[4] = {0, 0, 0, 0};
    CU_CHECK(cuTexRefSetBorderColor(Mod.Tex2d, Zero));
    std::vector<float> Coords = randomCoords(300, -3.0f, 14.0f);
    int N = 300;
    CUdeviceptr DC, DO;
    CU_CHECK(cuMemAlloc(&DC, Coords.size() * 4));
    CU_CHECK(cuMemAlloc(&DO, N * 16));
    CU_CHECK(cuMemcpyHtoD(DC, Coords.data(), Coords.size() * 4));
    void *Args[] = {&DC, &DO, &N};
    launch(Mod.FetchOffset, (N + 63) / 64, 64, Args);
    std::vector<float> Got(N * 4);
    CU_CHECK(cuMemcpyDtoH(Got.data(), DO, N * 16));
    std::vector<float> Moved(Coords);
    for (int I = 0; I < N; ++I)
      Moved[2 * I] += 2, Moved[2 * I + 1] -= 1;
    expect(compare(M, Moved, Got, Linear ? "offset linear" : "offset point") == 0,
           std::string("tex with offsets {2, -1}, ") + (Linear ? "linear" : "point") + ": 300 lookups match");
    CU_CHECK(cuMemFree(DC));
    CU_CHECK(cuMemFree(DO));
  }
  CU_CHECK(cuArrayDestroy(A));
}

static CUarray surfaceArray(int W, int H, CUarray_format F, unsigned Channels) {
  CUDA_ARRAY3D_DESCRIPTOR D{};
  D.Width = W;
  D.Height = H;
  D.Format = F;
  D.NumChannels = Channels;
  D.Flags = CUDA_ARRAY3D_SURFACE_LDST;
  CUarray A;
  CU_CHECK(cuArray3DCreate(&A, &D));
  return A;
}

// sured from 256 threads at once: the results must be those of atomic reductions.
static void checkSurfaceReductions(const Module &Mod) {
  std::printf("surface reductions\n");
  const int W = 10, H = 4, Threads = 256;
  CUarray A = surfaceArray(W, H, CU_AD_FORMAT_SIGNED_INT32, 1);
  std::vector<int32_t> Init(W * H);
  for (int32_t &V : Init)
    V = static_cast<int32_t>(nextRandom() % 50);
  CU_CHECK(cuMemcpyHtoA(A, 0, Init.data(), Init.size() * 4));
  CU_CHECK(cuSurfRefSetArray(Mod.Surf, A, 0));
  unsigned UW = W;
  void *Args[] = {&UW};
  launch(Mod.Reduce, 1, Threads, Args);
  std::vector<int32_t> Got(W * H), Want(Init);
  CU_CHECK(cuMemcpyAtoH(Got.data(), A, 0, Got.size() * 4));
  for (int T = 0; T < Threads; ++T) {
    int X = T % W;
    Want[X] += 1;
    Want[W + X] = std::min(Want[W + X], T - 100);
    Want[2 * W + X] |= 1 << (T % 32);
    Want[3 * W + W - 1] = static_cast<int32_t>(std::max<uint32_t>(Want[3 * W + W - 1], T));
  }
  long Bad = 0;
  for (int I = 0; I < W * H; ++I)
    if (Got[I] != Want[I] && Bad++ < 5)
      std::printf("  MISMATCH reduction (%d, %d): got %d, want %d\n", I % W, I / W, Got[I], Want[I]);
  expect(Bad == 0, "sured.b add/min and sured.p or/max (clamped) from 256 threads: atomic results");
  CU_CHECK(cuArrayDestroy(A));
}

static float halfBitsToFloat(uint16_t H) { // normal numbers and zero only, which is all the test stores
  int E = (H >> 10) & 31, M = H & 1023;
  float V = E == 0 ? 0.0f : std::ldexp(1.0f + M / 1024.0f, E - 15);
  return H & 0x8000 ? -V : V;
}

// sust.p converts 32-bit words to the surface's format: integers saturate, floats round to half.
static void checkFormattedStores(const Module &Mod) {
  std::printf("formatted surface stores\n");
  const int W = 9, H = 3;
  CUarray A8 = surfaceArray(W, H, CU_AD_FORMAT_UNSIGNED_INT8, 4);
  CUarray AH = surfaceArray(W, H, CU_AD_FORMAT_HALF, 2);
  CU_CHECK(cuSurfRefSetArray(Mod.Surf8, A8, 0));
  CU_CHECK(cuSurfRefSetArray(Mod.SurfH, AH, 0));
  launch(Mod.Formatted, H, W, nullptr);
  std::vector<uint8_t> Got8(W * H * 4);
  std::vector<uint16_t> GotH(W * H * 2);
  CU_CHECK(cuMemcpyAtoH(Got8.data(), A8, 0, Got8.size()));
  CU_CHECK(cuMemcpyAtoH(GotH.data(), AH, 0, GotH.size() * 2));
  long Bad = 0;
  for (int Y = 0; Y < H; ++Y)
    for (int X = 0; X < W; ++X) {
      const uint8_t *P = &Got8[(Y * W + X) * 4];
      int Want[4] = {std::min(40 * X, 255), 255, 7, 255}; // -5 as .u32 is 4294967291: saturates to 255
      for (int C = 0; C < 4; ++C)
        if (P[C] != Want[C] && Bad++ < 5)
          std::printf("  MISMATCH u8 (%d, %d)[%d]: got %d, want %d\n", X, Y, C, P[C], Want[C]);
      float F0 = halfBitsToFloat(GotH[(Y * W + X) * 2]), F1 = halfBitsToFloat(GotH[(Y * W + X) * 2 + 1]);
      if ((F0 != 0.25f * X || F1 != -1.5f) && Bad++ < 5)
        std::printf("  MISMATCH half (%d, %d): got %g %g, want %g -1.5\n", X, Y, F0, F1, 0.25f * X);
    }
  expect(Bad == 0, "sust.p to u8x4 (saturated) and half2 (rounded) surfaces");
  CU_CHECK(cuArrayDestroy(A8));
  CU_CHECK(cuArrayDestroy(AH));
}

static void checkErrors(const Module &Mod) {
  std::printf("error codes and created references\n");
  CUtexref R;
  expect(cuModuleGetTexRef(&R, Mod.M, "nosuch") == CUDA_ERROR_NOT_FOUND, "unknown texture reference: NOT_FOUND");
  expect(cuModuleGetTexRef(&R, Mod.M, "surf") == CUDA_ERROR_NOT_FOUND, "a .surfref asked as texture: NOT_FOUND");
  CUsurfref SR;
  expect(cuModuleGetSurfRef(&SR, Mod.M, "tex2d") == CUDA_ERROR_NOT_FOUND, "a .texref asked as surface: NOT_FOUND");
  CU_CHECK(cuModuleGetTexRef(&R, Mod.M, "tex2d"));
  expect(R == Mod.Tex2d, "cuModuleGetTexRef returns the same reference each time");
  expect(cuTexRefSetAddressMode(Mod.Tex2d, 3, CU_TR_ADDRESS_MODE_CLAMP) == CUDA_ERROR_INVALID_VALUE,
         "cuTexRefSetAddressMode dimension 3: INVALID_VALUE");
  expect(cuTexRefSetFilterMode(Mod.Tex2d, static_cast<CUfilter_mode>(7)) == CUDA_ERROR_INVALID_VALUE,
         "cuTexRefSetFilterMode 7: INVALID_VALUE");
  expect(cuTexRefDestroy(Mod.Tex2d) == CUDA_ERROR_INVALID_VALUE, "cuTexRefDestroy of a module's reference fails");

  CUtexref Own;
  CU_CHECK(cuTexRefCreate(&Own));
  CU_CHECK(cuTexRefSetMipmapLevelClamp(Own, 0.5f, 3.0f));
  CU_CHECK(cuTexRefSetMipmapLevelBias(Own, -1.25f));
  CU_CHECK(cuTexRefSetMaxAnisotropy(Own, 4));
  CU_CHECK(cuTexRefSetFormat(Own, CU_AD_FORMAT_HALF, 2));
  float Lo, Hi, Bias;
  int Aniso, Ch;
  CUarray_format Fmt;
  CUaddress_mode Am;
  CU_CHECK(cuTexRefGetMipmapLevelClamp(&Lo, &Hi, Own));
  CU_CHECK(cuTexRefGetMipmapLevelBias(&Bias, Own));
  CU_CHECK(cuTexRefGetMaxAnisotropy(&Aniso, Own));
  CU_CHECK(cuTexRefGetFormat(&Fmt, &Ch, Own));
  CU_CHECK(cuTexRefGetAddressMode(&Am, Own, 2));
  expect(Lo == 0.5f && Hi == 3.0f && Bias == -1.25f && Aniso == 4 && Fmt == CU_AD_FORMAT_HALF && Ch == 2 &&
             Am == CU_TR_ADDRESS_MODE_CLAMP,
         "a created reference keeps its state (default address mode clamp)");
  CUarray None;
  expect(cuTexRefGetArray(&None, Own) == CUDA_ERROR_INVALID_VALUE, "cuTexRefGetArray of an unbound reference fails");
  CU_CHECK(cuTexRefDestroy(Own));
  expect(cuTexRefGetFlags(reinterpret_cast<unsigned *>(&Ch), Own) == CUDA_ERROR_INVALID_VALUE,
         "a destroyed reference is no longer valid");
}

// Texturing forms cuda_shim does not implement fail at module load with CUDA_ERROR_INVALID_PTX and a message naming
// the instruction and its line.
static void checkUnsupportedForms() {
  std::printf("unsupported forms fail loudly\n");
  struct Case {
    const char *What, *Body, *Needle;
  } Cases[] = {
      {"independent-mode tex (texture + sampler)",
       ".global .texref t;\n.global .samplerref s;\n.visible .entry k(.param .u64 o)\n{\n  .reg .f32 %f<6>;\n"
       "  mov.f32 %f0, 0f00000000;\n  tex.2d.v4.f32.f32 {%f1, %f2, %f3, %f4}, [t, s, {%f0, %f0}];\n  ret;\n}\n",
       ":10:"},
      {"depth compare",
       ".global .texref t;\n.visible .entry k(.param .u64 o)\n{\n  .reg .f32 %f<6>;\n  mov.f32 %f0, 0f00000000;\n"
       "  tex.2d.v4.f32.f32 {%f1, %f2, %f3, %f4}, [t, {%f0, %f0}], {0, 0}, %f0;\n  ret;\n}\n",
       ":9:"},
      {"formatted surface load (suld.p, no longer in the ISA)",
       ".global .surfref s;\n.visible .entry k(.param .u64 o)\n{\n  .reg .b32 %r<6>;\n  mov.b32 %r0, 0;\n"
       "  suld.p.2d.v4.b32.trap {%r1, %r2, %r3, %r4}, [s, {%r0, %r0}];\n  ret;\n}\n",
       ":9:"},
  };
  for (const Case &C : Cases) {
    std::string Src = std::string(".version 8.0\n.target sm_80\n.address_size 64\n") + C.Body;
    char Log[1024] = {0};
    CUjit_option Opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *Vals[] = {Log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof(Log)))};
    CUmodule M;
    CUresult E = cuModuleLoadDataEx(&M, Src.c_str(), 2, Opts, Vals);
    bool Ok = E == CUDA_ERROR_INVALID_PTX && std::strstr(Log, C.Needle) &&
              (std::strstr(Log, "tex.") || std::strstr(Log, "suld."));
    if (!Ok)
      std::printf("  got %d, log: %s\n", static_cast<int>(E), Log);
    expect(Ok, std::string(C.What) + ": CUDA_ERROR_INVALID_PTX naming the instruction and line");
    if (E == CUDA_SUCCESS)
      cuModuleUnload(M);
  }
}

int main() {
  CU_CHECK(cuInit(0));
  CUdevice Dev;
  CU_CHECK(cuDeviceGet(&Dev, 0));
  CUcontext Ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx, Dev));
  CU_CHECK(cuCtxSetCurrent(Ctx));
  Module Mod;
  CU_CHECK(cuModuleLoadData(&Mod.M, Ptx));
  CU_CHECK(cuModuleGetFunction(&Mod.Fetch2d, Mod.M, "fetch2d"));
  CU_CHECK(cuModuleGetFunction(&Mod.FetchOld, Mod.M, "fetchold"));
  CU_CHECK(cuModuleGetFunction(&Mod.FetchLin, Mod.M, "fetchlin"));
  CU_CHECK(cuModuleGetFunction(&Mod.Query, Mod.M, "query"));
  CU_CHECK(cuModuleGetFunction(&Mod.Bump, Mod.M, "bump"));
  CU_CHECK(cuModuleGetTexRef(&Mod.Tex2d, Mod.M, "tex2d"));
  CU_CHECK(cuModuleGetTexRef(&Mod.TexLin, Mod.M, "texlin"));
  CU_CHECK(cuModuleGetTexRef(&Mod.TexOld, Mod.M, "texold"));
  CU_CHECK(cuModuleGetSurfRef(&Mod.Surf, Mod.M, "surf"));
  CU_CHECK(cuModuleGetSurfRef(&Mod.Surf8, Mod.M, "surf8"));
  CU_CHECK(cuModuleGetSurfRef(&Mod.SurfH, Mod.M, "surfh"));
  CU_CHECK(cuModuleGetFunction(&Mod.FetchOffset, Mod.M, "fetchoffset"));
  CU_CHECK(cuModuleGetFunction(&Mod.Reduce, Mod.M, "reduce"));
  CU_CHECK(cuModuleGetFunction(&Mod.Formatted, Mod.M, "formatted"));

  checkArraySampling(Mod);
  checkLaunchTimeBinding(Mod);
  checkLinearMemory(Mod);
  checkSurfaceReference(Mod);
  checkOffsets(Mod);
  checkSurfaceReductions(Mod);
  checkFormattedStores(Mod);
  checkErrors(Mod);
  checkUnsupportedForms();

  CU_CHECK(cuModuleUnload(Mod.M));
  CU_CHECK(cuDevicePrimaryCtxRelease(Dev));
  std::printf("%s: %d failure(s)\n", Failures ? "FAILED" : "PASSED", Failures);
  return Failures ? 1 : 0;
}
