// End-to-end: __constant__ and __device__ globals through cudaMemcpyToSymbol / cudaMemcpyFromSymbol (with offsets and
// every copy kind), cudaGetSymbolAddress, cudaGetSymbolSize, static initializers and an array of structs.
#include "e2e_common.h"

#include <cstring>
#include <vector>

struct Particle {
  float X, Y, Z;
  int Id;
};

__constant__ float CCoeffs[16];
__constant__ Particle CParticles[8];
__constant__ int CInit[4] = {11, 22, 33, 44};
__device__ int DInit = 42;
__device__ int DCounter;
__device__ float DTable[64];
__device__ Particle DOut[8];
__device__ double DScalar;

// Evaluates the polynomial with coefficients CCoeffs at X (Horner, highest degree first).
__global__ void evalPoly(const float *X, float *Y, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I >= N)
    return;
  float Acc = 0.0f;
  for (int C = 0; C < 16; ++C)
    Acc = Acc * X[I] + CCoeffs[C];
  Y[I] = Acc;
}

__global__ void transformParticles(float Scale) {
  int I = threadIdx.x;
  if (I >= 8)
    return;
  Particle P = CParticles[I];
  DOut[I] = Particle{P.X * Scale, P.Y + 1.0f, -P.Z, P.Id + 100 + CInit[I % 4]};
}

__global__ void countAndTable(int Add) {
  atomicAdd(&DCounter, 1);
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < 64)
    DTable[I] = DTable[I] * 2.0f + static_cast<float>(Add + DInit);
}

// Writes through a pointer obtained with cudaGetSymbolAddress: the symbol and the pointer must alias.
__global__ void writeThrough(double *P, double V) { *P = V; }

static float hornerRef(const float *Coeffs, float X) {
  float Acc = 0.0f;
  for (int C = 0; C < 16; ++C)
    Acc = std::fmaf(Acc, X, Coeffs[C]); // nvcc contracts the device loop to fma.rn.f32
  return Acc;
}

int main() {
  int Failures = 0;

  // Symbol sizes.
  {
    e2e::Mismatches M("cudaGetSymbolSize");
    size_t Size = 0;
    E2E_CHECK(cudaGetSymbolSize(&Size, CCoeffs));
    M.intAt(0, Size, 16 * sizeof(float));
    E2E_CHECK(cudaGetSymbolSize(&Size, CParticles));
    M.intAt(1, Size, 8 * sizeof(Particle));
    E2E_CHECK(cudaGetSymbolSize(&Size, DCounter));
    M.intAt(2, Size, sizeof(int));
    E2E_CHECK(cudaGetSymbolSize(&Size, DScalar));
    M.intAt(3, Size, sizeof(double));
    Failures += M.report() ? 0 : 1;
  }

  // Static initializers are visible without any copy.
  {
    e2e::Mismatches M("static initializers (CInit, DInit)");
    int Init[4] = {};
    int D = 0;
    E2E_CHECK(cudaMemcpyFromSymbol(Init, CInit, sizeof(Init)));
    E2E_CHECK(cudaMemcpyFromSymbol(&D, DInit, sizeof(D)));
    for (int I = 0; I < 4; ++I)
      M.intAt(I, Init[I], 11 * (I + 1));
    M.intAt(4, D, 42);
    Failures += M.report() ? 0 : 1;
  }

  // Full copy then an offset copy into the middle of a __constant__ array, checked by reading back and by a kernel.
  {
    float Coeffs[16];
    for (int I = 0; I < 16; ++I)
      Coeffs[I] = 0.125f * static_cast<float>(I % 5) - 0.25f;
    E2E_CHECK(cudaMemcpyToSymbol(CCoeffs, Coeffs, sizeof(Coeffs)));
    float Patch[4] = {1.5f, -2.0f, 0.0625f, 3.0f};
    E2E_CHECK(cudaMemcpyToSymbol(CCoeffs, Patch, sizeof(Patch), 8 * sizeof(float), cudaMemcpyHostToDevice));
    std::memcpy(Coeffs + 8, Patch, sizeof(Patch));

    e2e::Mismatches M("CCoeffs offset copy + read back");
    float Back[16];
    E2E_CHECK(cudaMemcpyFromSymbol(Back, CCoeffs, sizeof(Back)));
    for (int I = 0; I < 16; ++I)
      M.realAt(I, Back[I], Coeffs[I], 0, 0);
    // Offset read: 3 floats starting at element 7.
    float Part[3];
    E2E_CHECK(cudaMemcpyFromSymbol(Part, CCoeffs, sizeof(Part), 7 * sizeof(float), cudaMemcpyDeviceToHost));
    for (int I = 0; I < 3; ++I)
      M.realAt(100 + I, Part[I], Coeffs[7 + I], 0, 0);
    Failures += M.report() ? 0 : 1;

    const int N = 1000;
    std::vector<float> X(N), Y(N);
    for (int I = 0; I < N; ++I)
      X[I] = -1.0f + 2.0f * static_cast<float>(I) / N;
    float *DX, *DY;
    E2E_CHECK(cudaMalloc(&DX, N * sizeof(float)));
    E2E_CHECK(cudaMalloc(&DY, N * sizeof(float)));
    E2E_CHECK(cudaMemcpy(DX, X.data(), N * sizeof(float), cudaMemcpyHostToDevice));
    evalPoly<<<(N + 127) / 128, 128>>>(DX, DY, N);
    E2E_CHECK_LAUNCH();
    E2E_CHECK(cudaMemcpy(Y.data(), DY, N * sizeof(float), cudaMemcpyDeviceToHost));
    e2e::Mismatches K("evalPoly reading __constant__ coefficients");
    for (int I = 0; I < N; ++I)
      K.realAt(I, Y[I], hornerRef(Coeffs, X[I]), 1e-5, 1e-5);
    Failures += K.report() ? 0 : 1;
    E2E_CHECK(cudaFree(DX));
    E2E_CHECK(cudaFree(DY));
  }

  // Array of structs in constant memory in, array of structs in a __device__ global out.
  {
    Particle Ps[8];
    for (int I = 0; I < 8; ++I)
      Ps[I] = Particle{static_cast<float>(I) * 0.5f, static_cast<float>(-I), 1.0f / (I + 1), I * 3};
    E2E_CHECK(cudaMemcpyToSymbol(CParticles, Ps, sizeof(Ps)));
    transformParticles<<<1, 32>>>(4.0f);
    E2E_CHECK_LAUNCH();
    Particle Out[8];
    E2E_CHECK(cudaMemcpyFromSymbol(Out, DOut, sizeof(Out)));
    e2e::Mismatches M("struct array CParticles -> DOut");
    for (int I = 0; I < 8; ++I) {
      M.realAt(4 * I + 0, Out[I].X, Ps[I].X * 4.0f, 0, 0);
      M.realAt(4 * I + 1, Out[I].Y, Ps[I].Y + 1.0f, 0, 0);
      M.realAt(4 * I + 2, Out[I].Z, -Ps[I].Z, 0, 0);
      M.intAt(4 * I + 3, Out[I].Id, Ps[I].Id + 100 + 11 * (I % 4 + 1));
    }
    // One struct read back at an offset.
    Particle Third;
    E2E_CHECK(cudaMemcpyFromSymbol(&Third, DOut, sizeof(Particle), 3 * sizeof(Particle)));
    M.intAt(99, Third.Id, Out[3].Id);
    Failures += M.report() ? 0 : 1;
  }

  // __device__ globals: atomic counter, a table written through cudaGetSymbolAddress + cudaMemcpy.
  {
    int Zero = 0;
    E2E_CHECK(cudaMemcpyToSymbol(DCounter, &Zero, sizeof(int)));
    float *TablePtr = nullptr;
    E2E_CHECK(cudaGetSymbolAddress(reinterpret_cast<void **>(&TablePtr), DTable));
    float Table[64];
    for (int I = 0; I < 64; ++I)
      Table[I] = static_cast<float>(I) - 10.0f;
    E2E_CHECK(cudaMemcpy(TablePtr, Table, sizeof(Table), cudaMemcpyHostToDevice));
    countAndTable<<<5, 100>>>(3);
    E2E_CHECK_LAUNCH();
    int Counter = 0;
    E2E_CHECK(cudaMemcpyFromSymbol(&Counter, DCounter, sizeof(int)));
    float Back[64];
    E2E_CHECK(cudaMemcpyFromSymbol(Back, DTable, sizeof(Back)));
    e2e::Mismatches M("DCounter atomics + DTable via cudaGetSymbolAddress");
    M.intAt(-1, Counter, 500);
    for (int I = 0; I < 64; ++I)
      M.realAt(I, Back[I], Table[I] * 2.0f + 45.0f, 0, 0);
    // Offset copy out of the middle of the table, then a device-to-device copy into the symbol from a buffer.
    float Mid[10];
    E2E_CHECK(cudaMemcpyFromSymbol(Mid, DTable, sizeof(Mid), 10 * sizeof(float)));
    for (int I = 0; I < 10; ++I)
      M.realAt(200 + I, Mid[I], Back[10 + I], 0, 0);
    float *DBuf;
    float Fill[4] = {7.0f, 8.0f, 9.0f, 10.0f};
    E2E_CHECK(cudaMalloc(&DBuf, sizeof(Fill)));
    E2E_CHECK(cudaMemcpy(DBuf, Fill, sizeof(Fill), cudaMemcpyHostToDevice));
    E2E_CHECK(cudaMemcpyToSymbol(DTable, DBuf, sizeof(Fill), 60 * sizeof(float), cudaMemcpyDeviceToDevice));
    float Tail[4];
    E2E_CHECK(cudaMemcpy(Tail, TablePtr + 60, sizeof(Tail), cudaMemcpyDeviceToHost));
    for (int I = 0; I < 4; ++I)
      M.realAt(300 + I, Tail[I], Fill[I], 0, 0);
    // And from the symbol into a device buffer.
    E2E_CHECK(cudaMemcpyFromSymbol(DBuf, DTable, sizeof(Fill), 0, cudaMemcpyDeviceToDevice));
    E2E_CHECK(cudaMemcpy(Tail, DBuf, sizeof(Tail), cudaMemcpyDeviceToHost));
    for (int I = 0; I < 4; ++I)
      M.realAt(400 + I, Tail[I], Back[I], 0, 0);
    E2E_CHECK(cudaFree(DBuf));
    Failures += M.report() ? 0 : 1;
  }

  // A kernel writing through the symbol's address; read back through the symbol.
  {
    double *P = nullptr;
    E2E_CHECK(cudaGetSymbolAddress(reinterpret_cast<void **>(&P), DScalar));
    writeThrough<<<1, 1>>>(P, 3.25);
    E2E_CHECK_LAUNCH();
    double V = 0;
    E2E_CHECK(cudaMemcpyFromSymbol(&V, DScalar, sizeof(V)));
    e2e::Mismatches M("DScalar written through its address");
    M.realAt(0, V, 3.25, 0, 0);
    Failures += M.report() ? 0 : 1;
  }

  return e2e::finish("symbols", Failures);
}
