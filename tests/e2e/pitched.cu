// Pitched and 3D memory and CUDA arrays through the copy engine: cudaMallocPitch/Malloc3D, cudaMemcpy2D/3D (+Async)
// in every direction with sub-rectangles, cudaMemset2D/3D, array copies (2D, 3D, array-to-array), cudaArrayGetInfo,
// the driver's cuMemAllocPitch/cuMemcpy2D/3D/cuMemsetD2D*, and the documented errors for bad pitches and operands.
#include "e2e_common.h"

#include <cuda.h>

#include <cstring>
#include <vector>

using e2e::expect;
using e2e::expectCode;

// Adds Delta to every int of a Width x Height region of pitched memory.
__global__ void addPitched(int *Base, size_t Pitch, int Width, int Height, int Delta) {
  int X = blockIdx.x * blockDim.x + threadIdx.x, Y = blockIdx.y * blockDim.y + threadIdx.y;
  if (X < Width && Y < Height)
    reinterpret_cast<int *>(reinterpret_cast<char *>(Base) + Y * Pitch)[X] += Delta;
}

// Writes x + 100*y + 10000*z into a 3D pitched float volume.
__global__ void fillVolume(cudaPitchedPtr P, int W, int H, int D) {
  int X = blockIdx.x * blockDim.x + threadIdx.x, Y = blockIdx.y, Z = blockIdx.z;
  if (X < W && Y < H && Z < D)
    reinterpret_cast<float *>(static_cast<char *>(P.ptr) + (Z * P.ysize + Y) * P.pitch)[X] = X + 100.0f * Y + 10000.0f * Z;
}

static void check2D() {
  std::printf("2D pitched copies\n");
  const int W = 37, H = 23;
  int *D = nullptr;
  size_t Pitch = 0;
  E2E_CHECK(cudaMallocPitch(reinterpret_cast<void **>(&D), &Pitch, W * sizeof(int), H));
  expect(Pitch >= W * sizeof(int) && Pitch % 32 == 0, "cudaMallocPitch pitch covers the row and is aligned");

  std::vector<int> Host(W * H), Back(W * H, -1);
  e2e::Rng R(7);
  for (int &V : Host)
    V = static_cast<int>(R.next() % 100000);
  E2E_CHECK(cudaMemcpy2D(D, Pitch, Host.data(), W * sizeof(int), W * sizeof(int), H, cudaMemcpyHostToDevice));
  addPitched<<<dim3(2, 3), dim3(32, 8)>>>(D, Pitch, W, H, 5);
  E2E_CHECK_LAUNCH();
  E2E_CHECK(cudaMemcpy2D(Back.data(), W * sizeof(int), D, Pitch, W * sizeof(int), H, cudaMemcpyDeviceToHost));
  e2e::Mismatches M1("H2D, kernel on pitched rows, D2H");
  for (int I = 0; I < W * H; ++I)
    M1.intAt(I, Back[I], Host[I] + 5);
  expect(M1.report(), "2D round trip");

  // Device-to-device sub-rectangle: 10x7 ints from (3, 4) of D to (20, 1) of E (E zeroed with cudaMemset2D).
  int *E = nullptr;
  size_t PitchE = 0;
  E2E_CHECK(cudaMallocPitch(reinterpret_cast<void **>(&E), &PitchE, 40 * sizeof(int), 30));
  E2E_CHECK(cudaMemset2D(E, PitchE, 0, 40 * sizeof(int), 30));
  E2E_CHECK(cudaMemcpy2D(reinterpret_cast<char *>(E) + PitchE + 20 * sizeof(int), PitchE,
                         reinterpret_cast<char *>(D) + 4 * Pitch + 3 * sizeof(int), Pitch, 10 * sizeof(int), 7,
                         cudaMemcpyDeviceToDevice));
  // A memset2D of bytes 0x7f over a 3x2 int rectangle at (0, 0) of E.
  E2E_CHECK(cudaMemset2D(E, PitchE, 0x7f, 3 * sizeof(int), 2));
  std::vector<int> EB(40 * 30);
  E2E_CHECK(cudaMemcpy2D(EB.data(), 40 * sizeof(int), E, PitchE, 40 * sizeof(int), 30, cudaMemcpyDefault));
  e2e::Mismatches M2("D2D sub-rectangle and memset2D");
  for (int Y = 0; Y < 30; ++Y)
    for (int X = 0; X < 40; ++X) {
      int Want = 0;
      if (X < 3 && Y < 2)
        Want = 0x7f7f7f7f;
      else if (X >= 20 && X < 30 && Y >= 1 && Y < 8)
        Want = Host[(Y - 1 + 4) * W + (X - 20 + 3)] + 5;
      M2.intAt(Y * 40 + X, EB[Y * 40 + X], Want);
    }
  expect(M2.report(), "sub-rectangles");

  // Host-to-host with pitches, and an async copy from pageable memory into pinned memory through the device.
  std::vector<int> HH(8 * 5, 0);
  E2E_CHECK(cudaMemcpy2D(HH.data(), 8 * sizeof(int), Host.data(), W * sizeof(int), 4 * sizeof(int), 5,
                         cudaMemcpyHostToHost));
  bool HostOk = true;
  for (int Y = 0; Y < 5; ++Y)
    for (int X = 0; X < 8; ++X)
      HostOk = HostOk && HH[Y * 8 + X] == (X < 4 ? Host[Y * W + X] : 0);
  expect(HostOk, "host-to-host 2D copy keeps the destination's other columns");

  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  std::vector<int> Src(W * H);
  for (int I = 0; I < W * H; ++I)
    Src[I] = I * 3;
  int *Pinned = nullptr;
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Pinned), W * H * sizeof(int)));
  E2E_CHECK(cudaMemcpy2DAsync(D, Pitch, Src.data(), W * sizeof(int), W * sizeof(int), H, cudaMemcpyHostToDevice, S));
  std::fill(Src.begin(), Src.end(), -1); // the async copy staged the pageable source before returning
  E2E_CHECK(cudaMemcpy2DAsync(Pinned, W * sizeof(int), D, Pitch, W * sizeof(int), H, cudaMemcpyDeviceToHost, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  bool AsyncOk = true;
  for (int I = 0; I < W * H; ++I)
    AsyncOk = AsyncOk && Pinned[I] == I * 3;
  expect(AsyncOk, "cudaMemcpy2DAsync H2D (pageable source) then D2H into pinned memory");
  E2E_CHECK(cudaFreeHost(Pinned));
  E2E_CHECK(cudaStreamDestroy(S));

  // Errors.
  expectCode(cudaMemcpy2D(D, 4, Host.data(), W * sizeof(int), W * sizeof(int), H, cudaMemcpyHostToDevice),
             cudaErrorInvalidPitchValue, "destination pitch smaller than the width");
  expectCode(cudaMemcpy2D(D, Pitch, Host.data(), 8, W * sizeof(int), H, cudaMemcpyHostToDevice),
             cudaErrorInvalidPitchValue, "source pitch smaller than the width");
  expectCode(cudaMemcpy2D(D, Pitch, Host.data(), W * sizeof(int), W * sizeof(int), H, static_cast<cudaMemcpyKind>(7)),
             cudaErrorInvalidMemcpyDirection, "invalid copy direction");
  expectCode(cudaMemset2D(D, 4, 0, 8, 2), cudaErrorInvalidValue, "cudaMemset2D with pitch < width");
  expectCode(cudaGetLastError(), cudaErrorInvalidValue, "the last error is the memset's");
  E2E_CHECK(cudaFree(D));
  E2E_CHECK(cudaFree(E));
}

static void check3D() {
  std::printf("3D pitched copies\n");
  const int W = 19, H = 6, Dd = 5;
  cudaPitchedPtr P;
  E2E_CHECK(cudaMalloc3D(&P, make_cudaExtent(W * sizeof(float), H, Dd)));
  expect(P.pitch >= W * sizeof(float) && P.xsize == W * sizeof(float) && P.ysize == H, "cudaMalloc3D pitched pointer");
  E2E_CHECK(cudaMemset3D(P, 0, make_cudaExtent(W * sizeof(float), H, Dd)));
  fillVolume<<<dim3(1, H, Dd), 32>>>(P, W, H, Dd);
  E2E_CHECK_LAUNCH();
  // memset3D of a sub-box: bytes 0xff over x [0, 2) floats, rows [0, 3), slices [0, 2) -> NaN patterns.
  E2E_CHECK(cudaMemset3D(P, 0xff, make_cudaExtent(2 * sizeof(float), 3, 2)));

  // Copy the sub-box x [4, 12), y [1, 5), z [2, 5) to a packed host buffer (a cudaPitchedPtr over host memory).
  const int BW = 8, BH = 4, BD = 3;
  std::vector<float> Box(BW * BH * BD, -1.0f);
  cudaMemcpy3DParms C = {};
  C.srcPtr = P;
  C.srcPos = make_cudaPos(4 * sizeof(float), 1, 2);
  C.dstPtr = make_cudaPitchedPtr(Box.data(), BW * sizeof(float), BW, BH);
  C.extent = make_cudaExtent(BW * sizeof(float), BH, BD);
  C.kind = cudaMemcpyDeviceToHost;
  E2E_CHECK(cudaMemcpy3D(&C));
  e2e::Mismatches M("3D sub-box D2H");
  for (int Z = 0; Z < BD; ++Z)
    for (int Y = 0; Y < BH; ++Y)
      for (int X = 0; X < BW; ++X)
        M.realAt((Z * BH + Y) * BW + X, Box[(Z * BH + Y) * BW + X], (X + 4) + 100.0f * (Y + 1) + 10000.0f * (Z + 2),
                 0, 0);
  expect(M.report(), "cudaMemcpy3D sub-box");

  // Full volume back, checking the memset3D corner and the rest.
  std::vector<uint32_t> All(W * H * Dd);
  C = {};
  C.srcPtr = P;
  C.dstPtr = make_cudaPitchedPtr(All.data(), W * sizeof(float), W, H);
  C.extent = make_cudaExtent(W * sizeof(float), H, Dd);
  C.kind = cudaMemcpyDefault;
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  E2E_CHECK(cudaMemcpy3DAsync(&C, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaStreamDestroy(S));
  e2e::Mismatches M2("memset3D corner + volume");
  for (int Z = 0; Z < Dd; ++Z)
    for (int Y = 0; Y < H; ++Y)
      for (int X = 0; X < W; ++X) {
        float F = X + 100.0f * Y + 10000.0f * Z;
        uint32_t Want;
        std::memcpy(&Want, &F, 4);
        if (X < 2 && Y < 3 && Z < 2)
          Want = 0xffffffffu;
        M2.intAt((Z * H + Y) * W + X, All[(Z * H + Y) * W + X], Want);
      }
  expect(M2.report(), "cudaMemcpy3DAsync full volume");

  // NVIDIA's runtime looks the array up before anything else: a dead handle is reported as such.
  C.srcArray = reinterpret_cast<cudaArray_t>(1);
  expectCode(cudaMemcpy3D(&C), cudaErrorInvalidResourceHandle, "cudaMemcpy3D with a dead srcArray and srcPtr");
  (void)cudaGetLastError();
  cudaChannelFormatDesc One = cudaCreateChannelDesc<float>();
  cudaArray_t Live = nullptr;
  E2E_CHECK(cudaMallocArray(&Live, &One, 4, 4));
  C.srcArray = Live; // both srcArray and srcPtr
  C.extent = make_cudaExtent(1, 1, 1);
  expectCode(cudaMemcpy3D(&C), cudaErrorInvalidValue, "cudaMemcpy3D with both srcArray and srcPtr");
  (void)cudaGetLastError();
  E2E_CHECK(cudaFreeArray(Live));
  E2E_CHECK(cudaFree(P.ptr));
}

static void checkArrays() {
  std::printf("CUDA arrays\n");
  const int W = 13, H = 9;
  cudaChannelFormatDesc Desc = cudaCreateChannelDesc<short2>();
  cudaArray_t A, B;
  E2E_CHECK(cudaMallocArray(&A, &Desc, W, H));
  E2E_CHECK(cudaMallocArray(&B, &Desc, W, H, cudaArraySurfaceLoadStore));
  cudaChannelFormatDesc Got;
  cudaExtent Ext;
  unsigned Flags = 99;
  E2E_CHECK(cudaArrayGetInfo(&Got, &Ext, &Flags, B));
  expect(Got.x == 16 && Got.y == 16 && Got.z == 0 && Got.w == 0 && Got.f == cudaChannelFormatKindSigned,
         "cudaArrayGetInfo channel descriptor");
  expect(Ext.width == W && Ext.height == H && Ext.depth == 0 && Flags == cudaArraySurfaceLoadStore,
         "cudaArrayGetInfo extent and flags");

  std::vector<short2> Host(W * H), Back(W * H);
  for (int I = 0; I < W * H; ++I)
    Host[I] = make_short2(static_cast<short>(I), static_cast<short>(-I));
  E2E_CHECK(cudaMemcpy2DToArray(A, 0, 0, Host.data(), W * sizeof(short2), W * sizeof(short2), H,
                                cudaMemcpyHostToDevice));
  // B = A shifted: B(x+2, y+1) = A(x, y) for a 5x4 block, via array-to-array.
  E2E_CHECK(cudaMemcpy2DArrayToArray(B, 2 * sizeof(short2), 1, A, 0, 0, 5 * sizeof(short2), 4,
                                     cudaMemcpyDeviceToDevice));
  std::vector<short2> BB(W * H, make_short2(0, 0));
  E2E_CHECK(cudaMemcpy2DToArray(B, 0, 0, BB.data(), W * sizeof(short2), W * sizeof(short2), 1,
                                cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemcpy2DFromArray(Back.data(), W * sizeof(short2), A, 0, 0, W * sizeof(short2), H,
                                  cudaMemcpyDeviceToHost));
  bool Ok = true;
  for (int I = 0; I < W * H; ++I)
    Ok = Ok && Back[I].x == Host[I].x && Back[I].y == Host[I].y;
  expect(Ok, "cudaMemcpy2DToArray / FromArray round trip");
  E2E_CHECK(cudaMemcpy2DFromArray(BB.data(), W * sizeof(short2), B, 0, 0, W * sizeof(short2), H,
                                  cudaMemcpyDeviceToHost));
  Ok = true;
  for (int Y = 1; Y < H; ++Y) // row 0 was overwritten with zeros
    for (int X = 2; X < 7 && Y < 5; ++X)
      Ok = Ok && BB[Y * W + X].x == Host[(Y - 1) * W + X - 2].x;
  expect(Ok && BB[0].x == 0, "cudaMemcpy2DArrayToArray block");
  expectCode(cudaMemcpy2DToArray(A, 10 * sizeof(short2), 0, Host.data(), W * sizeof(short2), 4 * sizeof(short2), 1,
                                 cudaMemcpyHostToDevice),
             cudaErrorInvalidValue, "copy past the array's width");
  (void)cudaGetLastError(); // clear the expected error before the next launch check

  // A 3D array filled from pitched device memory through cudaMemcpy3D, read back to the host.
  const int X3 = 6, Y3 = 5, Z3 = 4;
  cudaChannelFormatDesc FD = cudaCreateChannelDesc<float>();
  cudaArray_t V;
  E2E_CHECK(cudaMalloc3DArray(&V, &FD, make_cudaExtent(X3, Y3, Z3)));
  cudaPitchedPtr P;
  E2E_CHECK(cudaMalloc3D(&P, make_cudaExtent(X3 * sizeof(float), Y3, Z3)));
  fillVolume<<<dim3(1, Y3, Z3), 32>>>(P, X3, Y3, Z3);
  E2E_CHECK_LAUNCH();
  cudaMemcpy3DParms C = {};
  C.srcPtr = P;
  C.dstArray = V;
  C.extent = make_cudaExtent(X3, Y3, Z3); // elements, since an array takes part
  C.kind = cudaMemcpyDeviceToDevice;
  E2E_CHECK(cudaMemcpy3D(&C));
  std::vector<float> Vol(2 * 3 * 2);
  C = {};
  C.srcArray = V;
  C.srcPos = make_cudaPos(3, 1, 2);
  C.dstPtr = make_cudaPitchedPtr(Vol.data(), 2 * sizeof(float), 2, 3);
  C.extent = make_cudaExtent(2, 3, 2);
  C.kind = cudaMemcpyDeviceToHost;
  E2E_CHECK(cudaMemcpy3D(&C));
  Ok = true;
  for (int Z = 0; Z < 2; ++Z)
    for (int Y = 0; Y < 3; ++Y)
      for (int X = 0; X < 2; ++X)
        Ok = Ok && Vol[(Z * 3 + Y) * 2 + X] == (X + 3) + 100.0f * (Y + 1) + 10000.0f * (Z + 2);
  expect(Ok, "cudaMemcpy3D pitched -> 3D array -> host sub-box");
  E2E_CHECK(cudaFree(P.ptr));
  E2E_CHECK(cudaFreeArray(V));
  E2E_CHECK(cudaFreeArray(A));
  E2E_CHECK(cudaFreeArray(B));

  cudaChannelFormatDesc Three = cudaCreateChannelDesc(32, 32, 32, 0, cudaChannelFormatKindFloat);
  expectCode(cudaMallocArray(&A, &Three, 4, 4), cudaErrorInvalidChannelDescriptor, "three-channel arrays are rejected");
  (void)cudaGetLastError();
}

static void checkDriver() {
  std::printf("driver API pitched memory\n");
  CUdeviceptr D;
  size_t Pitch = 0;
  expect(cuMemAllocPitch(&D, &Pitch, 100, 10, 4) == CUDA_SUCCESS && Pitch >= 100, "cuMemAllocPitch");
  expect(cuMemAllocPitch(&D, &Pitch, 100, 10, 3) == CUDA_ERROR_INVALID_VALUE, "cuMemAllocPitch element size 3");
  expect(cuMemsetD2D32(D, Pitch, 0xdeadbeefu, 25, 10) == CUDA_SUCCESS, "cuMemsetD2D32");
  expect(cuMemsetD2D16(D + Pitch * 2 + 8, Pitch, 0x1234, 3, 2) == CUDA_SUCCESS, "cuMemsetD2D16");
  std::vector<uint32_t> Host(25 * 10);
  CUDA_MEMCPY2D C = {};
  C.srcMemoryType = CU_MEMORYTYPE_DEVICE;
  C.srcDevice = D;
  C.srcPitch = Pitch;
  C.dstMemoryType = CU_MEMORYTYPE_HOST;
  C.dstHost = Host.data();
  C.dstPitch = 25 * 4;
  C.WidthInBytes = 25 * 4;
  C.Height = 10;
  expect(cuMemcpy2D(&C) == CUDA_SUCCESS, "cuMemcpy2D device -> host");
  bool Ok = true;
  for (int Y = 0; Y < 10; ++Y)
    for (int X = 0; X < 25; ++X) {
      uint32_t Want = 0xdeadbeefu;
      if ((Y == 2 || Y == 3) && X == 2)
        Want = 0x12341234u;
      if ((Y == 2 || Y == 3) && X == 3)
        Want = 0xdead1234u; // the third 16-bit value covers the low half of int 3 (little endian)
      Ok = Ok && Host[Y * 25 + X] == Want;
    }
  expect(Ok, "cuMemsetD2D32/16 patterns");

  // cuMemcpy3D from host into the middle of the pitched allocation treated as 2 slices of 5 rows.
  std::vector<uint32_t> Src(3 * 2 * 2);
  for (size_t I = 0; I < Src.size(); ++I)
    Src[I] = static_cast<uint32_t>(I + 1);
  CUDA_MEMCPY3D C3 = {};
  C3.srcMemoryType = CU_MEMORYTYPE_HOST;
  C3.srcHost = Src.data();
  C3.srcPitch = 3 * 4;
  C3.srcHeight = 2;
  C3.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  C3.dstDevice = D;
  C3.dstXInBytes = 4 * 4;
  C3.dstY = 1;
  C3.dstPitch = Pitch;
  C3.dstHeight = 5;
  C3.WidthInBytes = 3 * 4;
  C3.Height = 2;
  C3.Depth = 2;
  expect(cuMemcpy3D(&C3) == CUDA_SUCCESS, "cuMemcpy3D host -> device");
  expect(cuMemcpy2D(&C) == CUDA_SUCCESS, "cuMemcpy2D back");
  Ok = true;
  for (int Z = 0; Z < 2; ++Z)
    for (int Y = 0; Y < 2; ++Y)
      for (int X = 0; X < 3; ++X)
        Ok = Ok && Host[(Z * 5 + Y + 1) * 25 + X + 4] == Src[(Z * 2 + Y) * 3 + X];
  expect(Ok, "cuMemcpy3D slices land ysize rows apart");
  C.dstPitch = 4;
  expect(cuMemcpy2D(&C) == CUDA_ERROR_INVALID_VALUE, "cuMemcpy2D with a pitch smaller than the width");
  expect(cuMemFree(D) == CUDA_SUCCESS, "cuMemFree of a pitched allocation");
}

int main() {
  E2E_CHECK(cudaFree(nullptr)); // initialise the runtime (and the driver with it)
  check2D();
  check3D();
  checkArrays();
  checkDriver();
  return e2e::finish("pitched", e2e::Failures);
}
