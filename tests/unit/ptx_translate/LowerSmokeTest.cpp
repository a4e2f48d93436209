// Lowering smoke tests on PTX emitted by nvcc -O3 (data/lower/kernels.cu): saxpy, a shared-memory tree reduction
// with __syncthreads in a loop, a tiled matmul and a device-function call with a warp shuffle and printf.
// Each runs on the JIT with host threads and is checked against a CPU reference.
#include "LowerTestHarness.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace lowertest;

namespace {

std::string readData(const std::string &Name) {
  std::ifstream In(std::string(CUSHIM_PTX_TEST_DATA) + "/lower/" + Name);
  std::stringstream S;
  S << In.rdbuf();
  return S.str();
}

Jit &kernels() {
  static Jit J;
  static std::string Err = J.load(readData("kernels_sm80.ptx"));
  INFO(Err);
  REQUIRE(Err.empty());
  return J;
}

} // namespace

TEST_CASE("nvcc saxpy runs", "[ptx][lower][smoke]") {
  Jit &J = kernels();
  const auto *KI = J.kernel("_Z5saxpyifPKfPf");
  REQUIRE(KI);
  CHECK(KI->ParamSize == 24);
  CHECK(KI->Params[1].Offset == 4);
  CHECK(KI->Params[2].Offset == 8);
  CHECK(KI->Flags == 0);
  CHECK(KI->StaticSharedSize == 0);
  const int N = 1000;
  std::vector<float> X(N), Y(N), Ref(N);
  for (int I = 0; I < N; ++I) {
    X[I] = 0.5f * I;
    Y[I] = 1.0f - I;
    Ref[I] = std::fma(X[I], 2.5f, Y[I]);
  }
  ParamBuffer P;
  P.add(N).add(2.5f).add(X.data()).add(Y.data());
  REQUIRE(J.run("_Z5saxpyifPKfPf", {4, 1, 1}, {256, 1, 1}, P.data()));
  CHECK(Y == Ref);
}

TEST_CASE("nvcc shared-memory reduction runs", "[ptx][lower][smoke]") {
  Jit &J = kernels();
  const auto *KI = J.kernel("_Z6reducePKfPfi");
  REQUIRE(KI);
  CHECK(KI->StaticSharedSize == 1024); // only its own 1 KiB array, not matmul's
  CHECK(KI->Flags == CUSHIM_HAL_KERNEL_USES_BARRIERS);
  const int N = 3000;
  std::vector<float> In(N);
  double Ref = 0;
  for (int I = 0; I < N; ++I) {
    In[I] = float(I % 7);
    Ref += In[I];
  }
  float Out = 0;
  ParamBuffer P;
  P.add(In.data()).add(&Out).add(N);
  unsigned Blocks = (N + 2 * 256 - 1) / (2 * 256);
  REQUIRE(J.run("_Z6reducePKfPfi", {Blocks, 1, 1}, {256, 1, 1}, P.data()));
  CHECK(Out == float(Ref));
}

TEST_CASE("nvcc tiled matmul runs", "[ptx][lower][smoke]") {
  Jit &J = kernels();
  const auto *KI = J.kernel("_Z6matmulPKfS0_Pfi");
  REQUIRE(KI);
  CHECK(KI->StaticSharedSize == 2048);
  const int N = 40;
  std::vector<float> A(N * N), B(N * N), C(N * N, -1), Ref(N * N);
  for (int I = 0; I < N * N; ++I) {
    A[I] = float(I % 5) - 2;
    B[I] = float(I % 3) * 0.5f;
  }
  for (int R = 0; R < N; ++R)
    for (int Cc = 0; Cc < N; ++Cc) {
      float Acc = 0;
      for (int K = 0; K < N; ++K)
        Acc = std::fma(A[R * N + K], B[K * N + Cc], Acc);
      Ref[R * N + Cc] = Acc;
    }
  ParamBuffer P;
  P.add(A.data()).add(B.data()).add(C.data()).add(N);
  unsigned G = (N + 15) / 16;
  REQUIRE(J.run("_Z6matmulPKfS0_Pfi", {G, G, 1}, {16, 16, 1}, P.data()));
  CHECK(C == Ref);
}

TEST_CASE("nvcc device-function call with shuffle and printf runs", "[ptx][lower][smoke]") {
  Jit &J = kernels();
  const auto *KI = J.kernel("_Z5callsPiii");
  REQUIRE(KI);
  CHECK((KI->Flags & CUSHIM_HAL_KERNEL_USES_WARP_OPS) != 0);
  std::vector<int32_t> Out(32, 0);
  for (int A : {5, 99}) {
    int Before = PrintfCalls.load();
    ParamBuffer P;
    P.add(Out.data()).add(A).add(3);
    REQUIRE(J.run("_Z5callsPiii", {1, 1, 1}, {32, 1, 1}, P.data()));
    for (int L = 0; L < 32; ++L) {
      int X = A + L;
      int Shfl = L + 1 <= 31 ? X + 1 : X;
      CHECK(Out[L] == X / 3 + Shfl);
    }
    CHECK(PrintfCalls.load() - Before == (A == 99 ? 32 : 0));
  }
  CHECK(J.IR.find("@__cushim_extern_vprintf") != std::string::npos);
  CHECK(J.IR.find("define internal void @__cushim_func__Z6helperii") != std::string::npos);
}

TEST_CASE("module globals, initializers and dynamic shared memory", "[ptx][lower][exec]") {
  std::string Ptx = PtxHeader + R"(
.global .align 4 .u32 table[4] = {10, 20, 30, 40};
.global .align 8 .u64 ptrs[2] = {generic(table), table+8};
.const .align 4 .f32 scale = 0f40000000;
.extern .shared .align 16 .b8 dyn[];
.shared .align 4 .u32 counter;

.func (.param .b32 ret) twice(.param .b32 x)
{
  .reg .b32 %r<3>;
  ld.param.b32 %r1, [x];
  shl.b32 %r2, %r1, 1;
  st.param.b32 [ret], %r2;
  ret;
}

.visible .entry g(.param .u64 out)
{
  .reg .b32 %r<10>;
  .reg .b64 %rd<10>;
  .reg .f32 %f<3>;
  ld.param.u64 %rd1, [out];
  ld.global.u64 %rd2, [ptrs+8];
  ld.u32 %r1, [%rd2];
  ld.const.f32 %f1, [scale];
  mov.u32 %r2, dyn;
  st.shared.u32 [dyn+4], %r1;
  ld.shared.u32 %r3, [%r2+4];
  mov.u32 %r4, counter;
  st.shared.u32 [counter], 7;
  mov.u64 %rd3, dyn;
  cvta.shared.u64 %rd4, %rd3;
  ld.u32 %r5, [%rd4+4];
  {
    .param .b32 p0;
    .param .b32 r0;
    st.param.b32 [p0], %r5;
    call.uni (r0), twice, (p0);
    ld.param.b32 %r6, [r0];
  }
  cvt.rzi.u32.f32 %r7, %f1;
  st.global.v4.u32 [%rd1], {%r1, %r3, %r6, %r7};
  st.global.v2.u32 [%rd1+16], {%r2, %r4};
  ret;
}
)";
  Jit J;
  std::string Err = J.load(Ptx);
  INFO(Err);
  REQUIRE(Err.empty());
  const auto *KI = J.kernel("g");
  REQUIRE(KI);
  CHECK(KI->StaticSharedSize == 16); // counter, rounded up to the dynamic alignment
  REQUIRE(J.Globals.size() == 3);
  CHECK(J.Globals[0].Name == "table");
  CHECK(J.Globals[0].Size == 16);
  CHECK(J.Globals[2].Space == cushim::ptx::StateSpace::Const);
  CHECK(J.symbol("table") != nullptr);
  std::vector<uint32_t> Out(6, 0);
  ParamBuffer P;
  P.add(Out.data());
  REQUIRE(J.run("g", {1, 1, 1}, {1, 1, 1}, P.data(), 64));
  CHECK(Out == std::vector<uint32_t>{30, 30, 60, 2, 16, 0});
}

TEST_CASE("recursion and indirect calls through memory", "[ptx][lower][exec]") {
  std::string Ptx = PtxHeader + R"(
.func (.param .b32 ret) fact(.param .b32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  ld.param.b32 %r1, [n];
  setp.le.s32 %p1, %r1, 1;
  @%p1 bra $Lbase;
  add.s32 %r2, %r1, -1;
  {
    .param .b32 param0;
    st.param.b32 [param0], %r2;
    .param .b32 retval0;
    call.uni (retval0), fact, (param0);
    ld.param.b32 %r3, [retval0];
  }
  mul.lo.s32 %r4, %r3, %r1;
  st.param.b32 [ret], %r4;
  ret;
$Lbase:
  st.param.b32 [ret], 1;
  ret;
}

.visible .entry k(.param .u64 out, .param .u32 n)
{
  .reg .b32 %r<6>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  ld.param.u32 %r1, [n];
  mov.u64 %rd2, fact;
  {
    .param .b32 param0;
    st.param.b32 [param0], %r1;
    .param .b32 retval0;
    prototype_0 : .callprototype (.param .b32 _) _ (.param .b32 _);
    call (retval0), %rd2, (param0), prototype_0;
    ld.param.b32 %r2, [retval0];
  }
  st.global.u32 [%rd1], %r2;
  ret;
}
)";
  Jit J;
  std::string Err = J.load(Ptx);
  INFO(Err);
  REQUIRE(Err.empty());
  uint32_t Out = 0;
  ParamBuffer P;
  P.add(&Out).add(uint32_t(6));
  REQUIRE(J.run("k", {1, 1, 1}, {1, 1, 1}, P.data()));
  CHECK(Out == 720);
}
